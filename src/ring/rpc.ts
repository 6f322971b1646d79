import { Observable, SchedulerLike, Subscriber } from 'rxjs'
import { ExplorerError, ErrorCode } from '../errors'

/**
 * Request/reply over frames: a request takes a fresh `conn`; the reply frame
 * carrying the same `conn` resolves it. Late or unknown replies are dropped.
 * Ring maintenance makes a few calls per peer per round, so a call is one
 * Observable and one timer, not an operator chain.
 */
export class RpcTable<Reply> {
  private readonly pending = new Map<number, Subscriber<Reply>>()
  private nextConn: number

  constructor(
    private readonly scheduler: SchedulerLike,
    random: () => number,
  ) {
    this.nextConn = Math.floor(random() * 0xffffffff) >>> 0
  }

  get size(): number {
    return this.pending.size
  }

  /** Cold: subscribing calls `send(conn)`; emits the reply once or fails with `code` after `timeoutMs` (`what` names the call in that error: built only then). */
  call$(send: (conn: number) => boolean, timeoutMs: number, code: ErrorCode, what: () => string): Observable<Reply> {
    return new Observable<Reply>((subscriber) => {
      this.nextConn = (this.nextConn + 1) >>> 0
      const conn = this.nextConn
      // Registered before sending: a key we own is answered synchronously, inside send().
      this.pending.set(conn, subscriber)
      const timeout = this.scheduler.schedule(() => subscriber.error(new ExplorerError(code, `${what()} got no answer within ${timeoutMs} ms`)), timeoutMs)
      send(conn)
      return () => {
        timeout.unsubscribe()
        if (this.pending.get(conn) === subscriber) this.pending.delete(conn)
      }
    })
  }

  resolve(conn: number, reply: Reply): void {
    const subscriber = this.pending.get(conn)
    if (subscriber === undefined) return
    this.pending.delete(conn)
    subscriber.next(reply)
    subscriber.complete()
  }

  close(): void {
    const pending = [...this.pending.values()]
    this.pending.clear()
    for (const subscriber of pending) subscriber.error(new ExplorerError('CLOSED', 'the explorer closed'))
  }
}
