/** Ids kept in ascending order, found and walked by binary search: routing tables and registries. */
export class SortedIds {
  protected readonly ids: number[] = []
  /** Bumped by every add or remove that changed the set: lets readers cache what they derive from it. */
  changes = 0

  get size(): number {
    return this.ids.length
  }

  has(id: number): boolean {
    const i = lowerBound(this.ids, id)
    return i < this.ids.length && this.ids[i] === id
  }

  add(id: number): void {
    const i = lowerBound(this.ids, id)
    if (this.ids[i] === id) return
    this.ids.splice(i, 0, id)
    this.changes++
  }

  remove(id: number): void {
    const i = lowerBound(this.ids, id)
    if (this.ids[i] !== id) return
    this.ids.splice(i, 1)
    this.changes++
  }

  list(): readonly number[] {
    return this.ids
  }

  /** Up to `count` ids clockwise from `id` (inclusive), wrapping around. */
  from(id: number, count: number): number[] {
    const n = this.ids.length
    const start = lowerBound(this.ids, id)
    const out: number[] = []
    for (let k = 0; k < Math.min(count, n); k++) out.push(this.ids[(start + k) % n])
    return out
  }
}

/** Index of the first element ≥ x in an ascending array (ids.length if none). */
export function lowerBound(ids: readonly number[], x: number): number {
  let lo = 0
  let hi = ids.length
  while (lo < hi) {
    const mid = (lo + hi) >>> 1
    if (ids[mid] < x) lo = mid + 1
    else hi = mid
  }
  return lo
}
