import { Observable, filter } from 'rxjs'
import { parseMemorySignal } from '../transport/memory/signals'
import type { Channel, SignalPort, Transport } from '../transport/types'

/** Which pairs of peers have no direct path (symmetric: asked both ways). */
export type BlockedPairs = (a: number, b: number) => boolean

/**
 * The memory transport of peer `self` as two NATs that no hole punching can
 * join (a symmetric NAT facing another symmetric or a port-restricted one,
 * STUN only; docs/nat.md) make it for the pairs `blocked` names: the offer
 * reaches the remote and its answer comes back, but no channel ever opens,
 * so the attempt runs until the overlay gives up on it, as ICE would. Every
 * other pair connects as usual. For tests and simulation of relayed links.
 */
export function withUnreachablePairs(inner: Transport, self: number, blocked: BlockedPairs): Transport {
  return {
    cheapOffers: inner.cheapOffers,
    bindingOf: (signal) => inner.bindingOf(signal),
    connect: (remoteId: number | null, port: SignalPort): Observable<Channel> => {
      // Known only once answered for an offer that rode on a lookup: checked when the answer comes.
      const open = (): boolean => {
        const remote = remoteId ?? port.remote?.() ?? null
        return remote === null || !blocked(self, remote)
      }
      return inner.connect(remoteId, { ...port, signals$: port.signals$.pipe(filter(open)) })
    },
    accept: (remoteId: number, port: SignalPort): Observable<Channel> => {
      if (!blocked(self, remoteId)) return inner.accept(remoteId, port)
      // Answer, so the connector hears from us, and make no channel.
      return new Observable<Channel>(() =>
        port.signals$.subscribe((signal) => {
          try {
            port.send({ mem: 'answer', token: parseMemorySignal(signal, 'offer').token })
          } catch {
            // Not an offer: nothing to answer.
          }
        }),
      )
    },
  }
}
