/**
 * Churn in virtual time: peers leave without warning and new ones join while
 * lookups run, and we count how many lookups reach the live responsible peer.
 *
 * Model (docs/simulation.md, "Churn"):
 * - N peers join and the ring converges (as in the static simulation).
 * - Each peer's session length is drawn from the lifetime distribution; the
 *   initial peers get the steady state's residual life (`initial:
 *   'stationary'`, default) or a fresh session (`'fresh'`). When a session
 *   ends the peer crashes (no leave message; its neighbours' channels close
 *   `failureDetectionMs` later) and a new peer with a new random id arrives at
 *   once and joins through the testnet's registry (what the signalling server
 *   does): replace-on-death, so the population stays N (Bamboo's method).
 * - Lookups arrive as a Poisson process of rate N·lookupRate per second, each
 *   from a uniformly random live joined peer for a uniformly random key.
 * - A lookup is consistent when the peer it returns is, at the instant it
 *   returns, the live responsible peer: the first peer at or after the key
 *   among the live peers that have finished joining. Wrong answers, errors and
 *   timeouts are inconsistent. A lookup whose asker left before it returned has
 *   nobody to answer; it is counted apart (`abandonedLookups`), not in the ratio.
 *
 * Everything draws from seeded streams: the same options replay the same run.
 */
import { TimeoutError, defer, retry, timeout, type Subscription } from 'rxjs'
import { isExplorerError } from '../../src/errors'
import type { RingNode } from '../../src/ring/node'
import { RING_DEFAULTS } from '../../src/ring/options'
import { SortedIds, lowerBound } from '../../src/router/sorted-ids'
import type { DropReason } from '../../src/router/stats'
import { createTestnet, randomRingId, seededRandom, type Testnet } from '../../src/testnet'
import { DEFAULT_PARETO_SHAPE, lifetime, type LifetimeKind } from './lifetimes'
import { TrafficCounter, type KindCount, type LookupTrace } from './traffic'

export interface ChurnOptions {
  peers: number
  seed?: number
  lifetime: LifetimeKind
  /** Median session length, minutes. */
  medianMinutes: number
  /** Shape α of the Pareto (Lomax) lifetime (default 1.5). */
  paretoShape?: number
  /** Virtual minutes of churn (lookups are issued during this time). */
  durationMinutes: number
  /** Lookups per live peer per second (default 0.1: one every 10 s each). */
  lookupRate?: number
  /** Initial peers' remaining session: the steady state's residual life (default) or a fresh draw. */
  initial?: 'stationary' | 'fresh'
  /** Ring options for every peer; unset ones keep RING_DEFAULTS. */
  maxFingers?: number
  successors?: number
  stabilizeMs?: number
  fixFingersMs?: number
  rpcTimeoutMs?: number
  /** Routes of each lookup and of the ring's finger lookups (RING_DEFAULTS: 6 and 1). */
  lookupRoutes?: number
  fingerLookupRoutes?: number
  /**
   * Experiment, off by default: give each lookup this many attempts (default 1,
   * i.e. `lookup$` as the library does it), a new attempt when the previous one
   * has not answered within `attemptTimeoutMs` (default 1500 ms) or failed.
   */
  lookupAttempts?: number
  attemptTimeoutMs?: number
  /** Testnet options: failure detection (default 1000 ms) and one-way latency (default 1 ms). */
  failureDetectionMs?: number
  latencyMs?: number
  /** The testnet's model of the signalling server's successor hints, every this many ms (testnet default 2000; 0: no server). */
  ringCheckMs?: number
  /** Initial joins start within this window (default max(10 s, N/200 s)). */
  joinWindowMs?: number
  /** Give up on the initial convergence after this long (default 600 s); the run goes on regardless. */
  maxConvergeMs?: number
  /** Called once a virtual minute with a one-line summary. */
  onProgress?: (line: string, minute: TimelineEntry) => void
  /** Called at the end of every virtual minute with the live testnet and the run's truth (for tests to check it). */
  audit?: (view: ChurnAuditView) => void
}

export interface ChurnAuditView {
  net: Testnet
  /** Live peers that finished joining, ascending: the owners consistency is judged against. */
  owners: readonly number[]
  /** The live responsible peer for `key`, as the run judges it. */
  ownerOf(key: number): number
}

export interface TimelineEntry {
  /** End of this minute of churn, in minutes since churn started. */
  minute: number
  /** Lookups issued during this minute (however late they settled), and how they ended. */
  lookups: number
  consistent: number
  wrongOwner: number
  failed: number
  /** Churn events during this minute (the last minute also gets those while the last lookups settle). */
  joinsStarted: number
  left: number
  livePeers: number
  joinedPeers: number
  /** Fractions of joined peers whose successor (predecessor) is the true one among live joined peers at the minute's end. */
  successorRight: number
  predecessorRight: number
  wallMs: number
}

export interface ChurnResult {
  mode: 'churn'
  peers: number
  seed: number
  lifetime: LifetimeKind
  churnMedianMinutes: number
  paretoShape?: number
  meanSessionMinutes: number
  initial: 'stationary' | 'fresh'
  durationMinutes: number
  lookupRate: number
  /** Present when the retry experiment is on. */
  lookupAttempts?: { attempts: number; attemptTimeoutMs: number; answeredAfterRetry: number }
  settings: { stabilizeMs: number; fixFingersMs: number; rpcTimeoutMs: number; failureDetectionMs: number; latencyMs: number; ringCheckMs: number; maxFingers: number; successors: number }
  convergeRounds: number
  /** Lookups that returned or failed while their asker was live (the denominator). */
  lookups: number
  consistentLookups: number
  consistent: number
  wrongOwner: number
  failedLookups: number
  abandonedLookups: number
  failuresByCode: Record<string, number>
  /** Failed lookups by what the frame tap saw of them. */
  failuresByCause: Record<string, number>
  /** Failed lookups that sent a frame to a crashed peer: how long that peer had been dead (failure detection closes its channels after failureDetectionMs). */
  failuresByDeadHopAge: Record<string, number>
  /** Wrong answers: how old the true owner was, and who answered. */
  wrongByOwnerAge: Record<string, number>
  wrongByAnswerer: Record<string, number>
  /** Wrong answers by the answerer's predecessor pointer when it answered. */
  wrongByAnswererPredecessor: Record<string, number>
  meanHops: number
  p50Hops: number
  p99Hops: number
  maxHops: number
  meanLatencyMs: number
  p99LatencyMs: number
  peersJoined: number
  joinsCompleted: number
  peersLeft: number
  leftBeforeJoining: number
  meanJoinMs: number
  p99JoinMs: number
  livePeersEnd: number
  joinedPeersEnd: number
  meanLivePeers: number
  /** Frames per live peer per second that are not our lookups (ring maintenance, joins, overlay signalling). */
  maintenanceMsgsPerPeerPerSec: number
  maintenanceBytesPerPeerPerSec: number
  lookupMsgsPerPeerPerSec: number
  totalMsgsPerPeerPerSec: number
  /** Maintenance frames per live peer per second, by ring op (or 'signal'). */
  maintenanceByKind: Record<string, number>
  /** Router drops during churn, summed over every peer (the crashed ones too), by reason. */
  routerDrops: Record<string, number>
  /** Every frame sent during churn, as the memory network counts them (= maintenanceFrames + lookupFrames: the tap sees all). */
  framesSent: number
  maintenanceFrames: number
  lookupFrames: number
  /** Frames sent to a peer that had crashed or closed meanwhile (network level). */
  framesToDeadPeers: number
  virtualSeconds: number
  timeline: TimelineEntry[]
  wallMs: number
  convergeWallMs: number
  peakRssMB: number
  heapMB: number
}

const MINUTE = 60_000
/** A settled lookup's trace is kept this long: late frames of it still count as lookup traffic. */
const TRACE_LINGER_MS = 30_000

export function runChurn(options: ChurnOptions): ChurnResult {
  const started = Date.now()
  const n = options.peers
  const seed = options.seed ?? 1
  const lookupRate = options.lookupRate ?? 0.1
  const lookupAttempts = options.lookupAttempts ?? 1
  const attemptTimeoutMs = options.attemptTimeoutMs ?? 1500
  const initial = options.initial ?? 'stationary'
  const paretoShape = options.paretoShape ?? DEFAULT_PARETO_SHAPE
  const life = lifetime(options.lifetime, options.medianMinutes * MINUTE, paretoShape)
  const settings = {
    stabilizeMs: options.stabilizeMs ?? RING_DEFAULTS.stabilizeMs,
    fixFingersMs: options.fixFingersMs ?? RING_DEFAULTS.fixFingersMs,
    rpcTimeoutMs: options.rpcTimeoutMs ?? RING_DEFAULTS.rpcTimeoutMs,
    failureDetectionMs: options.failureDetectionMs ?? 1000,
    latencyMs: options.latencyMs ?? 1,
    ringCheckMs: options.ringCheckMs ?? 2000,
    maxFingers: options.maxFingers ?? RING_DEFAULTS.maxFingers,
    successors: options.successors ?? RING_DEFAULTS.successors,
    lookupRoutes: options.lookupRoutes ?? RING_DEFAULTS.lookupRoutes,
    fingerLookupRoutes: options.fingerLookupRoutes ?? RING_DEFAULTS.fingerLookupRoutes,
  }
  if (!(n >= 2 && Number.isInteger(n))) throw new Error('peers must be an integer ≥ 2')
  if (!(options.durationMinutes > 0)) throw new Error('duration must be > 0 minutes')
  if (!(lookupRate >= 0)) throw new Error('lookup rate must be ≥ 0')

  // The truth: live peers that finished joining, sorted (owners) and as a list to draw askers from.
  const owners = new SortedIds()
  const joinedList: number[] = []
  const joinedIndex = new Map<number, number>()
  const joinedAt = new Map<number, number>()
  const arrivedAt = new Map<number, number>()
  let churning = false
  let net: Testnet | undefined
  const diedAt = new Map<number, number>()
  const traffic = new TrafficCounter((id) => {
    if (net!.nodes.has(id)) return null
    const at = diedAt.get(id)
    return at === undefined ? Infinity : net!.scheduler.now() - at
  }, (id) => describePeer(net!.nodes.get(id)))

  const joinTimes: number[] = []
  let joinsCompleted = 0
  const onJoined = (node: RingNode) => {
    if (!net?.nodes.has(node.id) || joinedIndex.has(node.id)) return
    const now = net.scheduler.now()
    owners.add(node.id)
    joinedIndex.set(node.id, joinedList.length)
    joinedList.push(node.id)
    joinedAt.set(node.id, now)
    const arrived = arrivedAt.get(node.id)
    if (churning && arrived !== undefined) {
      joinsCompleted++
      joinTimes.push(now - arrived)
      arrivedAt.delete(node.id)
    }
  }
  const forgetJoined = (id: number) => {
    const i = joinedIndex.get(id)
    if (i === undefined) return false
    owners.remove(id)
    const last = joinedList.pop()!
    if (last !== id) {
      joinedList[i] = last
      joinedIndex.set(last, i)
    }
    joinedIndex.delete(id)
    joinedAt.delete(id)
    return true
  }
  const ownerOf = (key: number): number => {
    const ids = owners.list()
    return ids[lowerBound(ids, key) % ids.length]
  }
  const successorOf = (id: number): number => {
    const ids = owners.list()
    return ids[(lowerBound(ids, id) + 1) % ids.length]
  }
  const predecessorOf = (id: number): number => {
    const ids = owners.list()
    return ids[(lowerBound(ids, id) - 1 + ids.length) % ids.length]
  }

  net = createTestnet(n, {
    seed,
    maxFingers: options.maxFingers,
    successors: options.successors,
    stabilizeMs: options.stabilizeMs,
    fixFingersMs: options.fixFingersMs,
    rpcTimeoutMs: options.rpcTimeoutMs,
    lookupRoutes: options.lookupRoutes,
    fingerLookupRoutes: options.fingerLookupRoutes,
    failureDetectionMs: settings.failureDetectionMs,
    latencyMs: settings.latencyMs,
    ringCheckMs: settings.ringCheckMs,
    joinWindowMs: options.joinWindowMs ?? Math.max(10, n / 200) * 1000,
    frameTap: traffic.tap,
    onJoined,
  })
  // The first peer was registered before `net` was assigned.
  for (const node of net.nodes.values()) if (node.joined) onJoined(node)
  const convergeRounds = net.converge(options.maxConvergeMs ?? 600_000)
  const convergeWallMs = Date.now() - started
  const { scheduler, nodes } = net

  // Separate seeded streams: the churn schedule and the lookups do not shift when the protocol draws more or less.
  const churnRandom = seededRandom((seed * 0x9e3779b1 + 0x5bd1e995) >>> 0)
  const lookupRandom = seededRandom((seed * 0x85ebca6b + 0x27d4eb2d) >>> 0)

  // Router drops over the run: the crashed peers' counters are kept when they go.
  const drops: Record<string, number> = {}
  const addDrops = (node: RingNode, sign: number) => {
    for (const [reason, count] of Object.entries(node.router.stats.dropped)) drops[reason] = (drops[reason] ?? 0) + sign * count
  }
  for (const node of nodes.values()) addDrops(node, -1)
  const droppedAtStart = net.network.stats.framesDropped
  const sentAtStart = net.network.stats.framesSent

  let peersJoined = 0
  let peersLeft = 0
  let leftBeforeJoining = 0
  const durationMs = Math.round(options.durationMinutes * MINUTE)
  const minutes = Math.ceil(durationMs / MINUTE)
  type Bucket = { lookups: number; consistent: number; wrongOwner: number; failed: number; joinsStarted: number; left: number }
  const buckets: Bucket[] = Array.from({ length: minutes }, () => ({ lookups: 0, consistent: 0, wrongOwner: 0, failed: 0, joinsStarted: 0, left: 0 }))
  let t0 = 0
  const bucketAt = (time: number) => buckets[Math.min(minutes - 1, Math.floor((time - t0) / MINUTE))]

  const freshId = () => {
    let id = randomRingId(churnRandom)
    while (nodes.has(id) || arrivedAt.has(id)) id = randomRingId(churnRandom)
    return id
  }
  // Pending session ends, cancelled when the run stops (close() refuses to flush far-future work).
  const deaths = new Map<number, Subscription>()
  const scheduleDeath = (id: number, afterMs: number) => {
    deaths.set(id, scheduler.schedule(() => die(id), Math.max(1, Math.round(afterMs))))
  }
  const die = (id: number) => {
    deaths.delete(id)
    const node = nodes.get(id)
    if (node === undefined) return
    addDrops(node, +1)
    if (!forgetJoined(id)) leftBeforeJoining++
    arrivedAt.delete(id)
    diedAt.set(id, scheduler.now())
    net!.crash([id])
    peersLeft++
    bucketAt(scheduler.now()).left++
    arrive()
  }
  const arrive = () => {
    const id = freshId()
    arrivedAt.set(id, scheduler.now())
    peersJoined++
    bucketAt(scheduler.now()).joinsStarted++
    net!.addPeer(id)
    scheduleDeath(id, life.sample(churnRandom))
  }

  // Lookups.
  const hops: number[] = []
  const latencies: number[] = []
  let consistent = 0
  let wrongOwner = 0
  let failed = 0
  let abandoned = 0
  let outstanding = 0
  let retried = 0
  const failuresByCode: Record<string, number> = {}
  const failuresByCause: Record<string, number> = {}
  const failuresByDeadHopAge: Record<string, number> = {}
  const wrongByOwnerAge: Record<string, number> = {}
  const wrongByAnswerer: Record<string, number> = {}
  const wrongByAnswererPredecessor: Record<string, number> = {}
  const bump = (table: Record<string, number>, key: string) => (table[key] = (table[key] ?? 0) + 1)
  const lingering: { at: number; trace: LookupTrace }[] = []
  let lingerHead = 0

  const ageBucket = (ms: number) => (ms < 1000 ? '<1s' : ms < 5000 ? '1-5s' : ms < 30_000 ? '5-30s' : ms < 120_000 ? '30s-2m' : '>2m')
  const classifyWrong = (key: number, answer: number) => {
    const truth = ownerOf(key)
    bump(wrongByOwnerAge, ageBucket(scheduler.now() - (joinedAt.get(truth) ?? 0)))
    if (!owners.has(answer)) {
      bump(wrongByAnswerer, nodes.has(answer) ? 'notJoined' : 'gone')
      return
    }
    // Every other live peer lies after the true owner, clockwise from the key: how many owners later?
    const ids = owners.list()
    const steps = (lowerBound(ids, answer) - lowerBound(ids, truth) + ids.length) % ids.length
    bump(wrongByAnswerer, steps === 1 ? 'ownersSuccessor' : steps <= 3 ? '2-3 after owner' : 'further')
    // Its view of its own range (predecessor, self] is what made it answer.
    const p = nodes.get(answer)!.predecessor
    bump(wrongByAnswererPredecessor, p === null ? 'none' : p === predecessorOf(answer) ? 'right' : owners.has(p) ? 'live, not the true one' : 'gone')
  }
  const classifyFailure = (trace: LookupTrace) => {
    const cause =
      trace.requestFrames === 0 ? 'requestNeverLeft'
        : trace.requestToDead ? 'requestToCrashedPeer'
          : trace.replyToDead ? 'replyToCrashedPeer'
            : trace.replyFrames > 0 ? 'replyLost'
              : `requestUnanswered (last hop ${trace.lastHopState})`
    bump(failuresByCause, cause)
    if (trace.deadHopAgeMs >= 0) bump(failuresByDeadHopAge, trace.deadHopAgeMs < 1000 ? '<1s' : trace.deadHopAgeMs < 2000 ? '1-2s' : trace.deadHopAgeMs < 5000 ? '2-5s' : '>5s')
  }

  const issueLookup = () => {
    if (joinedList.length === 0) return
    const from = nodes.get(joinedList[Math.floor(lookupRandom() * joinedList.length)])!
    const key = randomRingId(lookupRandom)
    const trace = traffic.track(from.id, key)
    const startedAt = scheduler.now()
    const bucket = bucketAt(startedAt)
    let settled = false
    outstanding++
    const settle = () => {
      settled = true
      outstanding--
      lingering.push({ at: scheduler.now(), trace })
    }
    const attempt$ = defer(() => {
      attempts++
      return from.lookup$(key)
    })
    const lookup$ =
      lookupAttempts > 1
        ? attempt$.pipe(timeout({ first: attemptTimeoutMs, scheduler }), retry({ count: lookupAttempts - 1 }))
        : attempt$
    let attempts = 0
    lookup$.subscribe({
      next: ({ owner, hops: h }) => {
        if (settled) return
        settle()
        bucket.lookups++
        if (attempts > 1) retried++
        if (owner === ownerOf(key) && owners.has(owner)) {
          consistent++
          bucket.consistent++
          hops.push(h)
          latencies.push(scheduler.now() - startedAt)
        } else {
          wrongOwner++
          bucket.wrongOwner++
          classifyWrong(key, owner)
        }
      },
      error: (error: unknown) => {
        if (settled) return
        settle()
        if (!nodes.has(from.id)) {
          abandoned++
          return
        }
        failed++
        bucket.lookups++
        bucket.failed++
        bump(failuresByCode, isExplorerError(error) ? error.code : error instanceof TimeoutError ? 'ATTEMPTS_TIMED_OUT' : 'ERROR')
        classifyFailure(trace)
      },
    })
  }
  const globalRate = (n * lookupRate) / 1000 // lookups per virtual ms
  let issuing = false
  let pendingLookup: Subscription | null = null
  const nextLookup = () => {
    if (!issuing) return
    issueLookup()
    pendingLookup = scheduler.schedule(nextLookup, Math.max(1, Math.round(-Math.log(1 - lookupRandom()) / globalRate)))
  }

  // Start churning: every current peer gets its (remaining) session.
  churning = true
  traffic.start()
  t0 = scheduler.now()
  for (const id of [...nodes.keys()].sort((a, b) => a - b)) {
    scheduleDeath(id, initial === 'stationary' ? life.residual(churnRandom) : life.sample(churnRandom))
  }
  if (globalRate > 0) {
    issuing = true
    pendingLookup = scheduler.schedule(nextLookup, Math.max(1, Math.round(-Math.log(1 - lookupRandom()) / globalRate)))
  }

  let peerSeconds = 0
  const timeline: Omit<TimelineEntry, keyof Bucket>[] = []
  const stepSecond = () => {
    scheduler.advanceBy(1000)
    peerSeconds += nodes.size
    const now = scheduler.now()
    while (lingerHead < lingering.length && lingering[lingerHead].at < now - TRACE_LINGER_MS) traffic.forget(lingering[lingerHead++].trace)
    if (lingerHead > 4096) {
      lingering.splice(0, lingerHead)
      lingerHead = 0
    }
  }
  const endMinute = (index: number, m: number) => {
    let succRight = 0
    let predRight = 0
    for (const id of joinedList) {
      const node = nodes.get(id)!
      if (owners.size === 1 || node.successor === successorOf(id)) succRight++
      if (owners.size === 1 || node.predecessor === predecessorOf(id)) predRight++
    }
    const entry = {
      minute: m,
      livePeers: nodes.size,
      joinedPeers: joinedList.length,
      successorRight: joinedList.length ? succRight / joinedList.length : 1,
      predecessorRight: joinedList.length ? predRight / joinedList.length : 1,
      wallMs: Date.now() - started,
    }
    timeline.push(entry)
    options.audit?.({ net: net!, owners: owners.list(), ownerOf })
    const b = buckets[index]
    const pct = (a: number, total: number) => (total ? ((100 * a) / total).toFixed(2) : '-')
    options.onProgress?.(
      `minute ${m}: live ${entry.livePeers} (joined ${entry.joinedPeers}), +${b.joinsStarted} −${b.left}, ` +
        `lookups settled ${b.lookups} consistent ${pct(b.consistent, b.lookups)} %, failed ${b.failed}, wrong ${b.wrongOwner}, ` +
        `succ right ${pct(succRight, joinedList.length)} %, wall ${(entry.wallMs / 1000).toFixed(0)} s`,
      { ...b, ...entry },
    )
  }

  for (let elapsed = 0; elapsed < durationMs; ) {
    const step = Math.min(1000, durationMs - elapsed)
    if (step === 1000) stepSecond()
    else {
      scheduler.advanceBy(step)
      peerSeconds += (nodes.size * step) / 1000
    }
    elapsed += step
    if (elapsed % MINUTE === 0 || elapsed === durationMs) endMinute(timeline.length, Math.round((elapsed / MINUTE) * 100) / 100)
  }
  // No new lookups; churn goes on while the last ones settle (timeouts bound them).
  issuing = false
  pendingLookup?.unsubscribe()
  const tailLimit = scheduler.now() + Math.max(settings.rpcTimeoutMs, lookupAttempts * attemptTimeoutMs) + 2 * settings.stabilizeMs
  while (outstanding > 0 && scheduler.now() < tailLimit) {
    scheduler.advanceBy(100)
    peerSeconds += nodes.size / 10
  }
  if (outstanding > 0) throw new Error(`${outstanding} lookups never settled`)

  const virtualSeconds = (scheduler.now() - t0) / 1000
  for (const node of nodes.values()) addDrops(node, +1)
  const routerDrops: Record<string, number> = {}
  for (const [reason, count] of Object.entries(drops)) if (count !== 0) routerDrops[reason as DropReason] = count
  const perPeerSecond = (frames: number) => frames / peerSeconds
  const maintenance = traffic.maintenanceTotal()
  const maintenanceByKind: Record<string, number> = {}
  for (const [kind, count] of [...traffic.maintenance.entries()].sort((a, b) => b[1].frames - a[1].frames)) {
    maintenanceByKind[kind] = round(perPeerSecond(count.frames), 4)
  }

  hops.sort((a, b) => a - b)
  latencies.sort((a, b) => a - b)
  joinTimes.sort((a, b) => a - b)
  const answered = consistent + wrongOwner + failed
  const mem = process.memoryUsage()
  const result: ChurnResult = {
    mode: 'churn',
    peers: n,
    seed,
    lifetime: options.lifetime,
    churnMedianMinutes: options.medianMinutes,
    ...(options.lifetime === 'pareto' ? { paretoShape } : {}),
    meanSessionMinutes: round(life.meanMs / MINUTE, 3),
    initial,
    durationMinutes: options.durationMinutes,
    lookupRate,
    ...(lookupAttempts > 1 ? { lookupAttempts: { attempts: lookupAttempts, attemptTimeoutMs, answeredAfterRetry: retried } } : {}),
    settings,
    convergeRounds,
    lookups: answered,
    consistentLookups: answered ? round(consistent / answered, 6) : 0,
    consistent,
    wrongOwner,
    failedLookups: failed,
    abandonedLookups: abandoned,
    failuresByCode,
    failuresByCause,
    failuresByDeadHopAge,
    wrongByOwnerAge,
    wrongByAnswerer,
    wrongByAnswererPredecessor,
    meanHops: round(mean(hops), 3),
    p50Hops: quantile(hops, 0.5),
    p99Hops: quantile(hops, 0.99),
    maxHops: hops.length ? hops[hops.length - 1] : 0,
    meanLatencyMs: round(mean(latencies), 2),
    p99LatencyMs: quantile(latencies, 0.99),
    peersJoined,
    joinsCompleted,
    peersLeft,
    leftBeforeJoining,
    meanJoinMs: round(mean(joinTimes), 1),
    p99JoinMs: quantile(joinTimes, 0.99),
    livePeersEnd: nodes.size,
    joinedPeersEnd: joinedList.length,
    meanLivePeers: round(peerSeconds / virtualSeconds, 1),
    maintenanceMsgsPerPeerPerSec: round(perPeerSecond(maintenance.frames), 3),
    maintenanceBytesPerPeerPerSec: round(perPeerSecond(maintenance.bytes), 1),
    lookupMsgsPerPeerPerSec: round(perPeerSecond(traffic.lookups.frames), 3),
    totalMsgsPerPeerPerSec: round(perPeerSecond(maintenance.frames + traffic.lookups.frames), 3),
    maintenanceByKind,
    routerDrops,
    framesSent: net.network.stats.framesSent - sentAtStart,
    maintenanceFrames: maintenance.frames,
    lookupFrames: traffic.lookups.frames,
    framesToDeadPeers: net.network.stats.framesDropped - droppedAtStart,
    virtualSeconds,
    timeline: timeline.map((entry, i) => ({ ...entry, ...buckets[i] })),
    wallMs: 0,
    convergeWallMs,
    peakRssMB: Math.round(process.resourceUsage().maxRSS / 1024),
    heapMB: Math.round(mem.heapUsed / 2 ** 20),
  }
  for (const death of deaths.values()) death.unsubscribe()
  net.close()
  result.wallMs = Date.now() - started
  return result
}

/**
 * Why a peer might not pass a lookup request on or answer it: still joining
 * (ignores FindSuccessor), no routable successor (drops keys past itself as
 * UNROUTABLE), or neither.
 */
function describePeer(node: RingNode | undefined): string {
  if (node === undefined) return 'gone'
  if (!node.joined) return 'joining'
  const s = node.successors[0]
  if (s === undefined || !node.channels.isRoutable(s)) return 'without a routable successor'
  return 'routable'
}

function mean(xs: number[]): number {
  return xs.length ? xs.reduce((a, b) => a + b, 0) / xs.length : 0
}

/** xs sorted ascending. */
function quantile(xs: number[], q: number): number {
  return xs.length ? xs[Math.min(xs.length - 1, Math.floor(q * xs.length))] : 0
}

function round(x: number, digits: number): number {
  const f = 10 ** digits
  return Math.round(x * f) / f
}

export type { KindCount }
