import type { ResolvedSocketOptions } from './options'

/**
 * A rate per key with bursts (the generic cell rate algorithm): each key has
 * a theoretical arrival time; an event is allowed while that time is at most
 * `burst − 1` intervals ahead of now. Keys whose time has passed are the
 * same as absent, and are forgotten when the map grows.
 */
export class RateLimit {
  private readonly due = new Map<number, number>()
  private pruneAt = 64

  constructor(
    private readonly intervalMs: number,
    private readonly burst: number,
  ) {}

  allow(key: number, now: number): boolean {
    const due = Math.max(this.due.get(key) ?? now, now)
    if (due - now > (this.burst - 1) * this.intervalMs) return false
    this.due.set(key, due + this.intervalMs)
    if (this.due.size > this.pruneAt) this.prune(now)
    return true
  }

  get size(): number {
    return this.due.size
  }

  private prune(now: number): void {
    for (const [key, due] of this.due) if (due <= now) this.due.delete(key)
    this.pruneAt = Math.max(64, 2 * this.due.size)
  }
}

/**
 * Who may make this peer do work for a socket, keyed only on what is proven
 * (docs/reliability.md, "Security"): the neighbour an Open arrived through
 * (its channel proves it) for handshakes not finished yet, and the remote's
 * proven identity for sockets that finished one. A `source` field anyone on
 * the path can write keys nothing here.
 */
export class Admission {
  private halfOpen = 0
  private readonly halfOpenBy = new Map<number, number>()
  private readonly handshakeRate: RateLimit
  /** Sockets per proven remote id: our own dials (we chose the id) and accepted sockets whose handshake proved it. */
  private readonly perPeer = new Map<number, number>()

  constructor(private readonly options: ResolvedSocketOptions) {
    this.handshakeRate = new RateLimit(1000 / options.handshakesPerNeighbourPerSecond, options.maxHalfOpenPerNeighbour)
  }

  /** Half-open sockets now, in all. */
  get halfOpenCount(): number {
    return this.halfOpen
  }

  /**
   * Whether an Open that came in through `neighbour` may start a handshake
   * now; if so it holds a half-open slot until `closeHalfOpen`. Checked
   * before any cryptography: a refusal costs nothing.
   */
  openHalf(neighbour: number, now: number): boolean {
    const { maxHalfOpen, maxHalfOpenPerNeighbour } = this.options
    const byNeighbour = this.halfOpenBy.get(neighbour) ?? 0
    if (this.halfOpen >= maxHalfOpen || byNeighbour >= maxHalfOpenPerNeighbour) return false
    if (!this.handshakeRate.allow(neighbour, now)) return false
    this.halfOpen++
    this.halfOpenBy.set(neighbour, byNeighbour + 1)
    return true
  }

  closeHalf(neighbour: number): void {
    const byNeighbour = this.halfOpenBy.get(neighbour) ?? 0
    if (byNeighbour === 0) return
    this.halfOpen--
    if (byNeighbour === 1) this.halfOpenBy.delete(neighbour)
    else this.halfOpenBy.set(neighbour, byNeighbour - 1)
  }

  /** Whether one more socket with the proven remote `id` stays within maxSocketsPerPeer. */
  peerHasRoom(id: number): boolean {
    return (this.perPeer.get(id) ?? 0) < this.options.maxSocketsPerPeer
  }

  addPeer(id: number): void {
    this.perPeer.set(id, (this.perPeer.get(id) ?? 0) + 1)
  }

  removePeer(id: number): void {
    const n = this.perPeer.get(id) ?? 0
    if (n <= 1) this.perPeer.delete(id)
    else this.perPeer.set(id, n - 1)
  }

  /** Entries held (for leak checks): neighbours with half-open sockets, peers with sockets. */
  get entries(): number {
    return this.halfOpenBy.size + this.perPeer.size
  }
}
