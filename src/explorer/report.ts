import { Observable, SchedulerLike, distinctUntilChanged, interval, map, merge, startWith, throttleTime } from 'rxjs'
import type { RingNode } from '../ring/node'
import { MAX_REPORTED_SUCCESSORS, type RingReport } from '../protocol/signal-server'

/**
 * This peer's ring state whenever it changed, at most once per `everyMs`.
 * Finger and channel changes have events; successor and predecessor changes
 * do not, so the state is also sampled every `everyMs`.
 */
export function ringReports$(ring: RingNode, everyMs: number, scheduler: SchedulerLike): Observable<RingReport> {
  return merge(ring.fingers$, ring.peers$, interval(everyMs, scheduler)).pipe(
    startWith(null),
    throttleTime(everyMs, scheduler, { leading: true, trailing: true }),
    map(() => {
      const snapshot = ring.snapshot()
      return { successors: snapshot.successors.slice(0, MAX_REPORTED_SUCCESSORS), predecessor: snapshot.predecessor, fingers: snapshot.fingers }
    }),
    distinctUntilChanged((a, b) => JSON.stringify(a) === JSON.stringify(b)),
  )
}
