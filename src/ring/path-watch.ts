import { Observable, type SchedulerLike } from 'rxjs'
import type { Channel, SignalPort, Transport } from '../transport/types'
import type { UnreachablePeers } from './unreachable-peers'

/**
 * A Transport that tells the UnreachablePeers what its handshakes show: a
 * channel that opened (the peer is reachable), or an attempt that heard from
 * the remote (it is alive and its signals reach us) yet opened nothing
 * within `noPathAfterMs`: no direct path between us. An attempt that ended
 * sooner (a glare lost, another candidate was faster, a malformed signal)
 * proves nothing.
 * It also says, for `relayAfterMs` decisions, whether an attempt still
 * running has heard from its remote.
 */
export class PathWatch implements Transport {
  readonly cheapOffers?: boolean
  /** The inner transport's (what its signal proofs bind). */
  readonly bindingOf: (signal: unknown) => string | null
  /** Attempts in progress that heard from their remote, by remote. */
  private readonly answered = new Map<number, number>()

  constructor(
    private readonly inner: Transport,
    private readonly unreachable: UnreachablePeers,
    private readonly scheduler: SchedulerLike,
    private readonly noPathAfterMs: number,
  ) {
    this.cheapOffers = inner.cheapOffers
    this.bindingOf = (signal) => inner.bindingOf(signal)
  }

  /** Whether an attempt to `remote` in progress has heard from it (its signals reach us, no channel yet). */
  heardFrom(remote: number): boolean {
    return this.answered.has(remote)
  }

  connect(remoteId: number | null, port: SignalPort): Observable<Channel> {
    return this.watch(remoteId, port, false, (p) => this.inner.connect(remoteId, p))
  }

  accept(remoteId: number, port: SignalPort): Observable<Channel> {
    // The offer on the port came from the remote: it is alive, whatever happens next.
    return this.watch(remoteId, port, true, (p) => this.inner.accept(remoteId, p))
  }

  private watch(remoteId: number | null, port: SignalPort, heardAtStart: boolean, start: (port: SignalPort) => Observable<Channel>): Observable<Channel> {
    return new Observable<Channel>((subscriber) => {
      const startedAt = this.scheduler.now()
      const remote = (): number | null => remoteId ?? port.remote?.() ?? null
      let heard = false
      let opened = false
      const hear = (): void => {
        const peer = remote()
        if (heard || peer === null) return
        heard = true
        this.answered.set(peer, (this.answered.get(peer) ?? 0) + 1)
      }
      if (heardAtStart) hear()
      const watched: SignalPort = {
        ...port,
        signals$: new Observable<unknown>((inbox) =>
          port.signals$.subscribe({
            next: (signal) => {
              hear()
              inbox.next(signal)
            },
            error: (error) => inbox.error(error),
            complete: () => inbox.complete(),
          }),
        ),
      }
      const subscription = start(watched).subscribe({
        next: (channel) => {
          opened = true
          this.unreachable.connected(channel.remoteId)
          subscriber.next(channel)
        },
        error: (error) => subscriber.error(error),
        complete: () => subscriber.complete(),
      })
      return () => {
        subscription.unsubscribe()
        const peer = remote()
        if (!heard || peer === null) return
        const left = (this.answered.get(peer) ?? 1) - 1
        if (left > 0) this.answered.set(peer, left)
        else this.answered.delete(peer)
        if (!opened && this.scheduler.now() - startedAt >= this.noPathAfterMs) this.unreachable.failed(peer)
      }
    })
  }
}
