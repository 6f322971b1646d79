import { Observable, ReplaySubject, SchedulerLike, defer, finalize, take } from 'rxjs'
import { ExplorerError, ErrorCode } from '../errors'
import { withTimeout } from '../operators'

/**
 * Request/reply over frames: a request takes a fresh `conn`; the reply frame
 * carrying the same `conn` resolves it. Late or unknown replies are dropped.
 */
export class RpcTable<Reply> {
  private readonly pending = new Map<number, ReplaySubject<Reply>>()
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

  /** Cold: subscribing calls `send(conn)`; emits the reply once or fails with `code` after `timeoutMs`. */
  call$(send: (conn: number) => boolean, timeoutMs: number, code: ErrorCode, what: string): Observable<Reply> {
    return defer(() => {
      this.nextConn = (this.nextConn + 1) >>> 0
      const conn = this.nextConn
      // Replay: a key we own is answered synchronously, inside send().
      const reply = new ReplaySubject<Reply>(1)
      this.pending.set(conn, reply)
      send(conn)
      return reply.pipe(
        take(1),
        withTimeout(timeoutMs, this.scheduler, () => new ExplorerError(code, `${what} got no answer within ${timeoutMs} ms`)),
        finalize(() => this.pending.delete(conn)),
      )
    })
  }

  resolve(conn: number, reply: Reply): void {
    this.pending.get(conn)?.next(reply)
  }

  close(): void {
    for (const reply of this.pending.values()) reply.error(new ExplorerError('CLOSED', 'the explorer closed'))
    this.pending.clear()
  }
}
