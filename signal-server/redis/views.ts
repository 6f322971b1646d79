import type { RingView } from '../peer-registry'
import { SortedRegistry } from '../registry'

/** The scripts' neighbourhood reply: ids clockwise after one id, whether each reported, the predecessor, the total. */
export type NeighbourhoodReply = [string[], number[], string | null, number]

/**
 * The part of the shared registry around one id, fetched in the same round
 * trip as a claim or a report: enough for ring-hints.ts to answer exactly as
 * the in-memory registry would for that id.
 */
export class NeighbourhoodView implements RingView {
  private readonly after: string[]
  private readonly reported: Set<string>
  private readonly before: string | null
  readonly size: number

  constructor(
    private readonly id: string,
    reply: NeighbourhoodReply,
  ) {
    const [after, flags, predecessor, size] = reply
    this.after = after
    this.reported = new Set(after.filter((_, i) => flags[i] === 1))
    this.before = predecessor
    this.size = size
  }

  successors(id: string, count: number): string[] {
    if (id !== this.id) throw new Error(`this view was fetched around ${this.id}, not ${id}`)
    return this.after.slice(0, count)
  }

  predecessor(id: string): string | null {
    if (id !== this.id) throw new Error(`this view was fetched around ${this.id}, not ${id}`)
    return this.before
  }

  inRing(id: string): boolean {
    return this.reported.has(id)
  }
}

/** The whole shared registry as last read (ids in ring order, and those that reported), for the periodic hint sweep. */
export function mirrorView(sortedIds: string[], reported: string[]): RingView {
  const ids = new SortedRegistry<true>()
  // Already sorted: each add appends.
  for (const id of sortedIds) ids.add(id, true)
  const inRing = new Set(reported)
  return {
    size: ids.size,
    successors: (id, count) => ids.successors(id, count),
    predecessor: (id) => ids.predecessor(id),
    inRing: (id) => inRing.has(id),
  }
}
