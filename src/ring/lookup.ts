import { Observable, Subscriber, Subscription, type SchedulerLike } from 'rxjs'
import { ExplorerError } from '../errors'
import type { ClaimProver, OwnershipClaim } from '../identity/claim-proof'
import { RING_SIZE, betweenOpen, betweenRightInclusive, formatId, randomIdNumber } from '../ids'
import type { ChannelSet } from '../router/channel-set'
import type { Router } from '../router/router'
import { lowerBound } from '../router/sorted-ids'
import { FrameType } from '../wire/frame'
import { chooseClaim, claimRefused, type ProvenClaim } from './claims'
import { CarriedOffer, RingOp, encodeRingMessage } from './messages'
import type { RingReply } from './requests'
import type { RpcTable } from './rpc'
import type { RingState } from './state'

/** Routes a lookup may take at most: the plain one and a waypoint a power of two before the key for each finger row from 47 down. */
export const MAX_LOOKUP_ROUTES = 16
/** First hops a route may start at: the closest few peers before its destination. */
const FIRST_HOP_CANDIDATES = 8

export interface LookupOptions {
  /** Independent routes to ask over, 1 to MAX_LOOKUP_ROUTES (default: the ring's `lookupRoutes`). */
  routes?: number
  /** One route, starting at this neighbour (the ring-position check asks the ring from elsewhere). */
  through?: number
}

/** What a lookup believes: the owner, and the route that found it. */
export interface LookupFound {
  owner: number
  hops: number
  /** The hops from us to the owner (the owner last; empty when it is us). */
  route: number[]
}

/**
 * A channel offer the lookup carries (on route 0), and what to do with the
 * answer: called as soon as route 0's proven Found comes, with the peer that
 * answered (the answering end of the channel waits on it, while the other
 * routes' answers may come over that very channel).
 */
export interface CarriedLookupOffer {
  offer: CarriedOffer
  bind(answerer: LookupFound, answer: Uint8Array | undefined): void
}

export interface LookupsComponents {
  id: number
  router: Router
  channels: ChannelSet
  state: RingState
  prover: ClaimProver
  scheduler: SchedulerLike
  rpc: RpcTable<RingReply>
}

export interface LookupsInit {
  /** A lookup's deadline: what it has by then is what it believes. */
  rpcTimeoutMs: number
  /** A route silent this long is asked again from another first hop. */
  attemptMs: number
  /** Routes per lookup unless the caller says. */
  routes: number
}

/** A finding of one route: what it learned besides the claim. */
interface Finding {
  route: number[]
}

/**
 * Lookups that do not take one peer's word for it. A lookup asks over
 * several routes at once: the plain one (to the key: its last hop is the
 * key's predecessor), and routes to waypoints 2^47, 2^46, ... before the
 * key, whose owners pass the request on to the closest peer they know at or
 * after the key (their finger of that row, usually the owner itself: the
 * knuckles of Halo), so the routes share neither their first hop nor, most
 * of the time, their last. Each answer is the owner's signed claim
 * (src/identity/claim-proof.ts) on our nonce; the one believed is the
 * proven claim closest after the key (src/ring/claims.ts). A route silent
 * for `attemptMs` is asked again from another first hop; at `rpcTimeoutMs`
 * the lookup settles with what it has.
 */
export class Lookups {
  constructor(
    readonly components: LookupsComponents,
    readonly init: LookupsInit,
  ) {
    checkLookupRoutes(init.routes, 'lookupRoutes')
  }

  find$(key: number, options: LookupOptions = {}, carried?: CarriedLookupOffer): Observable<LookupFound> {
    if (options.routes !== undefined) checkLookupRoutes(options.routes, 'routes')
    return new Observable<LookupFound>((subscriber) => new LookupRun(this, key, options, carried, subscriber).teardown)
  }

  /** The destination of route `index`: the key, then waypoints 2^47, 2^46, ... before it. */
  static destination(key: number, index: number): number {
    return index === 0 ? key : (key - 2 ** (48 - index) + RING_SIZE) % RING_SIZE
  }

  /** Neighbours a request for `dest` may start at, best first; empty when it is ours (or we are joining): then the router decides. */
  firstHops(dest: number): number[] {
    const { id, state, channels } = this.components
    const view = state.view()
    if (!view.joined || view.alone || dest === id) return []
    if (view.predecessor !== null && betweenRightInclusive(dest, view.predecessor, id)) return []
    const hops: number[] = []
    if (view.successor !== null && betweenRightInclusive(dest, id, view.successor)) hops.push(view.successor)
    const ids = channels.routing.list()
    const n = ids.length
    for (let k = 1, i = lowerBound(ids, dest); k <= n && hops.length < FIRST_HOP_CANDIDATES; k++) {
      const peer = ids[(i - k + n) % n]
      if (!betweenOpen(peer, id, dest)) break
      hops.push(peer)
    }
    return hops
  }
}

/** Misuse: a route count outside 1..MAX_LOOKUP_ROUTES is BAD_OPTIONS. */
export function checkLookupRoutes(routes: number, name: string): void {
  if (!Number.isInteger(routes) || routes < 1 || routes > MAX_LOOKUP_ROUTES) throw new ExplorerError('BAD_OPTIONS', `${name} must be an integer from 1 to ${MAX_LOOKUP_ROUTES}, got ${routes}`)
}

/** One route of a lookup in progress. */
interface RouteState {
  readonly index: number
  readonly dest: number
  /** First hops its attempts took (null: the router's choice). */
  readonly tried: (number | null)[]
  /** The attempt in flight: cancels its request. */
  cancel: (() => void) | null
  done: boolean
}

/** One lookup: its routes, the claims they brought, the deadline. */
class LookupRun {
  readonly teardown = new Subscription()
  private readonly nonce = randomIdNumber()
  private readonly routes: RouteState[]
  private readonly claims: ProvenClaim<Finding>[] = []
  /** First hops taken by any route: a new attempt prefers one not among them. */
  private readonly used = new Set<number>()
  private readonly attemptMs: number
  /** Attempts a route may make: one per attemptMs until the deadline. */
  private readonly maxAttempts: number
  private readonly fixedFirstHop: number | undefined
  private settled = false

  constructor(
    private readonly lookups: Lookups,
    private readonly key: number,
    options: LookupOptions,
    private readonly carried: CarriedLookupOffer | undefined,
    private readonly subscriber: Subscriber<LookupFound>,
  ) {
    const { init, components } = lookups
    const count = options.through !== undefined || !components.state.joined ? 1 : (options.routes ?? init.routes)
    this.fixedFirstHop = options.through
    // A lookup that must start at one neighbour has one try; so does one while joining (one channel).
    const oneTry = options.through !== undefined || !components.state.joined
    this.attemptMs = oneTry ? init.rpcTimeoutMs : Math.min(init.attemptMs, init.rpcTimeoutMs)
    this.maxAttempts = Math.max(1, Math.floor(init.rpcTimeoutMs / this.attemptMs))
    this.routes = Array.from({ length: count }, (_, index) => ({ index, dest: Lookups.destination(key, index), tried: [], cancel: null, done: false }))
    this.teardown.add(() => this.cancelAll())
    this.teardown.add(components.scheduler.schedule(() => this.finish(), init.rpcTimeoutMs))
    for (const route of this.routes) if (!this.settled) this.attempt(route)
  }

  private attempt(route: RouteState): void {
    const { router, rpc } = this.lookups.components
    const via = this.firstHop(route)
    route.tried.push(via)
    if (via !== null) this.used.add(via)
    const payload = encodeRingMessage({ op: RingOp.FindSuccessor, key: this.key, nonce: this.nonce, offer: route.index === 0 ? this.carried?.offer : undefined })
    route.cancel = rpc.request(
      (conn) => {
        const frame = { type: FrameType.Ring, dest: route.dest, flags: 0, conn, seq: 0, payload }
        return via === null ? router.send(frame, true) : router.sendThrough(via, frame, true)
      },
      this.attemptMs, 'LOOKUP_TIMEOUT', () => `lookup of ${formatId(this.key)}`,
      (reply) => this.onReply(route, reply),
      () => this.failed(route),
    )
  }

  /** The neighbour this attempt starts at: the fixed one, else the best one no route took yet, else the best this route did not take; null: the router's choice. */
  private firstHop(route: RouteState): number | null {
    if (this.fixedFirstHop !== undefined) return this.fixedFirstHop
    const hops = this.lookups.firstHops(route.dest)
    return hops.find((hop) => !this.used.has(hop)) ?? hops.find((hop) => !route.tried.includes(hop)) ?? null
  }

  private onReply(route: RouteState, { frame, message }: RingReply): void {
    route.cancel = null
    if (message.op !== RingOp.Found) return this.failed(route)
    const claim: OwnershipClaim = { key: this.key, owner: message.owner, predecessor: message.predecessor, nonce: this.nonce }
    if (claimRefused(claim)) return this.failed(route)
    const { id, prover } = this.lookups.components
    const path = frame.source === id ? [] : [...message.path.slice(1), frame.source]
    if (message.owner !== frame.source) path.push(message.owner)
    const finding: ProvenClaim<Finding> = { claim, hops: message.hops, extra: { route: path } }
    this.teardown.add(
      prover.check$(claim, message.proof).subscribe((proven) => {
        if (!proven) return this.failed(route)
        this.claims.push(finding)
        if (route.index === 0) this.carried?.bind({ owner: claim.owner, hops: finding.hops, route: path }, message.answer)
        this.settle(route)
      }),
    )
  }

  /** An attempt timed out or brought nothing believable: try again from elsewhere while there is time. */
  private failed(route: RouteState): void {
    route.cancel = null
    if (this.settled) return
    if (route.tried.length < this.maxAttempts) return this.attempt(route)
    this.settle(route)
  }

  private settle(route: RouteState): void {
    route.done = true
    if (this.routes.every((r) => r.done)) this.finish()
  }

  /** Every route answered or gave up, or the deadline came: believe the best claim. */
  private finish(): void {
    if (this.settled) return
    this.settled = true
    this.cancelAll()
    const best = chooseClaim(this.claims)
    if (best === null) {
      this.subscriber.error(new ExplorerError('LOOKUP_TIMEOUT', `lookup of ${formatId(this.key)}: no proven answer within ${this.lookups.init.rpcTimeoutMs} ms`))
      return
    }
    this.subscriber.next({ owner: best.claim.owner, hops: best.hops, route: best.extra.route })
    this.subscriber.complete()
  }

  private cancelAll(): void {
    for (const route of this.routes) {
      route.cancel?.()
      route.cancel = null
    }
  }
}
