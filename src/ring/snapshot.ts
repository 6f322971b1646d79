/**
 * A peer's place in the ring at one moment, ids as 12 hex: what
 * `explorer.snapshot()` returns (as ExplorerSnapshot, docs/api.md) and what
 * a peer reports to the signalling server. A copy: it never changes after.
 */
export interface RingSnapshot {
  id: string
  /** In the ring: from the end of the join until close(). */
  joined: boolean
  predecessor: string | null
  /** Closest first; empty while alone. */
  successors: string[]
  /** The finger rows that point at another peer, lowest row first. */
  fingers: { row: number; id: string }[]
  /** Open direct channels. */
  channels: number
}
