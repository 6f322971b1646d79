import { lowerBound } from '../router/routing-table'

/** Ids kept sorted, walked clockwise from any point: a signalling server's registry, in process. */
export class SortedIds {
  private readonly ids: number[] = []

  get size(): number {
    return this.ids.length
  }

  add(id: number): void {
    const i = lowerBound(this.ids, id)
    if (this.ids[i] !== id) this.ids.splice(i, 0, id)
  }

  remove(id: number): void {
    const i = lowerBound(this.ids, id)
    if (this.ids[i] === id) this.ids.splice(i, 1)
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
