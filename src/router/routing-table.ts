import { betweenOpen, betweenRightInclusive } from '../ids'
import { FrameFlag } from '../wire/frame'
import { SortedIds, lowerBound } from './sorted-ids'

/**
 * Where a frame for `dest` goes next, decided only from what this peer knows:
 * itself, its predecessor and successor, and its routable channels.
 */
export type NextHop =
  | { kind: 'local' }
  /** `flags`: the FrameFlag.Final / FrameFlag.Back bits the forwarded frame carries. */
  | { kind: 'forward'; via: number; flags: number }
  | { kind: 'unroutable' }

const FINAL = FrameFlag.Final
const BACK = FrameFlag.Final | FrameFlag.Back

export interface RoutingView {
  self: number
  /** False while joining: this peer owns no keys yet and must not deliver any. */
  joined: boolean
  predecessor: number | null
  /** The closest peer after us that we reach (our successor, or the nearest stand-in; see RingNode.routableSuccessor); null if none. */
  successor: number | null
  /** We know of no other peer: every key is ours. */
  alone: boolean
}

/**
 * The routable peers, kept sorted by id so the closest preceding peer of a
 * key is found by binary search: the hot path of every hop.
 */
export class RoutingTable extends SortedIds {
  /** The known peer closest before `key`, strictly between `self` and `key`; null if none. */
  closestPreceding(self: number, key: number): number | null {
    const n = this.ids.length
    if (n === 0) return null
    const candidate = this.ids[(lowerBound(this.ids, key) - 1 + n) % n]
    return betweenOpen(candidate, self, key) ? candidate : null
  }

  /** The known peer closest after `from`, strictly between `from` and `self`; null if none. */
  closestFollowing(from: number, self: number): number | null {
    const n = this.ids.length
    if (n === 0) return null
    const candidate = this.ids[lowerBound(this.ids, (from + 1) % 2 ** 48) % n]
    return betweenOpen(candidate, from, self) ? candidate : null
  }

  /**
   * Chord's recursive step. Ownership is decided where Chord decides it, at
   * the key's predecessor, which hands the frame to its successor marked Final:
   * 1. a key in (predecessor, self] is ours;
   * 2. a Final frame for a key we do not own means a peer joined behind us that
   *    the sender does not know yet: step back to our predecessor, marked Back.
   *    With no predecessor known we accept it: Chord's guess. It can be wrong
   *    (peers we do not know of may sit behind us), but refusing makes frames
   *    circle until their TTL runs out; the ring's repair fixes wrong guesses;
   * 3. a key in (self, successor] belongs to the successor: hand it over, Final;
   * 4. otherwise forward to the closest preceding known peer (finger step).
   * Reaching no peer after us, we drop rather than claim keys we may not own.
   */
  nextHop(dest: number, view: RoutingView, flags: number): NextHop {
    const { self, predecessor, successor } = view
    if (!view.joined) {
      const via = this.closestPreceding(self, dest) ?? this.ids[0]
      return via === undefined ? { kind: 'unroutable' } : { kind: 'forward', via, flags: 0 }
    }
    if (dest === self) return { kind: 'local' }
    if (predecessor !== null && betweenRightInclusive(dest, predecessor, self)) return { kind: 'local' }
    if (flags & FINAL) {
      if (predecessor === null) return { kind: 'local' }
      if (this.has(predecessor)) return { kind: 'forward', via: predecessor, flags: BACK }
    }
    if (view.alone) return { kind: 'local' }
    const closer = this.closestPreceding(self, dest)
    if (successor === null) return closer === null ? { kind: 'unroutable' } : { kind: 'forward', via: closer, flags: 0 }
    if (betweenRightInclusive(dest, self, successor)) return { kind: 'forward', via: successor, flags: FINAL }
    return { kind: 'forward', via: closer ?? successor, flags: 0 }
  }
}
