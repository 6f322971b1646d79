/** How long a peer we found no direct path to is not tried directly again: the first back-off, the cap, and how many peers are remembered. */
export interface UnreachableOptions {
  /** Default 30 s. */
  baseMs: number
  /** Default 30 min. */
  maxMs: number
  /** Default 1024: the oldest entry goes first. */
  maxEntries: number
}

export const UNREACHABLE_DEFAULTS: Readonly<UnreachableOptions> = { baseMs: 30_000, maxMs: 30 * 60_000, maxEntries: 1024 }

interface Entry {
  failures: number
  until: number
}

/**
 * Peers that answered our channel set-up, yet no direct channel opened (ICE
 * found no path: two symmetric NATs, say). Each attempt costs an
 * RTCPeerConnection on both sides (Chrome allows about 500 a tab), so such a
 * peer is not tried directly again until its back-off has passed: doubling
 * with every failure from baseMs up to maxMs, jittered ±25 % so that the
 * two ends do not retry in step. A channel that opens forgets the peer.
 */
export class UnreachablePeers {
  private readonly entries = new Map<number, Entry>()
  readonly options: UnreachableOptions

  constructor(
    private readonly now: () => number,
    private readonly random: () => number,
    options: Partial<UnreachableOptions> = {},
  ) {
    this.options = { ...UNREACHABLE_DEFAULTS, ...options }
  }

  get size(): number {
    return this.entries.size
  }

  /** No direct channel to `peer` although it answered: back off (longer each time). */
  failed(peer: number): void {
    const { baseMs, maxMs, maxEntries } = this.options
    const failures = (this.entries.get(peer)?.failures ?? 0) + 1
    const backoff = Math.min(maxMs, baseMs * 2 ** Math.min(failures - 1, 30))
    this.entries.delete(peer)
    this.entries.set(peer, { failures, until: this.now() + Math.round(backoff * (0.75 + 0.5 * this.random())) })
    if (this.entries.size > maxEntries) this.entries.delete(this.entries.keys().next().value!)
  }

  /** A direct channel to `peer` opened: it is reachable after all. */
  connected(peer: number): void {
    this.entries.delete(peer)
  }

  /** Whether a direct attempt to `peer` must wait (its back-off has not passed). */
  backedOff(peer: number): boolean {
    const entry = this.entries.get(peer)
    return entry !== undefined && entry.until > this.now()
  }

  /** When `peer` may be tried directly again (null: now). */
  retryAt(peer: number): number | null {
    const entry = this.entries.get(peer)
    return entry === undefined || entry.until <= this.now() ? null : entry.until
  }

  /** Failed direct attempts to `peer` in a row. */
  failures(peer: number): number {
    return this.entries.get(peer)?.failures ?? 0
  }
}
