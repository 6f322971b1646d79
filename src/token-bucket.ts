/**
 * A token bucket: up to `burst` tokens, refilled at `perSecond` a second on
 * the caller's clock (times in ms). The rate is passed on each call, not
 * kept: the owners keep one bucket per socket or address and share their
 * limits (the signalling server's per-socket rate, its joins per address,
 * a transport's RTCPeerConnections per minute).
 */
export class TokenBucket {
  private tokens: number
  private last: number

  constructor(burst: number, now: number) {
    this.tokens = burst
    this.last = now
  }

  /** The tokens there are at `now`. */
  level(now: number, burst: number, perSecond: number): number {
    if (now > this.last) {
      this.tokens = Math.min(burst, this.tokens + ((now - this.last) / 1000) * perSecond)
      this.last = now
    }
    return this.tokens
  }

  /** Takes one token; false when there is none. */
  take(now: number, burst: number, perSecond: number): boolean {
    if (this.level(now, burst, perSecond) < 1) return false
    this.tokens -= 1
    return true
  }
}
