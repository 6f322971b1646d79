import type { WebSocket } from 'ws'
import { TokenBucket } from '../src/token-bucket'
import type { RateLimitOptions } from './options'

/** Per-socket state: the joined id (if any), its challenge, the token bucket and the heartbeat flag. Kept small: one per peer. */
export class Session {
  /** Joined id, or null before join / after leave. */
  id: string | null = null
  /** The id whose claim is in flight (clustered registry only), else null. */
  joining: string | null = null
  /** Set once the server has decided to close this socket: later frames are ignored. */
  closing = false
  /** Answered the last ping. */
  alive = true
  /** Consecutive rate-limited messages. */
  strikes = 0
  /** The open challenge a join must sign; null once a join used it (a leave or refused join opens a new one). */
  nonce: string | null = null
  /** The host name the client reached us by (its Host header), if plain: where our STUN responder is advertised. */
  host: string | null = null
  /** When this peer was last handed ICE servers (TURN credentials are renewed at half their life). */
  iceIssuedAt = 0
  private readonly bucket: TokenBucket

  constructor(
    readonly socket: WebSocket,
    burst: number,
    /** The client's address as admission counts it (Admission.keyOf). */
    readonly address: string,
  ) {
    this.bucket = new TokenBucket(burst, Date.now())
  }

  /** Takes one token from the bucket; false when the socket is over its rate. */
  take(limit: RateLimitOptions): boolean {
    return this.bucket.take(Date.now(), limit.burst, limit.perSecond)
  }
}
