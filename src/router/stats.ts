import { MALFORMED_REASONS, type MalformedReason } from '../wire/inbound'

/** Counters a router keeps: what it delivered, forwarded and dropped, and why. */
export interface RouterStats {
  delivered: number
  forwarded: number
  originated: number
  /**
   * Frames dropped, by reason. `BAD_FRAME` counts every malformed frame (the
   * router's rejections below, plus payloads an upper layer could not parse).
   */
  dropped: Record<DropReason, number>
  /** Frames rejected on arrival (or by the layer they were for), by what was wrong with them. */
  malformed: Record<MalformedReason, number>
  /** Channels this peer closed because they sent too many malformed frames (see AbusePolicy). */
  abusiveChannelsClosed: number
}

/**
 * - `BAD_FRAME`: malformed (see `malformed` for why);
 * - `TTL_EXPIRED`: it would have left with TTL 0, or its route record was full;
 * - `UNROUTABLE`: no usable next hop; `UNREACHABLE`: an Exact frame for an id
 *   nobody has, or a source route through a peer we have no channel to;
 * - `SEND_FAILED`: the next hop's channel refused it;
 * - `TOO_BIG`: a traced frame that would outgrow a frame by adding our id;
 * - `ERROR`: handling it threw (a bug): dropped, the router carries on.
 */
export type DropReason = 'BAD_FRAME' | 'TTL_EXPIRED' | 'UNROUTABLE' | 'UNREACHABLE' | 'SEND_FAILED' | 'TOO_BIG' | 'ERROR'

export const emptyRouterStats = (): RouterStats => ({
  delivered: 0,
  forwarded: 0,
  originated: 0,
  dropped: { BAD_FRAME: 0, TTL_EXPIRED: 0, UNROUTABLE: 0, UNREACHABLE: 0, SEND_FAILED: 0, TOO_BIG: 0, ERROR: 0 },
  malformed: Object.fromEntries(MALFORMED_REASONS.map((reason) => [reason, 0])) as Record<MalformedReason, number>,
  abusiveChannelsClosed: 0,
})
