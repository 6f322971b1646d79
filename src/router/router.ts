import { Observable, Subject, Subscription, filter, map } from 'rxjs'
import { isExplorerError } from '../errors'
import { bytesToId, writeId } from '../ids'
import { DEFAULT_TTL, Frame, FrameFlag, FrameType, decodeFrame, encodeFrame } from '../wire/frame'
import type { ChannelSet, InboundFrame } from './channel-set'
import type { RoutingView } from './routing-table'
import { DropReason, RouterStats, emptyRouterStats } from './stats'

/** A frame that reached this peer: addressed to it, or to a key it owns. */
export interface LocalFrame extends Frame {
  /** The neighbour that handed it to us (the source itself if it came direct). */
  from: number
  /** Forwarding steps from the source to here. */
  hops: number
  /** Set for Exact frames addressed to an id that is not ours: no such peer. */
  unreachable: boolean
}

/** A channel sending this many malformed frames is treated as hostile and closed. */
const MAX_BAD_FRAMES_PER_CHANNEL = 16

/**
 * Frames in → deliver locally or forward to the next hop. The pipeline is
 * `inbound$ → decodeFrames → routeFrames`, whose output is the local frames.
 */
export class Router {
  readonly stats: RouterStats = emptyRouterStats()
  private readonly local = new Subject<LocalFrame>()
  private readonly badFrames = new Map<number, number>()
  private readonly subscription: Subscription

  constructor(
    private readonly channels: ChannelSet,
    private readonly view: () => RoutingView,
  ) {
    this.subscription = channels.inbound$
      .pipe(
        map((inbound) => this.decode(inbound)),
        filter((frame): frame is Frame & { from: number } => frame !== null),
      )
      .subscribe((frame) => this.route(frame.from, frame))
  }

  /** Local frames of one type (ring, signal, sockets). */
  frames$(...types: FrameType[]): Observable<LocalFrame> {
    return this.local.pipe(filter((f) => types.includes(f.type)))
  }

  /**
   * Originates a frame from this peer. Returns false when it could not leave
   * (no route, or the channel refused it): callers' timeouts take it from there.
   */
  send(frame: Omit<Frame, 'ttl' | 'source'> & { ttl?: number }): boolean {
    this.stats.originated++
    const full: Frame = { ...frame, ttl: frame.ttl ?? DEFAULT_TTL, source: this.view().self }
    return this.route(full.source, full)
  }

  /** Originates a frame that starts its route at neighbour `via` (it routes it as if it were the source). */
  sendThrough(via: number, frame: Omit<Frame, 'ttl' | 'source'>): boolean {
    this.stats.originated++
    return this.forward(via, { ...frame, ttl: DEFAULT_TTL, source: this.view().self })
  }

  /** Sends to a neighbour over its channel, bypassing routing (ring maintenance). Addressed to it by name. */
  sendDirect(remote: number, frame: Omit<Frame, 'ttl' | 'source' | 'dest' | 'flags'>): boolean {
    const bytes = encodeFrame({ ...frame, dest: remote, flags: FrameFlag.Exact, ttl: DEFAULT_TTL, source: this.view().self })
    return this.channels.send(remote, bytes)
  }

  /**
   * Answers a peer that may not be routable yet: through `via` (a neighbour of
   * it) when given, otherwise routed to it by id.
   */
  reply(to: number, via: number | null, frame: Omit<Frame, 'ttl' | 'source' | 'dest' | 'flags'>): boolean {
    if (via === null || this.channels.has(to)) return this.send({ ...frame, dest: to, flags: FrameFlag.Exact })
    const payload = new Uint8Array(6 + frame.payload.byteLength)
    writeId(payload, 0, to)
    payload.set(frame.payload, 6)
    return this.send({ ...frame, dest: via, flags: FrameFlag.Exact | FrameFlag.Relay, payload })
  }

  close(): void {
    this.subscription.unsubscribe()
    this.local.complete()
  }

  private decode(inbound: InboundFrame): (Frame & { from: number }) | null {
    try {
      return { ...decodeFrame(inbound.bytes), from: inbound.from }
    } catch (error) {
      if (!isExplorerError(error, 'BAD_FRAME')) throw error
      this.drop('BAD_FRAME')
      const strikes = (this.badFrames.get(inbound.from) ?? 0) + 1
      this.badFrames.set(inbound.from, strikes)
      if (strikes >= MAX_BAD_FRAMES_PER_CHANNEL) {
        this.badFrames.delete(inbound.from)
        this.channels.close(inbound.from)
      }
      return null
    }
  }

  private route(from: number, frame: Frame): boolean {
    const view = this.view()
    const exact = (frame.flags & FrameFlag.Exact) !== 0
    // While joining we own no key, not even our own id: only frames for us by name stop here.
    if (frame.dest === view.self && (view.joined || exact)) return this.deliverOrRelay(from, frame)
    if (exact && this.channels.has(frame.dest)) return this.forward(frame.dest, frame)
    const hop = this.channels.routing.nextHop(frame.dest, view, frame.flags)
    switch (hop.kind) {
      case 'local':
        return this.deliver(from, frame, exact)
      case 'forward':
        return this.forward(hop.via, { ...frame, flags: (frame.flags & ~(FrameFlag.Final | FrameFlag.Back)) | hop.flags })
      case 'unroutable':
        this.drop('UNROUTABLE')
        return false
    }
  }

  private forward(via: number, frame: Frame): boolean {
    if (frame.ttl <= 1) {
      this.drop('TTL_EXPIRED')
      return false
    }
    const sent = this.channels.send(via, encodeFrame({ ...frame, ttl: frame.ttl - 1 }))
    if (sent) this.stats.forwarded++
    else this.drop('SEND_FAILED')
    return sent
  }

  private deliverOrRelay(from: number, frame: Frame): boolean {
    if ((frame.flags & FrameFlag.Relay) === 0) return this.deliver(from, frame, false)
    if (frame.payload.byteLength < 6) {
      this.drop('BAD_FRAME')
      return false
    }
    const target = bytesToId(frame.payload, 0)
    const relayed = { ...frame, dest: target, flags: frame.flags & ~FrameFlag.Relay, payload: frame.payload.subarray(6) }
    if (target === this.view().self) return this.deliver(from, relayed, false)
    if (!this.channels.has(target)) {
      this.drop('UNREACHABLE')
      return false
    }
    return this.forward(target, relayed)
  }

  private deliver(from: number, frame: Frame, exact: boolean): boolean {
    const unreachable = exact && frame.dest !== this.view().self
    if (unreachable) this.drop('UNREACHABLE')
    else this.stats.delivered++
    this.local.next({ ...frame, from, hops: DEFAULT_TTL - frame.ttl, unreachable })
    return !unreachable
  }

  private drop(reason: DropReason): void {
    this.stats.dropped[reason]++
  }
}
