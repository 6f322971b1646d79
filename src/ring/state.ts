import { RING_SIZE, betweenOpen, betweenRightInclusive } from '../ids'
import type { ChannelSet } from '../router/channel-set'
import type { RoutingView } from '../router/routing-table'
import type { FingerTable } from './finger-table'

/** A peer's place in the ring, as anyone outside the ring's own duties sees it: read-only. */
export interface RingPosition {
  readonly id: number
  /** In the ring: it owns keys and may be routed through. */
  readonly joined: boolean
  readonly predecessor: number | null
  /** successors[0] is the successor; empty while alone. */
  readonly successors: readonly number[]
  /** successors[0], or our own id while alone. */
  readonly successor: number
}

export interface RingStateComponents {
  id: number
  channels: ChannelSet
  fingerTable: FingerTable
}

export interface RingStateInit {
  /** Successor list length r. */
  successors: number
  /** The successor list changed: finger owners may have moved, our position may have. */
  onSuccessorsChanged: () => void
}

/**
 * The ring state of one peer, in one place: successor list, predecessor,
 * whether it is joined, and what the router reads of them. Written only by
 * the ring's duties (join, stabilize, the ring-position check, ...); RingNode
 * hands out the read-only RingPosition.
 */
export class RingState implements RingPosition {
  readonly id: number
  joined = false
  predecessor: number | null = null
  /** When our predecessor last stabilized against us (or notified us): check-predecessor's evidence that it lives. */
  predecessorHeardAt = 0
  /** The peer a join in progress goes through: its channel is needed until the join ends. */
  bootstrap: number | null = null
  private list: number[] = []
  private readonly routingView: RoutingView
  /** What routingView.successor was computed from (the list is replaced, never changed in place). */
  private readonly viewBasis = { successors: null as number[] | null, routingChanges: -1 }

  constructor(
    private readonly components: RingStateComponents,
    private readonly init: RingStateInit,
  ) {
    this.id = components.id
    this.routingView = { self: this.id, joined: false, predecessor: null, successor: null, alone: true }
  }

  get successors(): readonly number[] {
    return this.list
  }

  /** A changed list (not the same ids in the same order) is announced: fix-fingers and the ring-position check react. */
  set successors(list: number[]) {
    const before = this.list
    this.list = list
    if (list.length !== before.length || list.some((id, i) => id !== before[i])) this.init.onSuccessorsChanged()
  }

  get successor(): number {
    return this.list[0] ?? this.id
  }

  /** The successor list from our successor's: it, then its list, without us or repeats, r long. */
  successorList(first: number, rest: readonly number[]): number[] {
    const list = [first]
    for (const id of rest) {
      if (list.length >= this.init.successors) break
      if (id !== this.id && !list.includes(id)) list.push(id)
    }
    return list
  }

  /** The owner of `key` when it falls within our successor list's span (no lookup needed), else null. */
  ownerFromSuccessorList(key: number): number | null {
    let from = this.id
    for (const s of this.list) {
      if (betweenRightInclusive(key, from, s)) return s
      from = s
    }
    return null
  }

  /** The first routable peer clockwise after us (we are never in our own table). */
  closestRoutableAfterSelf(): number | null {
    return this.components.channels.routing.from((this.id + 1) % RING_SIZE, 1)[0] ?? null
  }

  /**
   * Whether a channel to `peer` is worth opening because it would be a closer
   * successor than ours (the signalling server's hint, see
   * signal-server/ring-hints.ts). Once it is open and routable, stabilize adopts it.
   */
  wantsSuccessor(peer: number): boolean {
    if (!this.joined || peer === this.id || this.components.channels.has(peer)) return false
    return this.successor === this.id || betweenOpen(peer, this.id, this.successor)
  }

  /** Channels we must keep for the ring itself: predecessor, successor, a join's bootstrap, fingers. */
  isNeeded(peer: number): boolean {
    return peer === this.predecessor || peer === this.list[0] || peer === this.bootstrap || this.components.fingerTable.has(peer)
  }

  /**
   * The router asks at every frame: one object, refreshed in place (routers
   * read it, never keep it). The routable successor is recomputed only when
   * the successor list or the routable channels changed.
   */
  view(): RoutingView {
    const view = this.routingView
    view.joined = this.joined
    view.predecessor = this.predecessor
    const routing = this.components.channels.routing
    if (this.viewBasis.successors !== this.list || this.viewBasis.routingChanges !== routing.changes) {
      view.successor = this.routableSuccessor()
      this.viewBasis.successors = this.list
      this.viewBasis.routingChanges = routing.changes
    }
    view.alone = this.list.length === 0 && this.predecessor === null
    return view
  }

  /**
   * The successor routing hands keys to: the first listed successor we have a
   * routable channel to, else the first routable peer after us. Keys short of
   * it reach their owner anyway: a Final frame steps back along predecessors.
   * Without this, a peer whose listed successors all lost their channels could
   * not route the very frames that open a channel to one of them.
   */
  private routableSuccessor(): number | null {
    for (const s of this.list) if (this.components.channels.isRoutable(s)) return s
    return this.closestRoutableAfterSelf()
  }
}
