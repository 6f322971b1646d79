import { EMPTY, Observable, Subscription, catchError, defer, from, map, mergeMap, of, switchMap, take } from 'rxjs'
import type { Diagnostics } from '../diagnostics'
import { betweenRightInclusive, fingerStart, formatId } from '../ids'
import type { ChannelSet } from '../router/channel-set'
import { FingerTable, FingerUpdate, estimateRingSize } from './finger-table'
import type { FixFingersBackoff } from './fix-fingers-backoff'
import { checkLookupRoutes } from './lookup'
import type { RingRequests } from './requests'
import type { RingState } from './state'

/** Who owns a finger row, and a route to it when a lookup found it (null: route by id). */
type RowOwner = { owner: number; route: number[] | null }

export interface FixFingersComponents {
  id: number
  state: RingState
  channels: ChannelSet
  fingerTable: FingerTable
  requests: RingRequests
  diagnostics: Diagnostics
  /** Work that lives as long as the node. */
  subscriptions: Subscription
}

export interface FixFingersInit {
  /** When a tick refreshes a row, and which (src/ring/fix-fingers-backoff.ts). */
  backoff: FixFingersBackoff
  /** Routes a row's lookup asks over (the ring's fingerLookupRoutes: fewer than a user's lookup, as they are most of the ring's traffic). */
  lookupRoutes: number
}

/**
 * Chord's fix-fingers: row i points at the owner of id + 2^i, with a channel
 * open to it. Rows are refreshed one per tick, round-robin, over the rows
 * worth keeping for the ring's estimated size; a row is answered, cheapest
 * first, from the successor list, by confirming the current finger (one
 * exchange with it), or by a lookup that carries a channel offer.
 */
export class FixFingers {
  constructor(
    private readonly components: FixFingersComponents,
    private readonly init: FixFingersInit,
  ) {
    checkLookupRoutes(init.lookupRoutes, 'fingerLookupRoutes')
  }

  /** Refreshes one finger row: finds its owner and opens a channel to it. Emits the row's state after. */
  updateFinger$(row: number): Observable<FingerUpdate> {
    return defer(() => {
      const { state, channels, fingerTable } = this.components
      const start = fingerStart(this.components.id, row)
      const previous = fingerTable.get(row)
      const known = state.ownerFromSuccessorList(start)
      const owner$: Observable<RowOwner> =
        known !== null ? of({ owner: known, route: null })
        : previous !== undefined && channels.has(previous) ? this.confirm$(row, start, previous)
        : this.lookupRow$(start)
      return this.settleRow$(row, previous, owner$)
    })
  }

  /** Refreshes every row worth keeping for the ring's estimated size; emits each row's state (a row that fails is reported and skipped). */
  updateFingerTable$(): Observable<FingerUpdate> {
    return defer(() => {
      const rows = this.chosenRows()
      this.components.fingerTable.retain(rows)
      return from(rows).pipe(mergeMap((row) => this.updateFinger$(row).pipe(catchError((error) => this.failed(row, error))), 4))
    })
  }

  /** One fix-fingers tick (run by the timer): refresh the next row, unless the back-off skips this tick. */
  fixNextFinger(): void {
    const { state, fingerTable } = this.components
    const { backoff } = this.init
    if (!state.joined || backoff.skips()) return
    const rows = this.chosenRows()
    fingerTable.retain(rows)
    this.refreshRow(rows[backoff.next(rows.length)])
  }

  /**
   * updateFinger$ for the timer. A settled table's usual case, a finger that
   * still owns its row, is one exchange with it and no Observable: this runs
   * for every peer every tick.
   */
  private refreshRow(row: number): void {
    const { state, channels, fingerTable } = this.components
    const start = fingerStart(this.components.id, row)
    const finger = fingerTable.get(row)
    if (finger === undefined || !channels.has(finger) || state.ownerFromSuccessorList(start) !== null) {
      return this.watchRow(row, this.updateFinger$(row))
    }
    this.confirm(row, start, finger, (owns) => {
      if (!owns) this.watchRow(row, this.settleRow$(row, finger, this.lookupRow$(start)))
    })
  }

  /**
   * Whether our current finger `finger` still owns the row starting at
   * `start`: its predecessor is before `start`. One exchange with a neighbour
   * instead of a lookup across the ring (a settled table is refreshed for 2
   * frames a row). No answer, or no predecessor known: not confirmed.
   */
  private confirm(row: number, start: number, finger: number, done: (owns: boolean) => void): () => void {
    return this.components.requests.requestState(
      finger, () => `finger check with ${formatId(finger)}`,
      ({ predecessor }) => done(predecessor !== null && betweenRightInclusive(start, predecessor, finger)),
      (error) => {
        this.components.diagnostics.report('FINGER_SILENT', error, { peer: finger, row })
        done(false)
      },
    )
  }

  /** Who owns the row starting at `start`, with a channel offer riding on the lookup. */
  private lookupRow$(start: number): Observable<RowOwner> {
    return this.components.requests.lookupOpening$(start, { routes: this.init.lookupRoutes })
  }

  /** The row's owner: `finger` if it confirms, else whoever a lookup finds. */
  private confirm$(row: number, start: number, finger: number): Observable<RowOwner> {
    return new Observable<boolean>((subscriber) => this.confirm(row, start, finger, (owns) => (subscriber.next(owns), subscriber.complete()))).pipe(
      switchMap((owns) => (owns ? of({ owner: finger, route: null }) : this.lookupRow$(start))),
    )
  }

  /** Points `row` at the owner `owner$` finds, once a channel to it is open. */
  private settleRow$(row: number, previous: number | undefined, owner$: Observable<RowOwner>): Observable<FingerUpdate> {
    const { id, fingerTable, requests } = this.components
    return owner$.pipe(
      switchMap(({ owner, route }) => (owner === id ? of(owner) : requests.reach$(owner, route))),
      take(1),
      map((owner) => {
        const update = owner === id ? fingerTable.delete(row) : fingerTable.set(row, owner)
        const now = fingerTable.get(row)
        return update ?? { row, id: now === undefined ? null : formatId(now), previous: previous === undefined ? null : formatId(previous) }
      }),
    )
  }

  /** A row being refreshed by the timer: any change (or failure) means the pass changed something. */
  private watchRow(row: number, update$: Observable<FingerUpdate>): void {
    const { backoff } = this.init
    this.components.subscriptions.add(
      update$.subscribe({
        next: (update) => {
          if (update.id !== update.previous) backoff.changed()
        },
        error: (error) => {
          backoff.changed()
          this.failed(row, error)
        },
      }),
    )
  }

  private failed(row: number, error: unknown): Observable<never> {
    this.components.diagnostics.report('FINGER_FAILED', error, { row })
    return EMPTY
  }

  private chosenRows(): readonly number[] {
    const { id, state, fingerTable } = this.components
    return fingerTable.chooseRows(estimateRingSize(id, state.successors))
  }
}
