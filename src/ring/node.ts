import {
  EMPTY, Observable, SchedulerLike, Subject, Subscription, asyncScheduler, catchError, concat, defer, filter, finalize, from,
  map, mergeMap, of, retry, switchMap, take, tap, throwError, timer,
} from 'rxjs'
import { ExplorerError, isExplorerError } from '../errors'
import { RING_SIZE, betweenOpen, betweenRightInclusive, fingerStart, formatId } from '../ids'
import { withTimeout } from '../operators'
import { ChannelSet, PeerEvent } from '../router/channel-set'
import { LocalFrame, Router } from '../router/router'
import type { RoutingView } from '../router/routing-table'
import type { Channel } from '../transport/types'
import { FrameType } from '../wire/frame'
import { FingerTable, FingerUpdate, estimateRingSize } from './finger-table'
import { CarriedOffer, RingMessage, RingOp, decodeRingMessage, encodeRingMessage } from './messages'
import { RING_DEFAULTS, RingOptions, RingTimingOptions } from './options'
import { OverlaySignalling } from './overlay-signalling'
import { RpcTable } from './rpc'

export interface LookupResult {
  /** The peer responsible for the key. */
  owner: number
  /** Forwarding steps the request took to reach it. */
  hops: number
  /** The hops from us to the owner (the owner last; empty when it is us): a source route to it. */
  route: number[]
}

export interface RingSnapshot {
  id: string
  joined: boolean
  predecessor: string | null
  successors: string[]
  fingers: { row: number; id: string }[]
  channels: number
}

type Reply = { frame: LocalFrame; message: RingMessage }

/** Who owns a finger row, and a route to it when a lookup found it (null: route by id). */
type RowOwner = { owner: number; route: number[] | null }

/** What a peer answers to GetState: its predecessor and successor list. */
type RingState = { predecessor: number | null; successors: number[] }

/** GetState has no fields: every request carries the same payload. */
const GET_STATE = encodeRingMessage({ op: RingOp.GetState })

/** A join tries this many times to find and reach its successor before giving up. */
const JOIN_ATTEMPTS = 6

/** A settled finger table is refreshed at most this many times less often. */
const FIX_FINGERS_MAX_BACKOFF = 8

/** Rounds between asking the ring who our successor is (every round while we have no predecessor). */
const SELF_CHECK_EVERY = 8

/** While those checks keep confirming our position, their interval doubles up to this many rounds. */
const SELF_CHECK_MAX_EVERY = 64

/**
 * One peer of the Chord ring, transport-agnostic: it sees Channels, a
 * Transport to open more, and a scheduler for its timers.
 */
export class RingNode {
  readonly id: number
  readonly channels: ChannelSet
  readonly router: Router
  readonly signalling: OverlaySignalling
  readonly fingerTable: FingerTable
  readonly fingers$: Observable<FingerUpdate>
  readonly peers$: Observable<PeerEvent>
  predecessor: number | null = null
  joined = false
  private successorIds: number[] = []

  private readonly scheduler: SchedulerLike
  private readonly random: () => number
  private readonly timing: RingTimingOptions
  private readonly r: number
  private readonly maxChannels: number
  private readonly rpc: RpcTable<Reply>
  private readonly hellos = new Subject<number>()
  private readonly subscriptions = new Subscription()
  /** The stabilize and fix-fingers timers: stopped first when the node closes. */
  private readonly maintenance = new Subscription()
  private bootstrap: number | null = null
  private stabilizing = false
  private rounds = 0
  private nextFingerIndex = 0
  private fingerBackoff = 1
  private fingerSkip = 0
  private fingerPassChanged = true
  private selfCheckEvery = SELF_CHECK_EVERY
  private nextSelfCheck = SELF_CHECK_EVERY
  private selfChecksConfirmed = 0
  /** The checks alternate between our own id and the key right after it. */
  private selfCheckOwnId = false
  private predecessorHeardAt = 0
  /** When we last hinted each neighbour about its stale successor. */
  private readonly hinted = new Map<number, number>()
  private closed = false
  private readonly routingView: RoutingView
  /** What routingView.successor was computed from (the list is replaced, never changed in place). */
  private readonly viewBasis = { successors: null as number[] | null, routingChanges: -1 }

  constructor(options: RingOptions) {
    this.id = options.id
    this.routingView = { self: this.id, joined: false, predecessor: null, successor: null, alone: true }
    this.scheduler = options.scheduler ?? asyncScheduler
    this.random = options.random ?? Math.random
    this.timing = {
      stabilizeMs: options.stabilizeMs ?? RING_DEFAULTS.stabilizeMs,
      fixFingersMs: options.fixFingersMs ?? RING_DEFAULTS.fixFingersMs,
      rpcTimeoutMs: options.rpcTimeoutMs ?? RING_DEFAULTS.rpcTimeoutMs,
      connectTimeoutMs: options.connectTimeoutMs ?? RING_DEFAULTS.connectTimeoutMs,
    }
    this.r = options.successors ?? RING_DEFAULTS.successors
    this.maxChannels = options.maxChannels ?? RING_DEFAULTS.maxChannels
    this.channels = new ChannelSet(this.id, () => this.scheduler.now())
    this.router = new Router(this.channels, () => this.view(), (neighbour) => this.hintStaleSuccessor(neighbour), options.abusePolicy)
    this.signalling = new OverlaySignalling(
      this.id, options.transport, this.router, this.channels, this.scheduler,
      {
        connectTimeoutMs: this.timing.connectTimeoutMs,
        maxSessions: options.maxSignalSessions ?? RING_DEFAULTS.maxSignalSessions,
        joined: () => this.joined,
      },
      this.random,
    )
    this.fingerTable = new FingerTable(options.maxFingers ?? RING_DEFAULTS.maxFingers)
    this.fingers$ = this.fingerTable.updates$
    this.peers$ = this.channels.events$
    this.rpc = new RpcTable<Reply>(this.scheduler, this.random)
    this.subscriptions.add(this.router.frames$(FrameType.Ring).subscribe((frame) => this.onRingFrame(frame)))
    this.subscriptions.add(this.channels.events$.subscribe((event) => this.onPeerEvent(event)))
  }

  /** successors[0] is the successor; empty while alone. */
  get successors(): number[] {
    return this.successorIds
  }

  /** A changed successor list may move finger owners: fix-fingers drops its backoff and refreshes at full pace. */
  set successors(list: number[]) {
    const before = this.successorIds
    this.successorIds = list
    if (list.length !== before.length || list.some((id, i) => id !== before[i])) {
      this.resetFingerBackoff()
      this.resetSelfCheck()
    }
  }

  get successor(): number {
    return this.successors[0] ?? this.id
  }

  /**
   * Whether a channel to `peer` is worth opening because it would be a closer
   * successor than ours (the signalling server's hint, see
   * signal-server/ring-hints.ts). Once it is open and routable, stabilize adopts it.
   */
  wantsSuccessor(peer: number): boolean {
    if (!this.joined || peer === this.id || this.channels.has(peer)) return false
    return this.successor === this.id || betweenOpen(peer, this.id, this.successor)
  }

  /** Starts a new ring of one. */
  create(): void {
    this.assertOpen()
    this.becomeJoined()
  }

  /**
   * Joins the ring that `bootstrap` (a channel we dialled) belongs to:
   * find our successor through it, open a channel to the successor through
   * the overlay, notify it. Completes once we are in the ring.
   */
  join$(bootstrap: Channel): Observable<void> {
    return defer(() => {
      this.assertOpen()
      const b = bootstrap.remoteId
      this.bootstrap = b
      this.channels.add(bootstrap, this.id)
      // Concurrent joins make the first answers stale (the owner we found may
      // itself be mid-join): retry the steps after the bootstrap a few times.
      const attempt$ = defer(() => this.lookupOpening$(this.id)).pipe(
        switchMap(({ owner, route }) => {
          if (owner === this.id) throw new ExplorerError('JOIN_FAILED', `id ${formatId(this.id)} is already in the ring`)
          return concat(this.signalling.ensureChannel$(owner, route), of(owner))
        }),
        filter((owner): owner is number => typeof owner === 'number'),
        switchMap((owner) => this.getState$(owner).pipe(map((state) => ({ owner, state })))),
        take(1),
        retry({ count: JOIN_ATTEMPTS - 1, delay: (error, attempt) => this.joinRetryDelay$(error, attempt) }),
      )
      return this.whenRoutable$(b).pipe(
        switchMap(() => attempt$),
        map(({ owner, state }) => {
          this.successors = this.successorList(owner, state.successors)
          // Hello (joined) goes out on every channel first, so the successor
          // sees us as routable before our notify makes us its predecessor.
          this.becomeJoined()
          this.sendRing(owner, { op: RingOp.Notify })
          if (b !== owner && !this.isNeeded(b)) this.channels.close(b)
        }),
        // A failed join leaves the node as it was, ready for another try through another bootstrap.
        tap({ error: () => this.abandonJoin(b) }),
      )
    })
  }

  /** The peer responsible for `key`, found by routing a request to it (starting at neighbour `through` if given). */
  lookup$(key: number, through?: number): Observable<LookupResult> {
    return this.find$(key, through)
  }

  /**
   * A lookup that also opens a channel to the owner: the transport's offer
   * rides on the request and the owner's answer on its Found, so a new
   * finger costs two traversals of the ring instead of four. When the owner
   * declines (it has a channel to us already, say), the caller's
   * `ensureChannel$` dials as usual.
   */
  private lookupOpening$(key: number): Observable<LookupResult> {
    return this.signalling.openOffer$().pipe(
      switchMap((offer) => {
        if (offer === null) return this.find$(key)
        return this.find$(key, undefined, offer).pipe(
          tap(({ owner, route, answer }) => this.signalling.bindOffer(offer.session, owner, route, answer)),
          finalize(() => this.signalling.dropOffer(offer.session)),
        )
      }),
    )
  }

  private find$(key: number, through?: number, offer?: CarriedOffer): Observable<LookupResult & { answer?: Uint8Array }> {
    return this.rpc
      .call$(
        (conn) => {
          const frame = { type: FrameType.Ring, dest: key, flags: 0, conn, seq: 0, payload: encodeRingMessage({ op: RingOp.FindSuccessor, offer }) }
          return through === undefined ? this.router.send(frame, true) : this.router.sendThrough(through, frame, true)
        },
        this.timing.rpcTimeoutMs, 'LOOKUP_TIMEOUT', () => `lookup of ${formatId(key)}`,
      )
      .pipe(
        map(({ frame, message }) => {
          const path = message.op === RingOp.Found ? message.path : []
          const route = frame.source === this.id ? [] : [...path.slice(1), frame.source]
          const found = message.op === RingOp.Found ? message : null
          return { owner: frame.source, hops: found?.hops ?? 0, route, answer: found?.answer }
        }),
      )
  }

  /** Refreshes one finger row: looks up its start and opens a channel to the owner. Emits the row's state after. */
  updateFinger$(row: number): Observable<FingerUpdate> {
    return defer(() => {
      const start = fingerStart(this.id, row)
      const previous = this.fingerTable.get(row)
      const known = this.ownerFromSuccessorList(start)
      const owner$: Observable<RowOwner> =
        known !== null ? of({ owner: known, route: null }) : previous !== undefined && this.channels.has(previous) ? this.confirmFinger$(start, previous) : this.lookupOpening$(start)
      return this.settleRow$(row, previous, owner$)
    })
  }

  /** Points `row` at the owner `owner$` finds, once a channel to it is open. */
  private settleRow$(row: number, previous: number | undefined, owner$: Observable<RowOwner>): Observable<FingerUpdate> {
    return owner$.pipe(
      switchMap(({ owner, route }) => (owner === this.id ? of(owner) : concat(this.signalling.ensureChannel$(owner, route), of(owner)))),
      filter((owner): owner is number => typeof owner === 'number'),
      take(1),
      map((owner) => {
        const update = owner === this.id ? this.fingerTable.delete(row) : this.fingerTable.set(row, owner)
        const now = this.fingerTable.get(row)
        return update ?? { row, id: now === undefined ? null : formatId(now), previous: previous === undefined ? null : formatId(previous) }
      }),
    )
  }

  /**
   * The owner of `start` when our current finger `finger` still is: its
   * predecessor is before `start`, so one exchange with a neighbour instead
   * of a lookup across the ring (a settled table is refreshed for 2 frames a
   * row). Anything else, or no answer, falls back to the lookup.
   */
  private confirmFinger$(start: number, finger: number): Observable<RowOwner> {
    return this.getState$(finger).pipe(
      catchError(() => of(null)),
      switchMap((state) => (stillOwns(finger, start, state?.predecessor ?? null) ? of({ owner: finger, route: null }) : this.lookupOpening$(start))),
    )
  }

  /** The owner of `key` when it falls within our successor list's span (no lookup needed), else null. */
  private ownerFromSuccessorList(key: number): number | null {
    let from = this.id
    for (const s of this.successors) {
      if (betweenRightInclusive(key, from, s)) return s
      from = s
    }
    return null
  }

  /** Refreshes every row worth keeping for the ring's estimated size; emits each row's state. */
  updateFingerTable$(): Observable<FingerUpdate> {
    return defer(() => {
      const rows = this.chosenRows()
      this.fingerTable.retain(rows)
      return from(rows).pipe(mergeMap((row) => this.updateFinger$(row).pipe(catchError(() => EMPTY)), 4))
    })
  }

  /** One stabilize round (also run by the timer): check predecessor, confirm successor, adopt a closer one, notify. */
  stabilize(): void {
    if (!this.joined || this.stabilizing) return
    this.checkPredecessor()
    this.rounds++
    if (this.predecessor === null) this.checkRingPosition(this.id)
    else if (this.rounds >= this.nextSelfCheck) {
      this.nextSelfCheck = this.rounds + this.selfCheckEvery
      this.selfCheckOwnId = !this.selfCheckOwnId
      this.checkRingPosition(this.selfCheckOwnId ? this.id : (this.id + 1) % RING_SIZE)
    }
    const closer = this.closestRoutableAfterSelf()
    if (closer !== null && (this.successors.length === 0 || betweenOpen(closer, this.id, this.successors[0]))) {
      // A peer we already talk to sits between us and our successor: it is the better successor.
      this.successors = this.successorList(closer, this.successors)
    }
    const s = this.successors[0]
    if (s === undefined) {
      if (this.predecessor !== null) this.successors = [this.predecessor]
      return
    }
    this.stabilizing = true
    const failed = () => {
      this.dropSuccessor(s)
      this.stabilizing = false
    }
    // Nearly every round the channel is there already: ask straight away (no Observable: this runs for every peer every round).
    if (this.channels.has(s)) {
      this.rpc.request(
        (conn) => this.sendGetState(s, conn), this.timing.rpcTimeoutMs, 'LOOKUP_TIMEOUT', () => `stabilize with ${formatId(s)}`,
        (reply) => (reply.message.op === RingOp.State ? this.stabilizeWith(s, reply.message) : failed()),
        failed,
      )
      return
    }
    let answered = false
    this.subscriptions.add(
      concat(this.signalling.ensureChannel$(s), defer(() => this.getState$(s)))
        .pipe(filter((state): state is RingState => typeof state === 'object' && state !== null), take(1))
        .subscribe({
          next: (state) => {
            answered = true
            this.stabilizeWith(s, state)
          },
          error: failed,
          complete: () => answered || failed(),
        }),
    )
  }

  /** The rest of a stabilize round, with our successor's state: adopt its list, a closer successor, notify. */
  private stabilizeWith(s: number, state: RingState): void {
    this.successors = this.successorList(s, state.successors)
    const x = state.predecessor
    // It already names us as its predecessor: a notify would tell it nothing (our GetState keeps us fresh there).
    if (x === this.id) return void (this.stabilizing = false)
    if (x === null || !betweenOpen(x, this.id, s)) {
      this.sendRing(s, { op: RingOp.Notify })
      return void (this.stabilizing = false)
    }
    // Someone joined between us and our successor: it becomes our successor
    // once we reach it, through our successor, which has a channel to it.
    this.subscriptions.add(
      concat(this.signalling.ensureChannel$(x, [s, x]), of(x))
        .pipe(
          filter((id): id is number => typeof id === 'number'),
          tap((x) => (this.successors = this.successorList(x, this.successors))),
          catchError(() => of(s)),
        )
        .subscribe({
          next: (successor) => this.sendRing(successor, { op: RingOp.Notify }),
          complete: () => (this.stabilizing = false),
        }),
    )
  }

  /**
   * One fix-fingers tick (also run by the timer): refresh the next row,
   * round-robin. After a whole pass that changed nothing, ticks are skipped
   * more and more (up to FIX_FINGERS_MAX_BACKOFF): a settled ring costs little.
   */
  fixNextFinger(): void {
    if (!this.joined) return
    if (this.fingerSkip > 0) {
      this.fingerSkip--
      return
    }
    const rows = this.chosenRows()
    this.fingerTable.retain(rows)
    const index = this.nextFingerIndex++ % rows.length
    if (index === 0) {
      this.fingerBackoff = this.fingerPassChanged ? 1 : Math.min(this.fingerBackoff * 2, FIX_FINGERS_MAX_BACKOFF)
      this.fingerPassChanged = false
    }
    this.fingerSkip = this.fingerBackoff - 1
    this.refreshRow(rows[index])
  }

  /**
   * updateFinger$ for the timer. A settled table's usual case, a finger that
   * still owns its row, is one exchange with it and no Observable: this runs
   * for every peer every tick.
   */
  private refreshRow(row: number): void {
    const start = fingerStart(this.id, row)
    const finger = this.fingerTable.get(row)
    if (finger === undefined || !this.channels.has(finger) || this.ownerFromSuccessorList(start) !== null) {
      return this.watchRow(this.updateFinger$(row))
    }
    const moved = () => this.watchRow(this.settleRow$(row, finger, this.lookupOpening$(start)))
    this.rpc.request(
      (conn) => this.sendGetState(finger, conn), this.timing.rpcTimeoutMs, 'LOOKUP_TIMEOUT', () => `finger check with ${formatId(finger)}`,
      ({ message }) => {
        if (!stillOwns(finger, start, message.op === RingOp.State ? message.predecessor : null)) moved()
      },
      moved,
    )
  }

  /** A row being refreshed: any change (or failure) means the pass changed something. */
  private watchRow(update$: Observable<FingerUpdate>): void {
    this.subscriptions.add(
      update$.subscribe({
        next: (update) => {
          if (update.id !== update.previous) this.fingerPassChanged = true
        },
        error: () => (this.fingerPassChanged = true),
      }),
    )
  }

  /** Ring-position checks every SELF_CHECK_EVERY rounds again (never later than already due: frequent changes must not postpone them). */
  private resetSelfCheck(): void {
    this.selfChecksConfirmed = 0
    this.selfCheckEvery = SELF_CHECK_EVERY
    this.nextSelfCheck = Math.min(this.nextSelfCheck, this.rounds + SELF_CHECK_EVERY)
  }

  /** A check that found us where we thought we were: after both kinds did, the next one can wait twice as long. */
  private selfCheckConfirmed(): void {
    this.selfChecksConfirmed++
    // Both keys (our id, the key after it) confirmed in a row before the interval grows.
    if (this.selfChecksConfirmed >= 2) this.selfCheckEvery = Math.min(this.selfCheckEvery * 2, SELF_CHECK_MAX_EVERY)
    this.nextSelfCheck = this.rounds + this.selfCheckEvery
  }

  private resetFingerBackoff(): void {
    this.fingerBackoff = 1
    this.fingerSkip = 0
    this.fingerPassChanged = true
  }

  snapshot(): RingSnapshot {
    return {
      id: formatId(this.id),
      joined: this.joined,
      predecessor: this.predecessor === null ? null : formatId(this.predecessor),
      successors: this.successors.map(formatId),
      fingers: this.fingerTable.rows().map((row) => ({ row, id: formatId(this.fingerTable.get(row)!) })),
      channels: this.channels.size,
    }
  }

  /** Starts no more maintenance rounds (the first step of closing: a peer on its way out sends nothing new). */
  stopMaintenance(): void {
    this.maintenance.unsubscribe()
  }

  /** Leaves without notice to anyone (a tab closing): every channel closes. */
  close(): void {
    if (this.closed) return
    this.closed = true
    this.joined = false
    this.subscriptions.unsubscribe()
    this.signalling.close()
    this.rpc.close()
    this.router.close()
    this.channels.closeAll()
    this.fingerTable.complete()
    this.hellos.complete()
  }

  /**
   * The router asks at every frame: one object, refreshed in place (routers
   * read it, never keep it). The routable successor is recomputed only when
   * the successor list or the routable channels changed.
   */
  private view(): RoutingView {
    const view = this.routingView
    view.joined = this.joined
    view.predecessor = this.predecessor
    const routing = this.channels.routing
    if (this.viewBasis.successors !== this.successorIds || this.viewBasis.routingChanges !== routing.changes) {
      view.successor = this.routableSuccessor()
      this.viewBasis.successors = this.successorIds
      this.viewBasis.routingChanges = routing.changes
    }
    view.alone = this.successorIds.length === 0 && this.predecessor === null
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
    for (const s of this.successorIds) if (this.channels.isRoutable(s)) return s
    return this.closestRoutableAfterSelf()
  }

  private becomeJoined(): void {
    this.joined = true
    this.bootstrap = null
    for (const remote of this.channels.remotes()) this.sendRing(remote, { op: RingOp.Hello, joined: true })
    const jitter = () => Math.floor(this.random() * this.timing.stabilizeMs)
    this.maintenance.add(timer(jitter(), this.timing.stabilizeMs, this.scheduler).subscribe(() => this.stabilize()))
    this.maintenance.add(timer(jitter(), this.timing.fixFingersMs, this.scheduler).subscribe(() => this.fixNextFinger()))
    this.subscriptions.add(this.maintenance)
  }

  private abandonJoin(bootstrap: number): void {
    if (this.joined) return
    this.bootstrap = null
    this.successors = []
    this.channels.close(bootstrap)
  }

  private joinRetryDelay$(error: unknown, attempt: number): Observable<unknown> {
    if (isExplorerError(error, 'JOIN_FAILED') || this.closed) return throwError(() => error)
    const backoff = this.timing.stabilizeMs * 2 ** (attempt - 1)
    return timer(backoff + Math.floor(this.random() * backoff), this.scheduler)
  }

  private chosenRows(): readonly number[] {
    return this.fingerTable.chooseRows(estimateRingSize(this.id, this.successors))
  }

  /** The successor list from our successor's: it, then its list, without us or repeats, r long. */
  private successorList(first: number, rest: readonly number[]): number[] {
    const list = [first]
    for (const id of rest) {
      if (list.length >= this.r) break
      if (id !== this.id && !list.includes(id)) list.push(id)
    }
    return list
  }

  /**
   * Two repairs plain stabilize lacks, both by asking the rest of the ring
   * (a lookup that starts at a neighbour):
   * - who owns our own id: if not us, we are an orphan (no peer points at us,
   *   the ring split into interleaved chains); notifying that owner lets its
   *   predecessor find us;
   * - who owns the key right after us, i.e. our true successor: when a join
   *   picked a far successor, stabilize walks back one peer a round, while the
   *   lookup's step-back walk does it in one go.
   * A closer answer than our successor is adopted; the owner is notified.
   * Once both keys in a row confirm our position (we own our id, our
   * successor owns the key after it) the checks back off, up to every
   * SELF_CHECK_MAX_EVERY rounds; any other answer, a failed check or a
   * changed successor list brings them back to every SELF_CHECK_EVERY rounds.
   * (Backing off on one key alone delayed the successor check that repairs a
   * far successor: 16384 peers took 44 rounds instead of 35.)
   */
  private checkRingPosition(key: number): void {
    const neighbours = this.channels.routing.list().filter((id) => id !== this.successors[0])
    if (neighbours.length === 0) return
    const through = neighbours[Math.floor(this.random() * neighbours.length)]
    const check$ = this.lookup$(key, through).pipe(
      tap({
        next: ({ owner }) => (owner === (key === this.id ? this.id : this.successors[0]) ? this.selfCheckConfirmed() : this.resetSelfCheck()),
        error: () => this.resetSelfCheck(),
      }),
      filter(({ owner }) => owner !== this.id),
      switchMap(({ owner, route }) => concat(this.signalling.ensureChannel$(owner, route), of(owner))),
      filter((owner): owner is number => typeof owner === 'number'),
    )
    this.subscriptions.add(
      check$.subscribe({
        next: (owner) => {
          if (this.successors.length === 0 || betweenOpen(owner, this.id, this.successors[0])) this.successors = this.successorList(owner, this.successors)
          // We sit between the owner and its predecessor: telling it lets its predecessor find us.
          this.sendRing(owner, { op: RingOp.Notify })
        },
        error: () => undefined,
      }),
    )
  }

  private checkPredecessor(): void {
    const p = this.predecessor
    if (p === null) return
    // Our predecessor stabilizes against us every round; silence for three rounds means it is gone.
    const silentFor = this.scheduler.now() - this.predecessorHeardAt
    if (!this.channels.has(p) || silentFor > 3 * this.timing.stabilizeMs + this.timing.rpcTimeoutMs) this.predecessor = null
  }

  private dropSuccessor(s: number): void {
    this.successors = this.successors.filter((id) => id !== s)
    this.channels.close(s)
    this.fingerTable.forget(s)
    if (this.successors.length === 0) {
      // Every listed successor is gone: start again from the closest peer we still reach; stabilize walks back from there.
      const next = this.closestRoutableAfterSelf()
      if (next !== null) this.successors = [next]
    }
  }

  /** The first routable peer clockwise after us (we are never in our own table). */
  private closestRoutableAfterSelf(): number | null {
    return this.channels.routing.from((this.id + 1) % RING_SIZE, 1)[0] ?? null
  }

  private sendGetState(remote: number, conn: number): boolean {
    return this.router.sendDirect(remote, { type: FrameType.Ring, conn, seq: 0, payload: GET_STATE })
  }

  private getState$(remote: number): Observable<RingState> {
    return this.rpc
      .call$((conn) => this.sendGetState(remote, conn), this.timing.rpcTimeoutMs, 'LOOKUP_TIMEOUT', () => `stabilize with ${formatId(remote)}`)
      .pipe(
        map(({ message }) => {
          if (message.op !== RingOp.State) throw new ExplorerError('BAD_FRAME', 'expected a state reply')
          return { predecessor: message.predecessor, successors: message.successors }
        }),
      )
  }

  private whenRoutable$(remote: number): Observable<unknown> {
    return defer(() =>
      this.channels.isRoutable(remote) ? of(remote) : this.hellos.pipe(filter((id) => id === remote), take(1)),
    ).pipe(withTimeout(this.timing.rpcTimeoutMs, this.scheduler, () => new ExplorerError('JOIN_FAILED', `bootstrap peer ${formatId(remote)} is not in a ring`)))
  }

  private sendRing(remote: number, message: RingMessage, conn = 0): void {
    this.router.sendDirect(remote, { type: FrameType.Ring, conn, seq: 0, payload: encodeRingMessage(message) })
  }

  private onRingFrame(frame: LocalFrame): void {
    let message: RingMessage
    try {
      message = decodeRingMessage(frame.payload)
    } catch {
      // Counted, and held against the neighbour if it wrote the frame (src/router/router.ts).
      this.router.rejectPayload(frame)
      return
    }
    switch (message.op) {
      case RingOp.FindSuccessor: {
        if (!this.joined || frame.unreachable) return
        const found = (answer: Uint8Array | undefined) =>
          this.router.reply(frame, {
            type: FrameType.Ring, conn: frame.conn, seq: 0,
            payload: encodeRingMessage({ op: RingOp.Found, hops: Math.min(frame.hops, 255), predecessor: this.predecessor, successors: this.successors, path: frame.path ?? [], answer }),
          })
        if (message.offer === undefined) found(undefined)
        else this.signalling.acceptCarried(frame.source, frame.path === null ? null : [...frame.path].reverse(), message.offer, found)
        return
      }
      case RingOp.Found:
      case RingOp.State:
        this.rpc.resolve(frame.conn, { frame, message })
        return
      case RingOp.GetState:
        if (!this.joined || frame.from !== frame.source) return
        if (frame.source === this.predecessor) this.predecessorHeardAt = this.scheduler.now()
        this.sendRing(frame.source, { op: RingOp.State, predecessor: this.predecessor, successors: this.successors }, frame.conn)
        return
      case RingOp.Notify:
        if (frame.from === frame.source) this.onNotify(frame.source)
        return
      case RingOp.Hint:
        if (frame.from === frame.source) this.onHint(frame.source, message.candidate)
        return
      case RingOp.Hello:
        if (frame.from !== frame.source) return
        this.channels.setRoutable(frame.source, message.joined)
        if (message.joined) this.hellos.next(frame.source)
        return
    }
  }

  /**
   * `neighbour` believes we follow it, but peers sit between us: name the one
   * we know closest after it (possibly many peers closer than us at once).
   * At most one hint per neighbour a round.
   */
  private hintStaleSuccessor(neighbour: number): void {
    const now = this.scheduler.now()
    if ((this.hinted.get(neighbour) ?? -Infinity) > now - this.timing.stabilizeMs) return
    const candidate = this.channels.routing.closestFollowing(neighbour, this.id) ?? this.predecessor
    if (candidate === null || candidate === neighbour) return
    this.hinted.set(neighbour, now)
    if (this.hinted.size > 1024) this.hinted.clear()
    this.sendRing(neighbour, { op: RingOp.Hint, candidate })
  }

  /** A peer after us says `candidate` sits between us and it: a better successor, reached through that peer. */
  private onHint(from: number, candidate: number): void {
    const s = this.successors[0]
    if (!this.joined || s === undefined || !betweenOpen(candidate, this.id, s)) return
    this.subscriptions.add(
      concat(this.signalling.ensureChannel$(candidate, [from, candidate]), of(candidate))
        .pipe(filter((id): id is number => typeof id === 'number'))
        .subscribe({
          next: (x) => {
            if (this.successors[0] !== undefined && betweenOpen(x, this.id, this.successors[0])) this.successors = this.successorList(x, this.successors)
            this.sendRing(x, { op: RingOp.Notify })
          },
          error: () => undefined,
        }),
    )
  }

  private onNotify(candidate: number): void {
    // Only a peer in the ring may own keys: one still joining would swallow them.
    if (!this.joined || candidate === this.id || !this.channels.isRoutable(candidate)) return
    const p = this.predecessor
    if (p === null || !this.channels.has(p) || betweenOpen(candidate, p, this.id)) {
      this.predecessor = candidate
    }
    if (candidate === this.predecessor) this.predecessorHeardAt = this.scheduler.now()
    // A lone peer's first partner is both its predecessor and successor.
    if (this.successors.length === 0) this.successors = [candidate]
  }

  private onPeerEvent(event: PeerEvent): void {
    if (event.type === 'up') {
      if (!event.introduced) this.sendRing(event.peer, { op: RingOp.Hello, joined: this.joined })
      this.pruneChannels()
      return
    }
    if (this.predecessor === event.peer) this.predecessor = null
    // A successor whose channel closed is most likely gone: move on to the next
    // in the list now instead of trying to reach it again for a whole connect
    // timeout. (Only the first: the list must stay contiguous, finger rows are
    // resolved from it; if it is alive, stabilize finds it again.)
    if (this.successors[0] === event.peer) this.successors = this.successors.slice(1)
    this.fingerTable.forget(event.peer)
  }

  private isNeeded(peer: number): boolean {
    return peer === this.predecessor || peer === this.successors[0] || peer === this.bootstrap || this.fingerTable.has(peer)
  }

  /**
   * Over the channel budget: close the least recently used channels we do not
   * need ourselves. Channels are shared with the remote, which may route
   * through them, so they are reclaimed only under pressure, never eagerly.
   */
  private pruneChannels(): void {
    let excess = this.channels.size - this.maxChannels
    if (excess <= 0) return
    // A peer still joining through us holds a channel that is not routable
    // yet: leave it its join time, or a burst of joiners would starve each other.
    const graceUntil = this.scheduler.now() - 2 * this.timing.connectTimeoutMs
    const spare = this.channels
      .remotes()
      .filter((id) => !this.isNeeded(id) && (this.channels.isRoutable(id) || (this.channels.openedAt(id) ?? 0) < graceUntil))
      .sort((a, b) => (this.channels.lastUsed(a) ?? 0) - (this.channels.lastUsed(b) ?? 0))
    for (const id of spare) {
      if (excess-- <= 0) break
      this.channels.close(id)
    }
  }

  private assertOpen(): void {
    if (this.closed) throw new ExplorerError('CLOSED', 'this ring node is closed')
  }
}

/** A finger whose predecessor is before a row's start still owns that row (no predecessor known: not confirmed). */
function stillOwns(finger: number, start: number, predecessor: number | null): boolean {
  return predecessor !== null && betweenRightInclusive(start, predecessor, finger)
}
