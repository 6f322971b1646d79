/** A settled finger table is refreshed at most this many times less often. */
export const FIX_FINGERS_MAX_BACKOFF = 8

/**
 * When fix-fingers refreshes a row, and which one: round-robin over the rows,
 * one per tick. After a whole pass that changed nothing, ticks are skipped
 * more and more (every 2nd, 4th, … up to every FIX_FINGERS_MAX_BACKOFF-th):
 * a settled ring costs little. A changed row (or a failed refresh) brings the
 * next pass back to every tick; a reset (the successor list changed, so
 * finger owners may have moved) does so at once. Pure: no timers, no I/O.
 */
export class FixFingersBackoff {
  /** Every `factor`-th tick refreshes a row. */
  private factor = 1
  private skip = 0
  /** A node starts as if its last pass had changed something: the first pass runs at every tick. */
  private passChanged = true
  private nextIndex = 0

  constructor(private readonly maxFactor = FIX_FINGERS_MAX_BACKOFF) {}

  /** Refreshes happen every this many ticks now. */
  get interval(): number {
    return this.factor
  }

  /** Whether this tick is one the back-off skips (checked first: a skipped tick does nothing else). */
  skips(): boolean {
    if (this.skip === 0) return false
    this.skip--
    return true
  }

  /** The index (among `rowCount` rows) this tick refreshes; index 0 starts a pass. */
  next(rowCount: number): number {
    const index = this.nextIndex++ % rowCount
    if (index === 0) {
      this.factor = this.passChanged ? 1 : Math.min(this.factor * 2, this.maxFactor)
      this.passChanged = false
    }
    this.skip = this.factor - 1
    return index
  }

  /** A refresh in this pass changed its row, or failed. */
  changed(): void {
    this.passChanged = true
  }

  /** Refresh at every tick from now on, until a pass changes nothing again. */
  reset(): void {
    this.factor = 1
    this.skip = 0
    this.passChanged = true
  }
}
