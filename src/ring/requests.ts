import { Observable, finalize, switchMap } from 'rxjs'
import { ExplorerError } from '../errors'
import type { ClaimProver } from '../identity/claim-proof'
import type { ChannelSet } from '../router/channel-set'
import type { LocalFrame, Router } from '../router/router'
import { FrameType } from '../wire/frame'
import { Lookups, type LookupOptions } from './lookup'
import { RingMessage, RingOp, encodeRingMessage } from './messages'
import type { OverlaySignalling } from './overlay-signalling'
import type { Reach } from './reach'
import { RpcTable } from './rpc'
import type { RingState } from './state'
import type { SchedulerLike } from 'rxjs'

export interface LookupResult {
  /** The peer responsible for the key. */
  owner: number
  /** Forwarding steps the request took to reach it. */
  hops: number
  /** The hops from us to the owner (the owner last; empty when it is us): a source route to it. */
  route: number[]
}

/** A reply to one of our requests: the frame it came in and its message. */
export type RingReply = { frame: LocalFrame; message: RingMessage }

/** What a peer answers to GetState: its predecessor and successor list. */
export interface PeerState {
  readonly predecessor: number | null
  readonly successors: readonly number[]
}

export interface RingRequestsComponents {
  id: number
  router: Router
  channels: ChannelSet
  state: RingState
  signalling: OverlaySignalling
  prover: ClaimProver
  /** Channels to peers: direct, or relayed when there is no direct path (src/ring/reach.ts). */
  reach: Reach
  scheduler: SchedulerLike
  random: () => number
}

export interface RingRequestsInit {
  rpcTimeoutMs: number
  /** A lookup route silent this long is asked again from another first hop. */
  lookupAttemptMs: number
  /** Routes a lookup takes unless its caller says. */
  lookupRoutes: number
}

/** GetState has no fields: every request carries the same payload. */
const GET_STATE = encodeRingMessage({ op: RingOp.GetState })

/**
 * What the ring's duties ask of other peers, each written once: lookups
 * (with or without a channel offer riding on them), a neighbour's state, a
 * channel to a peer (`reach$`), and one-way ring messages. Replies are
 * matched to requests by the RpcTable.
 */
export class RingRequests {
  private readonly rpc: RpcTable<RingReply>
  private readonly lookups: Lookups

  constructor(
    private readonly components: RingRequestsComponents,
    private readonly init: RingRequestsInit,
  ) {
    const rpc = (this.rpc = new RpcTable<RingReply>(components.scheduler, components.random))
    const { id, router, channels, state, prover, scheduler } = components
    this.lookups = new Lookups({ id, router, channels, state, prover, scheduler, rpc }, { rpcTimeoutMs: init.rpcTimeoutMs, attemptMs: init.lookupAttemptMs, routes: init.lookupRoutes })
  }

  /** A Found or State frame: resolves the request it answers (by conn); late or unknown replies are dropped. */
  resolve(reply: RingReply): void {
    this.rpc.resolve(reply.frame.conn, reply)
  }

  /** The peer responsible for `key`, as the proven answers over several routes say (src/ring/lookup.ts). */
  lookup$(key: number, options: LookupOptions = {}): Observable<LookupResult> {
    return this.lookups.find$(key, options)
  }

  /**
   * A lookup that also opens a channel to the owner: the transport's offer
   * rides on the request and the owner's answer on its Found, so a new
   * finger costs two traversals of the ring instead of four. When the owner
   * declines (it has a channel to us already, say), the caller's `reach$`
   * dials as usual.
   */
  lookupOpening$(key: number, options: LookupOptions = {}): Observable<LookupResult> {
    const { signalling } = this.components
    return signalling.openOffer$().pipe(
      switchMap((offer) => {
        if (offer === null) return this.lookup$(key, options)
        const bind = ({ owner, route }: LookupResult, answer: Uint8Array | undefined) => signalling.bindOffer(offer.session, owner, route, answer)
        return this.lookups.find$(key, options, { offer, bind }).pipe(finalize(() => signalling.dropOffer(offer.session)))
      }),
    )
  }

  /**
   * Asks neighbour `remote` for its state: then exactly one of `onState` or
   * `onError` (LOOKUP_TIMEOUT after rpcTimeoutMs; BAD_FRAME for a reply that
   * is not a State). No Observable: stabilize and finger checks make this
   * call for every peer every round. Returns a cancel function.
   */
  requestState(remote: number, what: () => string, onState: (state: PeerState) => void, onError: (error: ExplorerError) => void): () => void {
    return this.rpc.request(
      (conn) => this.components.router.sendDirect(remote, { type: FrameType.Ring, conn, seq: 0, payload: GET_STATE }),
      this.init.rpcTimeoutMs, 'LOOKUP_TIMEOUT', what,
      ({ message }) => (message.op === RingOp.State ? onState(message) : onError(new ExplorerError('BAD_FRAME', `${what()}: expected a state reply`))),
      onError,
    )
  }

  /** requestState as a cold Observable: one state, or the error. */
  state$(remote: number, what: () => string): Observable<PeerState> {
    return new Observable<PeerState>((subscriber) =>
      this.requestState(remote, what, (state) => (subscriber.next(state), subscriber.complete()), (error) => subscriber.error(error)),
    )
  }

  /**
   * Emits `peer` once we have a channel to it (at once if we have), opened
   * through the overlay along `route` if given, else routed by id, or a
   * relayed link when no direct one can be had; errors when neither can.
   */
  reach$(peer: number, route: number[] | null = null): Observable<number> {
    return this.components.reach.reach$(peer, route)
  }

  /** One ring message straight to a neighbour (nothing if we have no channel to it). */
  send(remote: number, message: RingMessage, conn = 0): void {
    this.components.router.sendDirect(remote, { type: FrameType.Ring, conn, seq: 0, payload: encodeRingMessage(message) })
  }

  /** Fails every request still waiting with CLOSED. */
  close(): void {
    this.rpc.close()
  }
}
