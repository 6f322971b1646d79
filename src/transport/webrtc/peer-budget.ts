import { TokenBucket } from '../../token-bucket'

/**
 * A bound on the RTCPeerConnections a transport creates: Chrome caps a tab
 * at about 500 over its lifetime, and each one costs threads and memory, so
 * whatever makes us create them (our own upkeep, or strangers' offers that
 * got past the proofs) may take at most `perMinute` a minute, in bursts of
 * up to `perMinute / 2`. A token bucket on the transport's clock.
 */
export class PeerBudget {
  private readonly bucket: TokenBucket

  constructor(
    private readonly perMinute: number,
    private readonly now: () => number,
  ) {
    this.bucket = new TokenBucket(this.burst, now())
  }

  private get burst(): number {
    return Math.max(1, Math.floor(this.perMinute / 2))
  }

  /** Takes one connection from the budget; false when none is left this minute. */
  take(): boolean {
    return this.bucket.take(this.now(), this.burst, this.perMinute / 60)
  }
}
