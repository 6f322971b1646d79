/**
 * A bound on the RTCPeerConnections a transport creates: Chrome caps a tab
 * at about 500 over its lifetime, and each one costs threads and memory, so
 * whatever makes us create them (our own upkeep, or strangers' offers that
 * got past the proofs) may take at most `perMinute` a minute, in bursts of
 * up to `perMinute / 2`. A token bucket on the transport's clock.
 */
export class PeerBudget {
  private tokens: number
  private last: number

  constructor(
    private readonly perMinute: number,
    private readonly now: () => number,
  ) {
    this.tokens = this.burst
    this.last = now()
  }

  private get burst(): number {
    return Math.max(1, Math.floor(this.perMinute / 2))
  }

  /** Takes one connection from the budget; false when none is left this minute. */
  take(): boolean {
    const now = this.now()
    if (now > this.last) {
      this.tokens = Math.min(this.burst, this.tokens + ((now - this.last) / 60_000) * this.perMinute)
      this.last = now
    }
    if (this.tokens < 1) return false
    this.tokens -= 1
    return true
  }
}
