import { MonoTypeOperatorFunction, Observable, SchedulerLike, throwError, timeout } from 'rxjs'

/**
 * Fails with `error()` when the source has not emitted within `ms` on
 * `scheduler` (virtual time in tests and simulation, real time in use).
 */
export function withTimeout<T>(ms: number, scheduler: SchedulerLike, error: () => Error): MonoTypeOperatorFunction<T> {
  return (source: Observable<T>) => source.pipe(timeout({ first: ms, scheduler, with: () => throwError(error) }))
}
