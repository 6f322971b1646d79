import { Observable, SchedulerLike, type SchedulerAction, type Subscription } from 'rxjs'
import { ExplorerError, ErrorCode } from '../errors'

/** One call waiting for its reply. */
interface Pending<Reply> {
  readonly table: RpcTable<Reply>
  readonly conn: number
  readonly onReply: (reply: Reply) => void
  readonly onError: (error: ExplorerError) => void
  readonly code: ErrorCode
  readonly timeoutMs: number
  readonly what: () => string
  timeout: Subscription | null
}

/**
 * Request/reply over frames: a request takes a fresh `conn`; the reply frame
 * carrying the same `conn` resolves it. Late or unknown replies are dropped.
 * A call is one map entry and one timer. Ring maintenance makes a few calls
 * per peer per round, the most frequent (stabilize, finger confirmations)
 * through `request`'s callbacks; `call$` wraps the same in an Observable.
 */
export class RpcTable<Reply> {
  private readonly pending = new Map<number, Pending<Reply>>()
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

  /**
   * Calls `send(conn)`, then exactly one of `onReply` (the reply) or `onError`
   * (`code` after `timeoutMs`; `what` names the call in that error and is only
   * built then). Returns a cancel function: after it, neither is called.
   */
  request(
    send: (conn: number) => boolean, timeoutMs: number, code: ErrorCode, what: () => string,
    onReply: (reply: Reply) => void, onError: (error: ExplorerError) => void,
  ): () => void {
    this.nextConn = (this.nextConn + 1) >>> 0
    const call: Pending<Reply> = { table: this, conn: this.nextConn, onReply, onError, code, timeoutMs, what, timeout: null }
    // Registered before sending: a key we own is answered synchronously, inside send().
    this.pending.set(call.conn, call)
    call.timeout = this.scheduler.schedule<Pending<Reply>>(expire, timeoutMs, call)
    send(call.conn)
    return () => this.settle(call)
  }

  /** Cold: subscribing calls `send(conn)`; emits the reply once or fails with `code` after `timeoutMs`. */
  call$(send: (conn: number) => boolean, timeoutMs: number, code: ErrorCode, what: () => string): Observable<Reply> {
    return new Observable<Reply>((subscriber) =>
      this.request(send, timeoutMs, code, what, (reply) => (subscriber.next(reply), subscriber.complete()), (error) => subscriber.error(error)),
    )
  }

  resolve(conn: number, reply: Reply): void {
    const call = this.pending.get(conn)
    if (call === undefined) return
    this.settle(call)
    call.onReply(reply)
  }

  /** A call's time ran out (from its timer). */
  expire(call: Pending<Reply>): void {
    if (this.pending.get(call.conn) !== call) return
    this.settle(call)
    call.onError(new ExplorerError(call.code, `${call.what()} got no answer within ${call.timeoutMs} ms`))
  }

  close(): void {
    const pending = [...this.pending.values()]
    for (const call of pending) this.settle(call)
    for (const call of pending) call.onError(new ExplorerError('CLOSED', 'the explorer closed'))
  }

  private settle(call: Pending<Reply>): void {
    if (this.pending.get(call.conn) === call) this.pending.delete(call.conn)
    call.timeout?.unsubscribe()
    call.timeout = null
  }
}

/** The timers' work: one function for every call (the call is the timer's state), no closure per call. */
function expire<Reply>(this: SchedulerAction<Pending<Reply>>, call?: Pending<Reply>): void {
  call!.table.expire(call!)
}
