/** Counters a router keeps: what it delivered, forwarded and dropped, and why. */
export interface RouterStats {
  delivered: number
  forwarded: number
  originated: number
  dropped: Record<DropReason, number>
}

export type DropReason = 'BAD_FRAME' | 'TTL_EXPIRED' | 'UNROUTABLE' | 'UNREACHABLE' | 'SEND_FAILED'

export const emptyRouterStats = (): RouterStats => ({
  delivered: 0,
  forwarded: 0,
  originated: 0,
  dropped: { BAD_FRAME: 0, TTL_EXPIRED: 0, UNROUTABLE: 0, UNREACHABLE: 0, SEND_FAILED: 0 },
})
