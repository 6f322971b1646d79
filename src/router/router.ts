import { Observable, Subject, Subscription, filter, merge } from 'rxjs'
import { ExplorerError, isExplorerError } from '../errors'
import { DEFAULT_TTL, Frame, FrameFlag, FrameType, MAX_PAYLOAD_BYTES, decodeFrame, encodeFrame } from '../wire/frame'
import { type MalformedReason, inspectInbound } from '../wire/inbound'
import { MAX_ROUTE_HOPS, SourceRoute, readRoute, readSourceRoute, withHop, writeRoute, writeSourceRoute } from '../wire/route-record'
import type { ChannelSet } from './channel-set'
import type { RoutingView } from './routing-table'
import { DropReason, RouterStats, emptyRouterStats } from './stats'

/** A frame that reached this peer: addressed to it, or to a key it owns. */
export interface LocalFrame extends Frame {
  /** The neighbour that handed it to us (ourselves if we sent it). */
  from: number
  /** Forwarding steps from the source to here. */
  hops: number
  /** Set for Exact frames addressed to an id that is not ours: no such peer. */
  unreachable: boolean
  /** For traced frames, the peers that forwarded it, source first: the way back. Null otherwise. */
  path: number[] | null
}

/**
 * When a channel counts as abusive: `maxBadFrames` malformed frames within
 * any `windowMs` (a sliding window, in the router's clock: the ChannelSet's)
 * close it. A frame over the size limit closes it at once: no honest peer
 * can send one (channels refuse to).
 */
export interface AbusePolicy {
  /** Default 16. */
  maxBadFrames: number
  /** Default 10 s. */
  windowMs: number
}

export const DEFAULT_ABUSE_POLICY: Readonly<AbusePolicy> = { maxBadFrames: 16, windowMs: 10_000 }

/** A channel the router closed for abuse, and the last straw. */
export interface AbuseReport {
  peer: number
  reason: MalformedReason
  /** Malformed frames within the window, the last one included. */
  strikes: number
}

const ROUTING_FLAGS = FrameFlag.Final | FrameFlag.Back

/**
 * Frames in → deliver locally or forward to the next hop. Per frame, in
 * `receive`: inspect (malformed → strike) → route (forward, or keep) →
 * dispatch to the local listeners of its type (`frames$`).
 */
export class Router {
  readonly stats: RouterStats = emptyRouterStats()
  /** One stream per frame type: each local frame goes straight to its own listeners, no filtering per subscriber. */
  private readonly byType = new Map<FrameType, Subject<LocalFrame>>()
  /** Per channel: when its recent malformed frames arrived (at most maxBadFrames, oldest first). */
  private readonly strikes = new Map<number, number[]>()
  private readonly abuse = new Subject<AbuseReport>()
  private readonly subscription: Subscription
  readonly abusePolicy: Readonly<AbusePolicy>
  /** Our own id (a peer's id never changes). */
  private readonly self: number
  /** Channels closed for abuse, as they are closed. */
  readonly abuse$: Observable<AbuseReport> = this.abuse.asObservable()

  constructor(
    private readonly channels: ChannelSet,
    private readonly view: () => RoutingView,
    /** Called when a neighbour handed us a Final frame for a key we had to step back: its successor is stale. */
    private readonly onStaleSuccessor: (neighbour: number) => void = () => undefined,
    abusePolicy: Partial<AbusePolicy> = {},
  ) {
    this.abusePolicy = resolveAbusePolicy(abusePolicy)
    this.self = view().self
    channels.onInbound((from, bytes) => this.receive(from, bytes))
    // A channel that went away takes its strikes with it.
    this.subscription = channels.events$.pipe(filter((event) => event.type === 'down')).subscribe((event) => this.strikes.delete(event.peer))
  }

  /**
   * One frame from the channel to `from`. Malformed ones (src/wire/inbound.ts:
   * not a frame, bad TTL, unknown flags, a broken route) are dropped and held
   * against that channel. A frame whose handling throws is dropped as ERROR:
   * one bad frame never silences the peer.
   */
  private receive(from: number, bytes: Uint8Array): void {
    const inspected = inspectInbound(bytes)
    if (!inspected.ok) return this.malformed(from, inspected.reason)
    try {
      const result = this.route(inspected.frame, from, bytes)
      if (typeof result === 'object') this.dispatch(result)
    } catch {
      this.drop('ERROR')
    }
  }

  /**
   * For the layer a local frame was for (ring, sockets, signalling): its
   * payload does not parse. Counted as BAD_PAYLOAD; it is a strike against
   * the channel only when the neighbour itself originated the frame
   * (routers do not look into payloads they forward, so a peer that merely
   * passed it on is not to blame).
   */
  rejectPayload(frame: LocalFrame): void {
    if (frame.from === frame.source && frame.from !== this.self) this.malformed(frame.from, 'BAD_PAYLOAD')
    else this.countMalformed('BAD_PAYLOAD')
  }

  /** Malformed frames within the abuse window, per channel that sent any: for diagnostics and leak checks. */
  get channelsWithStrikes(): number {
    return this.strikes.size
  }

  /** Observers of the router's own subjects (local frames by type, abuse reports): for leak checks. */
  get observerCount(): number {
    let n = this.abuse.observers.length
    for (const stream of this.byType.values()) n += stream.observers.length
    return n
  }

  /** Local frames of some types (ring, signal, sockets). */
  frames$(...types: FrameType[]): Observable<LocalFrame> {
    // One type (the ring's, the signalling's): its stream as it is, no merge stage on every frame.
    if (types.length === 1) return this.streamOf(types[0]).asObservable()
    return merge(...types.map((type) => this.streamOf(type)))
  }

  private streamOf(type: FrameType): Subject<LocalFrame> {
    let stream = this.byType.get(type)
    if (!stream) {
      stream = new Subject<LocalFrame>()
      this.byType.set(type, stream)
    }
    return stream
  }

  /**
   * Originates a frame from this peer, routed by its dest. Traced frames record
   * their path so the answer can come back along it (see `reply`). Returns
   * false when it could not leave: callers' timeouts take it from there.
   */
  send(frame: Omit<Frame, 'ttl' | 'source'>, traced = false): boolean {
    this.stats.originated++
    const result = this.route(this.originate(frame, traced), this.self, null)
    if (typeof result === 'boolean') return result
    this.dispatch(result)
    return !result.unreachable
  }

  /**
   * Originates a frame already encoded with us as its source (sockets encode
   * each frame once and keep it for retransmission): it leaves as these very
   * bytes, TTL reset and routing flags patched in place.
   */
  sendEncoded(bytes: Uint8Array): boolean {
    this.stats.originated++
    bytes[2] = DEFAULT_TTL
    const result = this.route(decodeFrame(bytes), this.self, bytes)
    if (typeof result === 'boolean') return result
    this.dispatch(result)
    return !result.unreachable
  }

  /** Originates a frame that starts its route at neighbour `via` (it routes it as if it were the source). */
  sendThrough(via: number, frame: Omit<Frame, 'ttl' | 'source'>, traced = false): boolean {
    this.stats.originated++
    return this.forward(via, this.originate(frame, traced), null)
  }

  /** Sends to a neighbour over its channel, bypassing routing (ring maintenance). Addressed to it by name. */
  sendDirect(remote: number, frame: Omit<Frame, 'ttl' | 'source' | 'dest' | 'flags'>): boolean {
    const { type, conn, seq, payload } = frame
    return this.channels.send(remote, encodeFrame({ type, ttl: DEFAULT_TTL, flags: FrameFlag.Exact, source: this.self, dest: remote, conn, seq, payload }))
  }

  /**
   * Answers a frame that reached us: straight over our channel to its source
   * if we have one, else back along its recorded path when it was traced
   * (works before the ring around the asker is consistent), else routed to
   * its source by id.
   */
  reply(to: LocalFrame, frame: Omit<Frame, 'ttl' | 'source' | 'dest' | 'flags'>, direct = true): boolean {
    // A channel to the asker (often the case: fingers are mutual) is one hop instead of the whole path back; not
    // `direct` when the reply itself opens that channel (the asker takes its end only once it has read it), nor
    // over a channel still opening (a carried offer we just took: the asker cannot hear on it yet).
    if (to.path === null || (direct && this.channels.isRoutable(to.source))) return this.send({ ...frame, dest: to.source, flags: FrameFlag.Exact })
    return this.sendAlong([...to.path].reverse(), { ...frame, dest: to.source })
  }

  /** Source-routes a frame: `route` lists the hops, the last being `frame.dest`. */
  sendAlong(route: number[], frame: Omit<Frame, 'ttl' | 'source' | 'flags'>): boolean {
    this.stats.originated++
    const self = this.self
    if (route.length === 0) route = [self]
    const full: Frame = { ...frame, flags: FrameFlag.Exact | FrameFlag.Routed, ttl: DEFAULT_TTL, source: self, payload: writeSourceRoute(route, frame.payload) }
    const result = this.route(full, self, null)
    if (typeof result === 'boolean') return result
    this.dispatch(result)
    return true
  }

  /**
   * Passes a traced frame that stopped here on to neighbour `via`, addressed
   * to `dest` now, with routing `flags` (a lookup's waypoint hands its
   * request on toward the key): its source, remaining TTL and route record
   * go with it, so the final receiver answers the source along the whole path.
   */
  forwardDelivered(frame: LocalFrame, via: number, dest: number, flags: number): boolean {
    if (frame.path === null) return false
    const { type, ttl, source, conn, seq } = frame
    return this.forward(via, { type, ttl, flags: FrameFlag.Traced | (flags & ROUTING_FLAGS), source, dest, conn, seq, payload: writeRoute(frame.path, frame.payload) }, null)
  }

  /** A frame that stops here, to the listeners of its type. */
  private dispatch(frame: LocalFrame): void {
    this.byType.get(frame.type)?.next(frame)
  }

  private originate(frame: Omit<Frame, 'ttl' | 'source'>, traced: boolean): Frame {
    const self = this.self
    if (!traced) return { ...frame, ttl: DEFAULT_TTL, source: self }
    return { ...frame, flags: frame.flags | FrameFlag.Traced, ttl: DEFAULT_TTL, source: self, payload: writeRoute([], frame.payload) }
  }

  close(): void {
    this.channels.onInbound(null)
    this.subscription.unsubscribe()
    this.abuse.complete()
    for (const stream of this.byType.values()) stream.complete()
    this.strikes.clear()
  }

  /** Returns the frame for local delivery, or forwards it and says whether it left. */
  private route(frame: Frame, from: number, bytes: Uint8Array | null): LocalFrame | boolean {
    const view = this.view()
    if (frame.flags & FrameFlag.Routed) return this.followRoute(from, frame, bytes)
    const exact = (frame.flags & FrameFlag.Exact) !== 0
    // While joining we own no key, not even our own id: only frames for us by name stop here.
    if (frame.dest === view.self && (view.joined || exact)) return this.deliver(from, frame, false)
    // Straight to the destination when we have a working channel to it; an unhealthy one is routed around.
    if (exact && this.channels.carries(frame.dest)) return this.forward(frame.dest, frame, bytes)
    const hop = this.channels.routing.nextHop(frame.dest, view, frame.flags)
    switch (hop.kind) {
      case 'local':
        return this.deliver(from, frame, exact && frame.dest !== view.self)
      case 'forward':
        if (hop.flags & FrameFlag.Back && !(frame.flags & FrameFlag.Back) && from !== view.self) this.onStaleSuccessor(from)
        frame.flags = (frame.flags & ~ROUTING_FLAGS) | hop.flags
        return this.forward(hop.via, frame, bytes)
      case 'unroutable':
        this.drop('UNROUTABLE')
        return false
    }
  }

  /** One hop: spends a unit of TTL. Frames that arrived as bytes leave as the same bytes, patched. */
  private forward(via: number, frame: Frame, bytes: Uint8Array | null): boolean {
    if (frame.ttl <= 1) {
      this.drop('TTL_EXPIRED')
      return false
    }
    frame.ttl -= 1
    let out: Uint8Array
    if (frame.flags & FrameFlag.Traced) {
      // Inbound frames had their record checked on arrival; our own are parsed here.
      const record = bytes === null ? this.parseRoute(frame.payload) : null
      if (bytes === null && record === null) return false
      const hops = record !== null ? record.ids.length : frame.payload[0]
      if (hops >= MAX_ROUTE_HOPS) {
        this.drop('TTL_EXPIRED')
        return false
      }
      if (frame.payload.byteLength + 6 > MAX_PAYLOAD_BYTES) {
        // Our id would not fit: encoding would throw.
        this.drop('TOO_BIG')
        return false
      }
      // The record grows by one id a hop, so the frame is written afresh (as bytes when it came as bytes).
      if (record === null) out = withHop(bytes!, this.self, frame.ttl, frame.flags)
      else {
        frame.payload = writeRoute([...record.ids, this.self], record.rest)
        out = encodeFrame(frame)
      }
    } else if (bytes !== null) {
      bytes[2] = frame.ttl
      bytes[3] = frame.flags
      out = bytes
    } else {
      out = encodeFrame(frame)
    }
    const sent = this.channels.send(via, out)
    if (sent) this.stats.forwarded++
    else this.drop('SEND_FAILED')
    return sent
  }

  /** A source-routed frame: take the next listed hop, or stop here when it was the last. */
  private followRoute(from: number, frame: Frame, bytes: Uint8Array | null): LocalFrame | boolean {
    let route: SourceRoute
    try {
      route = readSourceRoute(frame.payload)
    } catch (error) {
      // Frames from channels were checked on arrival: only a local caller's frame gets here.
      if (!isExplorerError(error, 'BAD_FRAME')) throw error
      this.countMalformed('BAD_ROUTE')
      return false
    }
    const self = this.self
    let next = route.next
    while (next < route.ids.length && route.ids[next] === self) next++
    if (next === route.ids.length) {
      frame.payload = route.rest
      const local = this.deliver(from, frame, frame.dest !== self)
      // The way back: the source, then every hop before us.
      if (typeof local === 'object') local.path = [frame.source, ...route.ids.slice(0, -1).filter((id) => id !== self)]
      return local
    }
    const hop = route.ids[next]
    if (!this.channels.has(hop)) {
      this.drop('UNREACHABLE')
      return false
    }
    // Advance the cursor in place: the route stays whole for the receiver.
    frame.payload[1] = next + 1
    return this.forward(hop, frame, bytes)
  }

  private parseRoute(payload: Uint8Array): ReturnType<typeof readRoute> | null {
    try {
      return readRoute(payload)
    } catch (error) {
      if (!isExplorerError(error, 'BAD_FRAME')) throw error
      this.countMalformed('BAD_ROUTE')
      return null
    }
  }

  private deliver(from: number, frame: Frame, unreachable: boolean): LocalFrame | boolean {
    if (unreachable) this.drop('UNREACHABLE')
    else this.stats.delivered++
    const local = frame as LocalFrame
    local.from = from
    local.hops = DEFAULT_TTL - frame.ttl
    local.unreachable = unreachable
    local.path = null
    if (frame.flags & FrameFlag.Traced) {
      const record = this.parseRoute(frame.payload)
      if (record === null) return false
      local.path = record.ids
      local.payload = record.rest
    }
    return local
  }

  /** A malformed frame from the channel to `from`: dropped, counted, and a strike against that channel. */
  private malformed(from: number, reason: MalformedReason): void {
    this.countMalformed(reason)
    // Frames still in flight from a channel we no longer have: nothing left to close.
    if (!this.channels.has(from)) return
    const { maxBadFrames, windowMs } = this.abusePolicy
    const now = this.channels.now()
    let times = this.strikes.get(from)
    if (times === undefined) this.strikes.set(from, (times = []))
    while (times.length > 0 && now - times[0] >= windowMs) times.shift()
    times.push(now)
    if (reason !== 'TOO_LONG' && times.length < maxBadFrames) return
    this.strikes.delete(from)
    this.stats.abusiveChannelsClosed++
    this.channels.close(from)
    this.abuse.next({ peer: from, reason, strikes: times.length })
  }

  private countMalformed(reason: MalformedReason): void {
    this.stats.malformed[reason]++
    this.drop('BAD_FRAME')
  }

  private drop(reason: DropReason): void {
    this.stats.dropped[reason]++
  }
}

function resolveAbusePolicy(policy: Partial<AbusePolicy>): AbusePolicy {
  const resolved = { ...DEFAULT_ABUSE_POLICY, ...policy }
  if (!Number.isInteger(resolved.maxBadFrames) || resolved.maxBadFrames < 1) {
    throw new ExplorerError('BAD_OPTIONS', `maxBadFrames must be an integer ≥ 1, got ${resolved.maxBadFrames}`)
  }
  if (!(resolved.windowMs >= 0 && Number.isFinite(resolved.windowMs))) {
    throw new ExplorerError('BAD_OPTIONS', `windowMs must be a finite number ≥ 0, got ${resolved.windowMs}`)
  }
  return resolved
}
