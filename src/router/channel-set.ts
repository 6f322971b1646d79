import { Observable, Subject, Subscription, type Observer } from 'rxjs'
import type { Channel } from '../transport/types'
import { RoutingTable } from './routing-table'

export interface PeerEvent {
  type: 'up' | 'down'
  /** The remote peer's id (the explorer formats it as 12 hex for its users). */
  peer: number
  /** For 'up': the set-up already told both ends what a Hello would (overlay signalling carries it): none is needed. */
  introduced?: boolean
}

/** What the handshake of a channel already exchanged (see OverlaySignalling): the remote's ring state, and ours told to it. */
export interface Introduction {
  remoteJoined: boolean
}

/** Where a peer's inbound frames go, one call per frame (the router). */
export type InboundHandler = (from: number, bytes: Uint8Array) => void

/**
 * One adopted channel. It is its own subscriber to the channel's frames: an
 * Observer that is also a Subscription, which rxjs hands frames to as it is
 * (no SafeSubscriber wrapped around it, nothing between a frame and the
 * router). One object per channel, no closures: a simulation holds
 * hundreds of thousands.
 */
class Entry extends Subscription implements Observer<Uint8Array> {
  /** The remote is in the ring: we may route other peers' frames through it. */
  routable = false
  /** The link carries traffic now (Channel.health$); routing skips it while not. */
  healthy = true
  lastUsed: number
  readonly openedAt: number

  constructor(
    private readonly set: ChannelSet,
    readonly remote: number,
    readonly channel: Channel,
    /** Who opened it: when both ends dial at once, both keep the one the lower id opened. */
    readonly initiator: number,
    now: number,
  ) {
    super()
    this.lastUsed = this.openedAt = now
  }

  next(bytes: Uint8Array): void {
    if (this.closed) return
    this.lastUsed = this.set.now()
    this.set.receive(this.remote, bytes)
  }

  error(): void {
    this.complete()
  }

  complete(): void {
    if (this.closed) return
    this.unsubscribe()
    this.set.ended(this)
  }
}

/**
 * The direct channels of one peer: at most one per remote, every frame handed
 * to one inbound handler (the router's pipeline), and the routable subset kept
 * as a RoutingTable.
 */
export class ChannelSet {
  readonly routing = new RoutingTable()
  private readonly entries = new Map<number, Entry>()
  private readonly events = new Subject<PeerEvent>()
  readonly events$: Observable<PeerEvent> = this.events.asObservable()
  private readonly health = new Subject<{ peer: number; healthy: boolean }>()
  /** A channel's health changed (Channel.health$): the ring may renew its path (src/ring/ice-restarts.ts). */
  readonly health$: Observable<{ peer: number; healthy: boolean }> = this.health.asObservable()
  /** Frames are plain calls from channel to router: the hottest path of a simulation, and an rxjs Subject per frame cost a tenth of it. */
  private handler: InboundHandler | null = null

  constructor(
    private readonly self: number,
    /** The clock of the peer's scheduler. */
    readonly now: () => number,
  ) {}

  /** Every inbound frame goes to `handler` (one at a time: the router). Frames that arrive with none set are dropped. */
  onInbound(handler: InboundHandler | null): void {
    this.handler = handler
  }

  /** From an Entry: a frame arrived on its channel. */
  receive(from: number, bytes: Uint8Array): void {
    this.handler?.(from, bytes)
  }

  /** From an Entry: its channel closed. */
  ended(entry: Entry): void {
    if (this.entries.get(entry.remote) === entry) this.remove(entry)
  }

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
   * Returns whether the new channel was kept. With an `introduction` the
   * remote's ring state is known already: it is routable at once if joined,
   * and the 'up' event says no Hello is needed.
   */
  add(channel: Channel, initiator: number, introduction?: Introduction): boolean {
    const remote = channel.remoteId
    const existing = this.entries.get(remote)
    if (existing) {
      // A direct channel beats a relayed link, whoever opened either.
      if (existing.channel.relayed === true && channel.relayed !== true) return this.replace(channel, initiator)
      if (channel.relayed === true && existing.channel.relayed !== true) {
        channel.close()
        return false
      }
      const winner = Math.min(this.self, remote)
      if (existing.initiator === winner || initiator !== winner) {
        channel.close()
        return false
      }
      this.remove(existing)
    }
    const entry = new Entry(this, remote, channel, initiator, this.now())
    this.entries.set(remote, entry)
    channel.frames$.subscribe(entry)
    // A channel that closed while we subscribed has removed its entry already.
    if (this.entries.get(remote) !== entry) {
      entry.unsubscribe()
      return false
    }
    if (channel.health$) entry.add(channel.health$.subscribe((healthy) => this.setHealthy(entry, healthy)))
    if (introduction?.remoteJoined) this.setRoutable(remote, true)
    this.events.next({ type: 'up', peer: remote, introduced: introduction !== undefined })
    return this.entries.get(remote) === entry
  }

  /**
   * Puts `channel` in the place of the one we hold to its remote, telling
   * nobody (no 'down', no 'up': the ring keeps the remote as its successor,
   * predecessor or finger) and keeping whether the remote is routable: a
   * relayed link giving way to a direct channel, or renewed. The old channel
   * closes. With nothing to replace, it is added.
   */
  replace(channel: Channel, initiator: number): boolean {
    const remote = channel.remoteId
    const existing = this.entries.get(remote)
    if (!existing) return this.add(channel, initiator)
    const entry = new Entry(this, remote, channel, initiator, this.now())
    entry.routable = existing.routable
    this.entries.set(remote, entry)
    existing.unsubscribe()
    existing.channel.close()
    channel.frames$.subscribe(entry)
    if (this.entries.get(remote) !== entry) {
      entry.unsubscribe()
      return false
    }
    if (channel.health$) entry.add(channel.health$.subscribe((healthy) => this.setHealthy(entry, healthy)))
    this.updateRouting(entry)
    return true
  }

  setRoutable(remote: number, routable: boolean): void {
    const entry = this.entries.get(remote)
    if (!entry || entry.routable === routable) return
    entry.routable = routable
    this.updateRouting(entry)
  }

  /** In the ring and healthy: frames for others may go through it. */
  isRoutable(remote: number): boolean {
    const entry = this.entries.get(remote)
    return entry !== undefined && entry.routable && entry.healthy
  }

  /** A channel to `remote` that carries traffic now (open and healthy). */
  carries(remote: number): boolean {
    return this.entries.get(remote)?.healthy ?? false
  }

  private setHealthy(entry: Entry, healthy: boolean): void {
    if (entry.healthy === healthy || this.entries.get(entry.remote) !== entry) return
    entry.healthy = healthy
    this.updateRouting(entry)
    this.health.next({ peer: entry.remote, healthy })
  }

  private updateRouting(entry: Entry): void {
    if (entry.routable && entry.healthy) this.routing.add(entry.remote)
    else this.routing.remove(entry.remote)
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
    if (entry) this.remove(entry)
  }

  closeAll(): void {
    for (const entry of [...this.entries.values()]) this.remove(entry)
    this.handler = null
    this.events.complete()
    this.health.complete()
  }

  private remove(entry: Entry): void {
    const remote = entry.remote
    this.entries.delete(remote)
    this.routing.remove(remote)
    entry.unsubscribe()
    entry.channel.close()
    this.events.next({ type: 'down', peer: remote })
  }
}
