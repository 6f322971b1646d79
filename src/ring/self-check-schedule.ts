/** Rounds between asking the ring who our successor is (every round while we have no predecessor). */
export const SELF_CHECK_EVERY = 8

/** While those checks keep confirming our position, their interval doubles up to this many rounds. */
export const SELF_CHECK_MAX_EVERY = 64

/** Which key a ring-position check looks up: our own id, or the key right after it (our successor's). */
export type SelfCheckKey = 'own' | 'next'

/**
 * When the ring-position check runs (src/ring/self-check.ts), counted in
 * stabilize rounds. Without a predecessor: every round, on our own id.
 * Otherwise every SELF_CHECK_EVERY rounds, alternating our own id and the key
 * after it. Once both keys in a row confirm our position the interval
 * doubles, up to SELF_CHECK_MAX_EVERY; any other answer, a failed check or a
 * changed successor list brings it back to SELF_CHECK_EVERY, never later than
 * already due. (Backing off on one key alone delayed the successor check that
 * repairs a far successor: 16384 peers took 44 rounds instead of 35.)
 * Pure: no timers, no I/O.
 */
export class SelfCheckSchedule {
  private rounds = 0
  private every = SELF_CHECK_EVERY
  private nextAt = SELF_CHECK_EVERY
  private confirmations = 0
  /** The checks alternate between our own id and the key right after it. */
  private ownIdNext = false

  /** Rounds between checks now (while we have a predecessor). */
  get interval(): number {
    return this.every
  }

  /** One stabilize round: the key to check this round, or null for none. */
  round(hasPredecessor: boolean): SelfCheckKey | null {
    this.rounds++
    if (!hasPredecessor) return 'own'
    if (this.rounds < this.nextAt) return null
    this.nextAt = this.rounds + this.every
    this.ownIdNext = !this.ownIdNext
    return this.ownIdNext ? 'own' : 'next'
  }

  /** A check found us where we thought we were: after both kinds did, the next one can wait twice as long. */
  confirmed(): void {
    this.confirmations++
    if (this.confirmations >= 2) this.every = Math.min(this.every * 2, SELF_CHECK_MAX_EVERY)
    this.nextAt = this.rounds + this.every
  }

  /** Checks every SELF_CHECK_EVERY rounds again (never later than already due: frequent changes must not postpone them). */
  reset(): void {
    this.confirmations = 0
    this.every = SELF_CHECK_EVERY
    this.nextAt = Math.min(this.nextAt, this.rounds + SELF_CHECK_EVERY)
  }
}
