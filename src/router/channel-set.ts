import { Observable, Subject, Subscription } from 'rxjs'
import type { Channel } from '../transport/types'
import { RoutingTable } from './routing-table'

export interface PeerEvent {
  type: 'up' | 'down'
  /** The remote peer's id, 12 hex. */
  id: string
  /** Numeric form of `id`, for internal use. */
  peer: number
}

export interface InboundFrame {
  from: number
  bytes: Uint8Array
}

interface Entry {
  channel: Channel
  /** Who opened it: when both ends dial at once, both keep the one the lower id opened. */
  initiator: number
  /** The remote is in the ring: we may route other peers' frames through it. */
  routable: boolean
  lastUsed: number
  openedAt: number
  subscription: Subscription
}

/**
 * The direct channels of one peer: at most one per remote, all frames merged
 * into one inbound stream, and the routable subset kept as a RoutingTable.
 */
export class ChannelSet {
  readonly routing = new RoutingTable()
  private readonly entries = new Map<number, Entry>()
  private readonly inbound = new Subject<InboundFrame>()
  private readonly events = new Subject<PeerEvent>()
  readonly inbound$: Observable<InboundFrame> = this.inbound.asObservable()
  readonly events$: Observable<PeerEvent> = this.events.asObservable()

  constructor(
    private readonly self: number,
    /** The clock of the peer's scheduler. */
    readonly now: () => number,
    private readonly formatId: (id: number) => string,
  ) {}

  get size(): number {
    return this.entries.size
  }

  has(remote: number): boolean {
    return this.entries.has(remote)
  }

  remotes(): number[] {
    return [...this.entries.keys()]
  }

  /**
   * Adopts a freshly opened channel. If one to the same remote exists, the
   * one opened by the lower id wins on both ends, so both close the same one.
   * Returns whether the new channel was kept.
   */
  add(channel: Channel, initiator: number): boolean {
    const remote = channel.remoteId
    const existing = this.entries.get(remote)
    if (existing) {
      const winner = Math.min(this.self, remote)
      if (existing.initiator === winner || initiator !== winner) {
        channel.close()
        return false
      }
      this.remove(remote, existing)
    }
    const entry: Entry = { channel, initiator, routable: false, lastUsed: this.now(), openedAt: this.now(), subscription: new Subscription() }
    this.entries.set(remote, entry)
    entry.subscription = channel.frames$.subscribe({
      next: (bytes) => {
        entry.lastUsed = this.now()
        this.inbound.next({ from: remote, bytes })
      },
      complete: () => {
        if (this.entries.get(remote) === entry) this.remove(remote, entry)
      },
    })
    if (this.entries.get(remote) === entry) this.events.next({ type: 'up', id: this.formatId(remote), peer: remote })
    return this.entries.get(remote) === entry
  }

  setRoutable(remote: number, routable: boolean): void {
    const entry = this.entries.get(remote)
    if (!entry || entry.routable === routable) return
    entry.routable = routable
    if (routable) this.routing.add(remote)
    else this.routing.remove(remote)
  }

  isRoutable(remote: number): boolean {
    return this.entries.get(remote)?.routable ?? false
  }

  send(remote: number, bytes: Uint8Array): boolean {
    const entry = this.entries.get(remote)
    if (!entry) return false
    entry.lastUsed = this.now()
    return entry.channel.send(bytes)
  }

  channel(remote: number): Channel | undefined {
    return this.entries.get(remote)?.channel
  }

  lastUsed(remote: number): number | undefined {
    return this.entries.get(remote)?.lastUsed
  }

  openedAt(remote: number): number | undefined {
    return this.entries.get(remote)?.openedAt
  }

  close(remote: number): void {
    const entry = this.entries.get(remote)
    if (entry) this.remove(remote, entry)
  }

  closeAll(): void {
    for (const [remote, entry] of [...this.entries]) this.remove(remote, entry)
    this.inbound.complete()
    this.events.complete()
  }

  private remove(remote: number, entry: Entry): void {
    this.entries.delete(remote)
    this.routing.remove(remote)
    entry.subscription.unsubscribe()
    entry.channel.close()
    this.events.next({ type: 'down', id: this.formatId(remote), peer: remote })
  }
}
