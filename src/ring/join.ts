import { NEVER, Observable, SchedulerLike, Subject, catchError, defer, filter, map, merge, of, retry, switchMap, take, tap, throwError, timer } from 'rxjs'
import type { Diagnostics } from '../diagnostics'
import { ExplorerError, isExplorerError } from '../errors'
import { formatId } from '../ids'
import { withTimeout } from '../operators'
import type { RelayedLinks } from '../links/relayed-links'
import type { ChannelSet } from '../router/channel-set'
import type { Channel } from '../transport/types'
import { RingOp } from './messages'
import type { RingRequests } from './requests'
import type { RingState } from './state'

/** A join tries this many times to find and reach its successor before giving up. */
const JOIN_ATTEMPTS = 6

export interface JoinComponents {
  id: number
  state: RingState
  channels: ChannelSet
  /** A bootstrap that relays a link to our successor (we have no direct path to it) stays. */
  links: Pick<RelayedLinks, 'relaysThrough'>
  requests: RingRequests
  scheduler: SchedulerLike
  random: () => number
  diagnostics: Diagnostics
}

export interface JoinInit {
  stabilizeMs: number
  rpcTimeoutMs: number
  /** We are in the ring: say so and start the maintenance rounds. */
  becomeJoined: () => void
  /** The node closed: no more attempts. */
  closed: () => boolean
}

/**
 * Chord's join: through a bootstrap channel (opened for us by the signalling
 * server, or a rendezvous in the testnet), find our successor, open a channel
 * to it through the overlay, take its successor list, become joined, notify it.
 */
export class Join {
  /** Peers whose Hello said they are in the ring: the bootstrap must be, before we ask it anything. */
  private readonly joinedHellos = new Subject<number>()

  constructor(
    private readonly components: JoinComponents,
    private readonly init: JoinInit,
  ) {}

  /** A neighbour's Hello said it is in the ring. */
  onJoinedHello(peer: number): void {
    this.joinedHellos.next(peer)
  }

  /**
   * Joins the ring that `bootstrap` (a channel we dialled) belongs to.
   * Completes once we are in the ring; a failed join leaves the node as it
   * was, ready for another try through another bootstrap.
   *
   * `bootstrapIsNext`: the signalling server registers no peer between us and
   * the bootstrap. When the lookup of our id has not answered within half a round,
   * the bootstrap is then taken as our successor: the lookup waits on a peer
   * in between that the server has lost (it crashed a moment ago: its
   * neighbours notice only after seconds of silence), or on a slow ring. If
   * a live peer is in between after all, stabilize finds it through the
   * bootstrap's predecessor and takes it as successor, as after any join.
   */
  join$(bootstrap: Channel, bootstrapIsNext = false): Observable<void> {
    return defer(() => {
      const { id, state, channels, requests } = this.components
      const b = bootstrap.remoteId
      state.bootstrap = b
      channels.add(bootstrap, id)
      // Concurrent joins make the first answers stale (the owner we found may
      // itself be mid-join): retry the steps after the bootstrap a few times.
      const attempt$ = defer(() => requests.lookupOpening$(id)).pipe(
        switchMap(({ owner, route }) => {
          if (owner === id) throw new ExplorerError('JOIN_FAILED', `id ${formatId(id)} is already in the ring`)
          return requests.reach$(owner, route)
        }),
        switchMap((owner) => requests.state$(owner, () => `join at ${formatId(owner)}`).pipe(map((successorState) => ({ owner, successorState })))),
        take(1),
        retry({ count: JOIN_ATTEMPTS - 1, delay: (error, attempt) => this.retryDelay$(error, attempt, b) }),
      )
      const nextToUs$ = !bootstrapIsNext
        ? NEVER
        : timer(this.init.stabilizeMs / 2, this.components.scheduler).pipe(
            switchMap(() => requests.state$(b, () => `join at ${formatId(b)}`)),
            map((successorState) => ({ owner: b, successorState })),
            // The lookup may still answer: only it fails the join.
            catchError(() => NEVER),
          )
      return this.whenRoutable$(b).pipe(
        switchMap(() => merge(attempt$, nextToUs$).pipe(take(1))),
        map(({ owner, successorState }) => {
          state.successors = state.successorList(owner, successorState.successors)
          // Hello (joined) goes out on every channel first, so the successor
          // sees us as routable before our notify makes us its predecessor.
          this.init.becomeJoined()
          requests.send(owner, { op: RingOp.Notify })
          if (b !== owner && !state.isNeeded(b) && !this.components.links.relaysThrough(b)) channels.close(b)
        }),
        tap({ error: () => this.abandon(b) }),
      )
    })
  }

  close(): void {
    this.joinedHellos.complete()
  }

  private whenRoutable$(remote: number): Observable<unknown> {
    return defer(() =>
      this.components.channels.isRoutable(remote) ? of(remote) : this.joinedHellos.pipe(filter((id) => id === remote), take(1)),
    ).pipe(withTimeout(this.init.rpcTimeoutMs, this.components.scheduler, () => new ExplorerError('JOIN_FAILED', `bootstrap peer ${formatId(remote)} is not in a ring`)))
  }

  private retryDelay$(error: unknown, attempt: number, bootstrap: number): Observable<unknown> {
    if (isExplorerError(error, 'JOIN_FAILED') || this.init.closed()) return throwError(() => error)
    this.components.diagnostics.report('JOIN_ATTEMPT_FAILED', error, { peer: bootstrap })
    const backoff = this.init.stabilizeMs * 2 ** (attempt - 1)
    return timer(backoff + Math.floor(this.components.random() * backoff), this.components.scheduler)
  }

  private abandon(bootstrap: number): void {
    const { state, channels } = this.components
    if (state.joined) return
    state.bootstrap = null
    state.successors = []
    channels.close(bootstrap)
  }
}
