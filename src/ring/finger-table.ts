import { Observable, Subject } from 'rxjs'
import { ID_BITS, RING_SIZE, distance, formatId } from '../ids'

export interface FingerUpdate {
  row: number
  /** The peer the row now points at; null when the row was dropped (the ring shrank). */
  id: string | null
  previous: string | null
}

/** The finger table as anyone but fix-fingers sees it: read-only. */
export type FingerView = Pick<FingerTable, 'get' | 'rows' | 'filled' | 'peers' | 'has' | 'chooseRows'>

/**
 * Finger rows of one peer: row i points at successor(self + 2^i). Only the
 * top `maxFingers` rows that matter for the ring's estimated size are kept:
 * with N peers, rows below about 48 − log2 N all resolve to the successor.
 */
export class FingerTable {
  private readonly entries = new Map<number, number>()
  private readonly updates = new Subject<FingerUpdate>()
  readonly updates$: Observable<FingerUpdate> = this.updates.asObservable()

  /** The last rows chooseRows handed out, and the last set retain kept. */
  private chosen: number[] | null = null
  private retained: readonly number[] | null = null

  constructor(private readonly maxFingers: number) {}

  get(row: number): number | undefined {
    return this.entries.get(row)
  }

  rows(): number[] {
    return [...this.entries.keys()].sort((a, b) => a - b)
  }

  /** [row, peer] for every row, in no particular order (no copy: for whole-ring checks over many peers). */
  filled(): IterableIterator<[number, number]> {
    return this.entries.entries()
  }

  peers(): Set<number> {
    return new Set(this.entries.values())
  }

  has(peer: number): boolean {
    for (const id of this.entries.values()) if (id === peer) return true
    return false
  }

  set(row: number, peer: number): FingerUpdate | null {
    const previous = this.entries.get(row)
    if (previous === peer) return null
    // A row outside the kept set (updateFinger of any row): the next retain must look again.
    if (this.retained !== null && !this.retained.includes(row)) this.retained = null
    this.entries.set(row, peer)
    return this.emit({ row, id: formatId(peer), previous: previous === undefined ? null : formatId(previous) })
  }

  delete(row: number): FingerUpdate | null {
    const previous = this.entries.get(row)
    if (previous === undefined) return null
    this.entries.delete(row)
    return this.emit({ row, id: null, previous: formatId(previous) })
  }

  /** Drops every row pointing at a peer that is gone. */
  forget(peer: number): void {
    for (const [row, id] of [...this.entries]) if (id === peer) this.delete(row)
  }

  /** Drops rows outside the chosen set, after the size estimate moved. */
  retain(rows: readonly number[]): void {
    // Every fix-fingers tick asks; the set rarely changes (chooseRows hands out the same array until it does).
    if (rows === this.retained) return
    this.retained = rows
    const keep = new Set(rows)
    for (const row of this.rows()) if (!keep.has(row)) this.delete(row)
  }

  /**
   * The rows worth keeping for a ring of about `estimatedPeers`. Highest rows
   * first: they matter most. The same array as last time while the choice is
   * the same: do not change it.
   */
  chooseRows(estimatedPeers: number): readonly number[] {
    const log2n = Math.log2(Math.max(2, estimatedPeers))
    const lowest = Math.max(ID_BITS - this.maxFingers, Math.floor(ID_BITS - log2n) - 1, 0)
    if (this.chosen === null || this.chosen[this.chosen.length - 1] !== lowest) {
      const rows: number[] = []
      for (let row = ID_BITS - 1; row >= lowest; row--) rows.push(row)
      this.chosen = rows
    }
    return this.chosen
  }

  complete(): void {
    this.updates.complete()
  }

  private emit(update: FingerUpdate): FingerUpdate {
    this.updates.next(update)
    return update
  }
}

/**
 * Ring size from the successor list: r successors span about r/N of the ring.
 * Returns 1 for a lone peer.
 */
export function estimateRingSize(self: number, successors: readonly number[]): number {
  if (successors.length === 0) return 1
  const span = distance(self, successors[successors.length - 1]) || RING_SIZE
  return Math.max(successors.length + 1, Math.round((successors.length * RING_SIZE) / span))
}
