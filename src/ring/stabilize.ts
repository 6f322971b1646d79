import { SchedulerLike, Subscription, catchError, of, switchMap, take, tap } from 'rxjs'
import type { Diagnostics } from '../diagnostics'
import { betweenOpen, formatId } from '../ids'
import type { ChannelSet } from '../router/channel-set'
import type { FingerTable } from './finger-table'
import { RingOp } from './messages'
import type { PeerState, RingRequests } from './requests'
import type { RingPositionCheck } from './self-check'
import type { RingState } from './state'

export interface StabilizeComponents {
  id: number
  state: RingState
  channels: ChannelSet
  fingerTable: FingerTable
  requests: RingRequests
  selfCheck: RingPositionCheck
  scheduler: SchedulerLike
  diagnostics: Diagnostics
  /** A successor that did not answer: true when its channel can renew its path and ICE restarts take it over (src/ring/ice-restarts.ts) instead of closing it. */
  takeOver: (peer: number) => boolean
  /** Work that lives as long as the node. */
  subscriptions: Subscription
}

export interface StabilizeInit {
  stabilizeMs: number
  rpcTimeoutMs: number
}

/**
 * Chord's stabilize, notify and check-predecessor, and the stale-successor
 * hints that speed them up: how a peer keeps its successor list and
 * predecessor right while peers come and go.
 */
export class Stabilizer {
  private stabilizing = false
  /** When we last hinted each neighbour about its stale successor. */
  private readonly hinted = new Map<number, number>()

  constructor(
    private readonly components: StabilizeComponents,
    private readonly init: StabilizeInit,
  ) {}

  /** One stabilize round (run by the timer): check predecessor, confirm successor, adopt a closer one, notify. */
  stabilize(): void {
    const { id, state, channels, requests, selfCheck } = this.components
    if (!state.joined || this.stabilizing) return
    this.checkPredecessor()
    selfCheck.onRound()
    const closer = state.closestRoutableAfterSelf()
    if (closer !== null && (state.successors.length === 0 || betweenOpen(closer, id, state.successors[0]))) {
      // A peer we already talk to sits between us and our successor: it is the better successor.
      state.successors = state.successorList(closer, state.successors)
    }
    const s = state.successors[0]
    if (s === undefined) {
      if (state.predecessor !== null) state.successors = [state.predecessor]
      return
    }
    this.stabilizing = true
    const what = () => `stabilize with ${formatId(s)}`
    const failed = (error: unknown) => {
      this.components.diagnostics.report('SUCCESSOR_DROPPED', error, { peer: s })
      this.dropSuccessor(s)
      this.stabilizing = false
    }
    // Nearly every round the channel is there already: ask straight away (no Observable: this runs for every peer every round).
    if (channels.has(s)) {
      requests.requestState(s, what, (successorState) => this.stabilizeWith(s, successorState), failed)
      return
    }
    this.components.subscriptions.add(
      requests
        .reach$(s)
        .pipe(
          switchMap(() => requests.state$(s, what)),
          take(1),
        )
        .subscribe({ next: (successorState) => this.stabilizeWith(s, successorState), error: failed }),
    )
  }

  /** A peer says it might be our predecessor. Only a peer in the ring may own keys: one still joining would swallow them. */
  onNotify(candidate: number): void {
    const { id, state, channels, scheduler } = this.components
    if (!state.joined || candidate === id || !channels.isRoutable(candidate)) return
    const p = state.predecessor
    if (p === null || !channels.has(p) || betweenOpen(candidate, p, id)) {
      state.predecessor = candidate
    }
    if (candidate === state.predecessor) state.predecessorHeardAt = scheduler.now()
    // A lone peer's first partner is both its predecessor and successor.
    if (state.successors.length === 0) state.successors = [candidate]
  }

  /**
   * `neighbour` believes we follow it, but peers sit between us (the router
   * had to step its frame back): name the one we know closest after it
   * (possibly many peers closer than us at once). At most one hint per
   * neighbour a round.
   */
  hintStaleSuccessor(neighbour: number): void {
    const { id, state, channels, requests, scheduler } = this.components
    const now = scheduler.now()
    if ((this.hinted.get(neighbour) ?? -Infinity) > now - this.init.stabilizeMs) return
    const candidate = channels.routing.closestFollowing(neighbour, id) ?? state.predecessor
    if (candidate === null || candidate === neighbour) return
    this.hinted.set(neighbour, now)
    if (this.hinted.size > 1024) this.hinted.clear()
    requests.send(neighbour, { op: RingOp.Hint, candidate })
  }

  /** A peer after us says `candidate` sits between us and it: a better successor, reached through that peer. */
  onHint(from: number, candidate: number): void {
    const { id, state, requests, diagnostics } = this.components
    const s = state.successors[0]
    if (!state.joined || s === undefined || !betweenOpen(candidate, id, s)) return
    this.components.subscriptions.add(
      requests.reach$(candidate, [from, candidate]).subscribe({
        next: (x) => {
          if (state.successors[0] !== undefined && betweenOpen(x, id, state.successors[0])) state.successors = state.successorList(x, state.successors)
          requests.send(x, { op: RingOp.Notify })
        },
        error: (error) => diagnostics.report('SUCCESSOR_UNREACHABLE', error, { peer: candidate }),
      }),
    )
  }

  /** The rest of a stabilize round, with our successor's state: adopt its list, a closer successor, notify. */
  private stabilizeWith(s: number, successorState: PeerState): void {
    const { id, state, requests, diagnostics } = this.components
    state.successors = state.successorList(s, successorState.successors)
    const x = successorState.predecessor
    // It already names us as its predecessor: a notify would tell it nothing (our GetState keeps us fresh there).
    if (x === id) return void (this.stabilizing = false)
    if (x === null || !betweenOpen(x, id, s)) {
      requests.send(s, { op: RingOp.Notify })
      return void (this.stabilizing = false)
    }
    // Someone joined between us and our successor: it becomes our successor
    // once we reach it, through our successor, which has a channel to it.
    this.components.subscriptions.add(
      requests
        .reach$(x, [s, x])
        .pipe(
          tap((reached) => (state.successors = state.successorList(reached, state.successors))),
          catchError((error) => {
            diagnostics.report('SUCCESSOR_UNREACHABLE', error, { peer: x })
            return of(s)
          }),
        )
        .subscribe({
          next: (successor) => requests.send(successor, { op: RingOp.Notify }),
          complete: () => (this.stabilizing = false),
        }),
    )
  }

  /** Our predecessor stabilizes against us every round; silence for three rounds means it is gone. */
  private checkPredecessor(): void {
    const { state, channels, scheduler } = this.components
    const p = state.predecessor
    if (p === null) return
    const silentFor = scheduler.now() - state.predecessorHeardAt
    if (!channels.has(p) || silentFor > 3 * this.init.stabilizeMs + this.init.rpcTimeoutMs) state.predecessor = null
  }

  private dropSuccessor(s: number): void {
    const { state, channels, fingerTable } = this.components
    state.successors = state.successors.filter((id) => id !== s)
    // A channel being renewed stays: healthy again, its peer is the closest routable one and comes back.
    if (!this.components.takeOver(s)) channels.close(s)
    fingerTable.forget(s)
    if (state.successors.length === 0) {
      // Every listed successor is gone: start again from the closest peer we still reach; stabilize walks back from there.
      const next = state.closestRoutableAfterSelf()
      if (next !== null) state.successors = [next]
    }
  }
}
