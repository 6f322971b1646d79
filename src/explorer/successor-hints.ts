import { EMPTY, Observable, catchError, exhaustMap, filter, map } from 'rxjs'
import type { Diagnostics } from '../diagnostics'
import { parseId } from '../ids'
import type { RingNode } from '../ring/node'
import type { ServerSignalling } from './server-signalling'

/**
 * Follows the server's hints of a closer successor (signal-server/ring-hints.ts):
 * the only way two rings that split apart find each other again. A hint that
 * still holds gets a channel, signalled through the server; stabilize then
 * adopts the peer as successor once its Hello says it is in the ring.
 * One handshake at a time; hints that arrive meanwhile are dropped (the
 * server repeats a hint that still holds).
 */
export function followSuccessorHints$(hints$: Observable<string>, ring: RingNode, signalling: ServerSignalling, diagnostics: Diagnostics): Observable<void> {
  return hints$.pipe(
    map(parseId),
    filter((peer) => ring.wantsSuccessor(peer)),
    exhaustMap((peer) =>
      signalling.connect$(peer).pipe(
        map((channel) => void ring.channels.add(channel, ring.id)),
        catchError((error) => {
          diagnostics.report('SERVER_HINT_FAILED', error, { peer })
          return EMPTY
        }),
      ),
    ),
  )
}
