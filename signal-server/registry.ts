/**
 * The joined peers, by id, plus the same ids in a sorted array so that the
 * ring neighbours of any id are a binary search away. Ids are fixed-length
 * lowercase hex, so string order is numeric order.
 */
export class SortedRegistry<T> {
  private readonly byId = new Map<string, T>()
  private readonly sorted: string[] = []

  get size(): number {
    return this.sorted.length
  }

  get(id: string): T | undefined {
    return this.byId.get(id)
  }

  has(id: string): boolean {
    return this.byId.has(id)
  }

  /** Adds id → value; returns false (and changes nothing) if the id is already there. */
  add(id: string, value: T): boolean {
    if (this.byId.has(id)) return false
    this.byId.set(id, value)
    this.sorted.splice(this.lowerBound(id), 0, id)
    return true
  }

  /** Removes id only if it still maps to `value` (a late close never removes a newer holder). */
  remove(id: string, value: T): boolean {
    if (this.byId.get(id) !== value) return false
    this.byId.delete(id)
    const i = this.lowerBound(id)
    if (this.sorted[i] === id) this.sorted.splice(i, 1)
    return true
  }

  /** Up to `count` ids clockwise after `id` (wrapping), never `id` itself. */
  successors(id: string, count: number): string[] {
    const n = this.sorted.length
    const start = this.upperBound(id)
    const out: string[] = []
    for (let k = 0; k < n && out.length < count; k++) {
      const next = this.sorted[(start + k) % n]
      if (next !== id) out.push(next)
    }
    return out
  }

  /** The closest id counter-clockwise before `id` (wrapping), or null when there is no other. */
  predecessor(id: string): string | null {
    const n = this.sorted.length
    if (n === 0) return null
    let i = this.lowerBound(id) - 1
    if (i < 0) i = n - 1
    const prev = this.sorted[i]
    if (prev !== id) return prev
    return n > 1 ? this.sorted[(i - 1 + n) % n] : null
  }

  ids(): readonly string[] {
    return this.sorted
  }

  /** First index whose id is >= id. */
  private lowerBound(id: string): number {
    let lo = 0
    let hi = this.sorted.length
    while (lo < hi) {
      const mid = (lo + hi) >>> 1
      if (this.sorted[mid] < id) lo = mid + 1
      else hi = mid
    }
    return lo
  }

  /** First index whose id is > id. */
  private upperBound(id: string): number {
    let lo = 0
    let hi = this.sorted.length
    while (lo < hi) {
      const mid = (lo + hi) >>> 1
      if (this.sorted[mid] <= id) lo = mid + 1
      else hi = mid
    }
    return lo
  }
}
