import { Observable, SchedulerLike, Subscription, asyncScheduler, defer, timer } from 'rxjs'
import { Diagnostics, type Diagnostic } from '../diagnostics'
import { ExplorerError } from '../errors'
import { formatId } from '../ids'
import { ChannelSet, PeerEvent } from '../router/channel-set'
import { Router } from '../router/router'
import type { Channel } from '../transport/types'
import { FrameType } from '../wire/frame'
import { modelledClaimProver } from '../identity/claim-proof'
import { ChannelBudget } from './channel-budget'
import { RingDispatch, type Hello } from './dispatch'
import { FingerTable, FingerUpdate, type FingerView } from './finger-table'
import { FixFingers } from './fix-fingers'
import { FixFingersBackoff } from './fix-fingers-backoff'
import { ICE_RESTART_DEFAULTS, IceRestarts } from './ice-restarts'
import { registerRingInternals } from './internals'
import { Join } from './join'
import type { LookupOptions } from './lookup'
import { LookupAnswers } from './lookup-answers'
import { RingOp } from './messages'
import { RING_DEFAULTS, RingOptions, RingTimingOptions } from './options'
import { OverlaySignalling } from './overlay-signalling'
import { PathWatch } from './path-watch'
import { Reach } from './reach'
import { RingRequests, type LookupResult } from './requests'
import { RingPositionCheck } from './self-check'
import { SelfCheckSchedule } from './self-check-schedule'
import type { RingSnapshot } from './snapshot'
import { Stabilizer } from './stabilize'
import { RingState, type RingPosition } from './state'
import { UnreachablePeers } from './unreachable-peers'
import { LINK_DEFAULTS, RelayedLinks } from '../links/relayed-links'
import type { Transport } from '../transport/types'

export type { LookupResult } from './requests'
export type { RingSnapshot } from './snapshot'

/**
 * One peer of the Chord ring, transport-agnostic: it sees Channels, a
 * Transport to open more, and a scheduler for its timers. This class only
 * puts the parts together; each Chord duty lives in a file of its own (see
 * docs/architecture.md) and gets what it needs injected.
 */
export class RingNode implements RingPosition {
  readonly id: number
  readonly channels: ChannelSet
  readonly router: Router
  readonly signalling: OverlaySignalling
  /** The transport as the node uses it: handshakes that heard the remote yet opened nothing mark it unreachable. The explorer's server signalling uses it too. */
  readonly transport: Transport
  /** Peers we found no direct path to, with their back-off. */
  readonly unreachable: UnreachablePeers
  /** Channels through relays to peers we cannot reach directly (src/links/). */
  readonly links: RelayedLinks
  readonly fingers$: Observable<FingerUpdate>
  readonly peers$: Observable<PeerEvent>
  /** Every Hello a neighbour sends: whether it is in the ring (a joiner's bootstrap candidates say so). */
  readonly hellos$: Observable<Hello>
  /** Background failures (a finger or a repair that failed, and why). */
  readonly diagnostics$: Observable<Diagnostic>

  private readonly scheduler: SchedulerLike
  private readonly random: () => number
  private readonly timing: RingTimingOptions
  private readonly diagnostics: Diagnostics
  /** Diagnostics made here (none given) end with the node; given ones belong to the giver. */
  private readonly ownsDiagnostics: boolean
  private readonly table: FingerTable
  private readonly state: RingState
  private readonly requests: RingRequests
  private readonly joining: Join
  private readonly stabilizer: Stabilizer
  private readonly fixFingers: FixFingers
  private readonly dispatch: RingDispatch
  /** ICE restarts of direct channels whose path went down (null: iceRestarts off). */
  private readonly restarts: IceRestarts | null
  private readonly subscriptions = new Subscription()
  /** The stabilize and fix-fingers timers: stopped first when the node closes. */
  private readonly maintenance = new Subscription()
  private closed = false

  constructor(options: RingOptions) {
    const id = (this.id = options.id)
    const scheduler = (this.scheduler = options.scheduler ?? asyncScheduler)
    const random = (this.random = options.random ?? Math.random)
    const timing = (this.timing = {
      stabilizeMs: options.stabilizeMs ?? RING_DEFAULTS.stabilizeMs,
      fixFingersMs: options.fixFingersMs ?? RING_DEFAULTS.fixFingersMs,
      rpcTimeoutMs: options.rpcTimeoutMs ?? RING_DEFAULTS.rpcTimeoutMs,
      connectTimeoutMs: options.connectTimeoutMs ?? RING_DEFAULTS.connectTimeoutMs,
    })
    this.ownsDiagnostics = options.diagnostics === undefined
    const diagnostics = (this.diagnostics = options.diagnostics ?? new Diagnostics(() => scheduler.now()))
    const channels = (this.channels = new ChannelSet(id, () => scheduler.now()))
    const fingerTable = (this.table = new FingerTable(options.maxFingers ?? RING_DEFAULTS.maxFingers))
    const fingerBackoff = new FixFingersBackoff()
    const selfCheckSchedule = new SelfCheckSchedule()
    const state = (this.state = new RingState(
      { id, channels, fingerTable },
      {
        successors: options.successors ?? RING_DEFAULTS.successors,
        // Owners may have moved: fix-fingers refreshes at full pace, the ring-position check comes back soon.
        onSuccessorsChanged: () => {
          fingerBackoff.reset()
          selfCheckSchedule.reset()
        },
      },
    ))
    const router = (this.router = new Router(channels, () => state.view(), (neighbour) => this.stabilizer.hintStaleSuccessor(neighbour), options.abusePolicy))
    const unreachable = (this.unreachable = new UnreachablePeers(() => scheduler.now(), random))
    const paths = new PathWatch(options.transport, unreachable, scheduler, timing.connectTimeoutMs)
    this.transport = paths
    const signalling = (this.signalling = new OverlaySignalling(
      id, paths, router, channels, scheduler,
      {
        connectTimeoutMs: timing.connectTimeoutMs,
        maxSessions: options.maxSignalSessions ?? RING_DEFAULTS.maxSignalSessions,
        maxSessionsPerNeighbour: options.maxSignalSessionsPerNeighbour ?? RING_DEFAULTS.maxSignalSessionsPerNeighbour,
        maxSessionsPerRemote: options.maxSignalSessionsPerRemote ?? RING_DEFAULTS.maxSignalSessionsPerRemote,
        joined: () => state.joined,
        prover: options.prover,
        diagnostics,
        restarts: (frame, envelope) => this.restarts?.onSignal(frame, envelope),
      },
      random,
    ))
    const restarts = (this.restarts = options.iceRestarts === false ? null : new IceRestarts(
      { self: id, router, channels, scheduler, prover: options.prover, bindingOf: (signal) => paths.bindingOf(signal), diagnostics, random },
      { ...ICE_RESTART_DEFAULTS, answerWithinMs: timing.rpcTimeoutMs },
    ))
    const identity = options.relayedLinks === false ? null : (options.identity ?? null)
    const links = (this.links = new RelayedLinks({ self: id, identity, router, channels, scheduler, random }, { connectTimeoutMs: timing.connectTimeoutMs, ...LINK_DEFAULTS }))
    const reach = new Reach({ channels, signalling, links, paths, unreachable, scheduler }, { relayAfterMs: options.relayAfterMs ?? RING_DEFAULTS.relayAfterMs })
    // Without an identity (the simulator, ring tests) ownership claims are modelled, not signed.
    const claimProver = options.claimProver ?? modelledClaimProver(id)
    const requests = (this.requests = new RingRequests(
      { id, router, channels, state, signalling, prover: claimProver, reach, scheduler, random },
      { rpcTimeoutMs: timing.rpcTimeoutMs, lookupAttemptMs: options.lookupAttemptMs ?? RING_DEFAULTS.lookupAttemptMs, lookupRoutes: options.lookupRoutes ?? RING_DEFAULTS.lookupRoutes },
    ))
    const subscriptions = this.subscriptions
    const joining = (this.joining = new Join(
      { id, state, channels, links, requests, scheduler, random, diagnostics },
      { ...timing, becomeJoined: () => this.becomeJoined(), closed: () => this.closed },
    ))
    const selfCheck = new RingPositionCheck({ id, state, channels, requests, random, diagnostics, subscriptions }, { schedule: selfCheckSchedule })
    const takeOver = (peer: number) => restarts?.takeOver(peer) ?? false
    const stabilizer = (this.stabilizer = new Stabilizer({ id, state, channels, fingerTable, requests, selfCheck, scheduler, diagnostics, subscriptions, takeOver }, timing))
    this.fixFingers = new FixFingers({ id, state, channels, fingerTable, requests, diagnostics, subscriptions }, { backoff: fingerBackoff, lookupRoutes: options.fingerLookupRoutes ?? RING_DEFAULTS.fingerLookupRoutes })
    const budget = new ChannelBudget({ channels, state, links, scheduler }, { maxChannels: options.maxChannels ?? RING_DEFAULTS.maxChannels, connectTimeoutMs: timing.connectTimeoutMs })
    const answers = new LookupAnswers({ id, state, router, channels, signalling, prover: claimProver })
    this.dispatch = new RingDispatch({ state, router, channels, requests, answers, stabilizer, join: joining, scheduler })
    this.fingers$ = fingerTable.updates$
    this.peers$ = channels.events$
    this.hellos$ = this.dispatch.hellos$
    this.diagnostics$ = diagnostics.events$
    this.subscriptions.add(router.frames$(FrameType.Ring).subscribe((frame) => this.dispatch.onFrame(frame)))
    this.subscriptions.add(channels.events$.subscribe((event) => this.onPeerEvent(event, budget)))
    registerRingInternals(this, { state, fingerTable, requests, stabilizer, fixFingers: this.fixFingers, selfCheck, fingerBackoff, selfCheckSchedule })
  }

  /** The finger table, read-only: only the ring's duties write it. */
  get fingerTable(): FingerView {
    return this.table
  }

  get joined(): boolean {
    return this.state.joined
  }

  get predecessor(): number | null {
    return this.state.predecessor
  }

  get successors(): readonly number[] {
    return this.state.successors
  }

  get successor(): number {
    return this.state.successor
  }

  /** Whether a channel to `peer` would give us a closer successor (the signalling server's hint). */
  wantsSuccessor(peer: number): boolean {
    return this.state.wantsSuccessor(peer)
  }

  /** Starts a new ring of one. */
  create(): void {
    this.assertOpen()
    this.becomeJoined()
  }

  /** Joins the ring that `bootstrap` (a channel we dialled) belongs to (src/ring/join.ts). Completes once we are in the ring. */
  join$(bootstrap: Channel, bootstrapIsNext = false): Observable<void> {
    return defer(() => {
      this.assertOpen()
      return this.joining.join$(bootstrap, bootstrapIsNext)
    })
  }

  /** The peer responsible for `key`, as the owners' proven answers over several routes say (src/ring/lookup.ts). */
  lookup$(key: number, options?: LookupOptions): Observable<LookupResult> {
    return this.requests.lookup$(key, options)
  }

  /** Refreshes one finger row: looks up its start and opens a channel to the owner. Emits the row's state after. */
  updateFinger$(row: number): Observable<FingerUpdate> {
    return this.fixFingers.updateFinger$(row)
  }

  /** Refreshes every row worth keeping for the ring's estimated size; emits each row's state. */
  updateFingerTable$(): Observable<FingerUpdate> {
    return this.fixFingers.updateFingerTable$()
  }

  snapshot(): RingSnapshot {
    const { state, table } = this
    return {
      id: formatId(this.id),
      joined: state.joined,
      predecessor: state.predecessor === null ? null : formatId(state.predecessor),
      successors: state.successors.map(formatId),
      fingers: table.rows().map((row) => ({ row, id: formatId(table.get(row)!) })),
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
    this.state.joined = false
    this.subscriptions.unsubscribe()
    this.signalling.close()
    this.restarts?.close()
    this.links.close()
    this.requests.close()
    this.router.close()
    this.channels.closeAll()
    this.table.complete()
    this.joining.close()
    this.dispatch.close()
    if (this.ownsDiagnostics) this.diagnostics.complete()
  }

  /** In the ring: say so on every channel, start the maintenance rounds (jittered, so peers do not tick in step). */
  private becomeJoined(): void {
    const { state, timing, scheduler } = this
    state.joined = true
    state.bootstrap = null
    for (const remote of this.channels.remotes()) this.requests.send(remote, { op: RingOp.Hello, joined: true })
    const jitter = () => Math.floor(this.random() * timing.stabilizeMs)
    this.maintenance.add(timer(jitter(), timing.stabilizeMs, scheduler).subscribe(() => this.stabilizer.stabilize()))
    this.maintenance.add(timer(jitter(), timing.fixFingersMs, scheduler).subscribe(() => this.fixFingers.fixNextFinger()))
    this.subscriptions.add(this.maintenance)
  }

  private onPeerEvent(event: PeerEvent, budget: ChannelBudget): void {
    const { state } = this
    if (event.type === 'up') {
      // The first frame on a channel says whether we are in the ring (unless the set-up already told).
      if (!event.introduced) this.requests.send(event.peer, { op: RingOp.Hello, joined: state.joined })
      budget.prune()
      return
    }
    if (state.predecessor === event.peer) state.predecessor = null
    // A successor whose channel closed is most likely gone: move on to the next
    // in the list now instead of trying to reach it again for a whole connect
    // timeout. (Only the first: the list must stay contiguous, finger rows are
    // resolved from it; if it is alive, stabilize finds it again.)
    if (state.successors[0] === event.peer) state.successors = state.successors.slice(1)
    this.table.forget(event.peer)
  }

  private assertOpen(): void {
    if (this.closed) throw new ExplorerError('CLOSED', 'this ring node is closed')
  }
}
