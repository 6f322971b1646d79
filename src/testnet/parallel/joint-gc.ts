import { getHeapSpaceStatistics } from 'node:v8'

/**
 * Young-generation collections that every partition runs in the same window.
 * A scavenge takes tens of ms, and in lock-step the other partitions would
 * sit out each one. Every CHECK_EVERY windows (a few MB of allocation at
 * most) a partition looks at how full
 * its young generation is and past FILL asks for a joint collection (the
 * exchange carries the request). Needs node --expose-gc; without it, V8
 * collects on its own and this does nothing.
 */
const CHECK_EVERY = 4
const FILL = 0.9

export class JointGc {
  private windows = 0
  private readonly gc = typeof globalThis.gc === 'function' ? globalThis.gc : null

  /** Called once a window: whether this partition asks for a collection now. */
  wanted(): boolean {
    return this.gc !== null && ++this.windows % CHECK_EVERY === 0 && youngGenerationFill() > FILL
  }

  /** Some partition asked: collect our young generation now. */
  collect(): void {
    this.gc?.({ type: 'minor' })
  }
}

/** How full the young generation's current semi-space is, 0 to 1 (V8's new_space space_size counts both semi-spaces). */
function youngGenerationFill(): number {
  const space = getHeapSpaceStatistics().find((s) => s.space_name === 'new_space')
  const capacity = space === undefined ? 0 : space.space_used_size + space.space_available_size
  return capacity === 0 ? 0 : space!.space_used_size / capacity
}
