import type { WebSocket } from 'ws'
import type { RateLimitOptions } from './options'

/** Per-socket state: the joined id (if any), the token bucket and the heartbeat flag. */
export class Session {
  /** Joined id, or null before join / after leave. */
  id: string | null = null
  /** `{"type":"signal","from":"<id>","data":` for this sender, built once at join. */
  prefix = ''
  /** Set once the server has decided to close this socket: later frames are ignored. */
  closing = false
  /** Answered the last ping. */
  alive = true
  /** Consecutive rate-limited messages. */
  strikes = 0
  private tokens: number
  private last: number

  constructor(
    readonly socket: WebSocket,
    private readonly limit: RateLimitOptions | false,
  ) {
    this.tokens = limit ? limit.burst : 0
    this.last = limit ? Date.now() : 0
  }

  /** Takes one token from the bucket; false when the socket is over its rate. */
  take(): boolean {
    const limit = this.limit
    if (!limit) return true
    const now = Date.now()
    if (now > this.last) {
      this.tokens = Math.min(limit.burst, this.tokens + ((now - this.last) / 1000) * limit.perSecond)
      this.last = now
    }
    if (this.tokens < 1) return false
    this.tokens -= 1
    return true
  }
}
