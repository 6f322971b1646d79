import { asyncScheduler, type SchedulerLike } from 'rxjs'
import { ExplorerError } from '../../errors'
import { MemoryChannel } from './channel'
import type { LinkModel, MemoryNetworkStats } from './link'
import { signalFailed } from './signals'
import { MemoryTransport, type HandshakeRegistry } from './transport'

export interface MemoryNetworkOptions {
  /** Drives every delivery and failure-detection timer (default asyncScheduler; a VirtualScheduler for simulation). */
  scheduler?: SchedulerLike
  /** One-way latency per frame in ms, fixed or drawn per frame (default 0). */
  latencyMs?: number | (() => number)
  /** Probability that a frame is dropped (default 0). Uses `random`. */
  lossRate?: number
  /** Source of randomness for loss; pass a seeded one for reproducible runs (default Math.random). */
  random?: () => number
  /** `drained()` fires once bufferedAmount ≤ this many bytes (default 0). */
  lowWaterMark?: number
  /** After a peer crashes, its remotes' channel ends close after this many ms (default 0). */
  failureDetectionMs?: number
}

interface Peer {
  readonly transport: MemoryTransport
  /** Its open channel ends, including answered-but-unclaimed ones. */
  readonly ends: Set<MemoryChannel>
}

export interface Offer {
  readonly from: number
  /** Null for an open offer: any live peer may answer it. */
  readonly to: number | null
  /** The connector's end, once the accepter has made the pair. */
  end: MemoryChannel | null
}

/**
 * In-process links between numbered peers, with latency, loss and crashes, all
 * timed on an injectable scheduler. `transport(id)` is what a peer gets; the
 * handshake still travels over the SignalPort it is given, so signalling code
 * is exercised exactly as with WebRTC.
 */
export class MemoryNetwork implements LinkModel, HandshakeRegistry {
  readonly scheduler: SchedulerLike
  readonly lowWaterMark: number
  readonly failureDetectionMs: number
  readonly stats: MemoryNetworkStats = {
    framesSent: 0,
    framesDelivered: 0,
    framesLost: 0,
    framesDropped: 0,
    bytesSent: 0,
    channelsCreated: 0,
  }
  private readonly peers = new Map<number, Peer>()
  protected readonly offers = new Map<number, Offer>()
  private readonly lossRate: number
  private readonly random: () => number
  private readonly latencyFn: (() => number) | null
  private readonly latencyFixed: number
  private nextToken = 1
  private openEnds = 0

  constructor(options: MemoryNetworkOptions = {}) {
    this.scheduler = options.scheduler ?? asyncScheduler
    this.lossRate = options.lossRate ?? 0
    this.random = options.random ?? Math.random
    this.lowWaterMark = options.lowWaterMark ?? 0
    this.failureDetectionMs = options.failureDetectionMs ?? 0
    const latency = options.latencyMs ?? 0
    this.latencyFn = typeof latency === 'function' ? latency : null
    this.latencyFixed = typeof latency === 'number' ? latency : 0
    if (!(this.lossRate >= 0 && this.lossRate <= 1)) throw badOptions(`lossRate must be in [0, 1], got ${this.lossRate}`)
    if (!(this.latencyFixed >= 0)) throw badOptions(`latencyMs must be ≥ 0, got ${this.latencyFixed}`)
    if (!(this.lowWaterMark >= 0)) throw badOptions(`lowWaterMark must be ≥ 0, got ${this.lowWaterMark}`)
    if (!(this.failureDetectionMs >= 0)) throw badOptions(`failureDetectionMs must be ≥ 0, got ${this.failureDetectionMs}`)
  }

  /** The transport of peer `peerId` (the same object on every call until it crashes). */
  transport(peerId: number): MemoryTransport {
    let peer = this.peers.get(peerId)
    if (peer === undefined) {
      peer = { transport: new MemoryTransport(peerId, this), ends: new Set() }
      this.peers.set(peerId, peer)
    }
    return peer.transport
  }

  /**
   * Peer `peerId` vanishes without warning: its channel ends close at once and
   * silently, frames from it stop (even those in flight), and every remote end
   * closes `failureDetectionMs` later. Its old transport fails every handshake;
   * `transport(peerId)` afterwards is a fresh peer with the same id.
   */
  crash(peerId: number): void {
    const peer = this.peers.get(peerId)
    if (peer === undefined) return
    this.peers.delete(peerId)
    for (const [token, offer] of this.offers) if (offer.from === peerId) this.offers.delete(token)
    for (const end of [...peer.ends]) {
      end.crash()
      end.remote.remoteCrashed(this.failureDetectionMs)
    }
  }

  /** Open channel ends across the network (two per healthy channel): for leak checks. */
  channelCount(): number {
    return this.openEnds
  }

  /** Peers with a live transport. */
  peerCount(): number {
    return this.peers.size
  }

  // LinkModel

  latency(): number {
    return this.latencyFn === null ? this.latencyFixed : Math.max(0, this.latencyFn())
  }

  lost(): boolean {
    return this.lossRate > 0 && this.random() < this.lossRate
  }

  endClosed(localId: number, end: MemoryChannel): void {
    this.openEnds--
    this.peers.get(localId)?.ends.delete(end)
  }

  // HandshakeRegistry

  isLive(peerId: number): boolean {
    return this.peers.has(peerId)
  }

  openOffer(from: number, to: number | null): number {
    const token = this.tokenFor(this.nextToken++)
    this.offers.set(token, { from, to, end: null })
    return token
  }

  /** The token of the n-th offer made here (a partition of a parallel simulation makes tokens unique across partitions). */
  protected tokenFor(n: number): number {
    return n
  }

  /**
   * `to` answers offer `token`, which its signalling says came from `from`.
   * Like WebRTC, where an offer's SDP reaches whoever made it whatever the
   * signalling claims (the DTLS fingerprint inside decides), the pair joins
   * `to` and the offer's real maker: `to`'s end is named `from`, so a forged
   * claim gives a channel named after one peer that reaches another. Only a
   * proof on the signal (src/identity/signal-gate.ts) stops that.
   */
  answerOffer(token: number, from: number, to: number): MemoryChannel {
    const offer = this.offers.get(token)
    if (offer === undefined || offer.end !== null) throw signalFailed(`no pending memory offer with token ${token}`)
    if (offer.from === to || from === to) throw signalFailed(`memory offer ${token}: a peer cannot answer its own offer`)
    if (!this.peers.has(offer.from) || !this.peers.has(to)) throw signalFailed(`memory offer ${token}: a peer has crashed`)
    const a = this.newEnd(offer.from, offer.to ?? to)
    const b = this.newEnd(to, from)
    a.remote = b
    b.remote = a
    this.stats.channelsCreated++
    offer.end = a
    return b
  }

  /** A new open end at live peer `localId` (its `remote` still to be set). */
  protected newEnd(localId: number, remoteId: number): MemoryChannel {
    const end = new MemoryChannel(this, localId, remoteId)
    this.peers.get(localId)!.ends.add(end)
    this.openEnds++
    return end
  }

  claimOffer(token: number, from: number): MemoryChannel {
    const offer = this.offers.get(token)
    if (offer === undefined || offer.from !== from || offer.end === null) throw signalFailed(`memory offer ${token} was not answered`)
    this.offers.delete(token)
    if (!offer.end.isOpen) throw signalFailed(`memory channel for offer ${token} closed before it opened`)
    return offer.end
  }

  abortOffer(token: number): void {
    const offer = this.offers.get(token)
    if (offer === undefined) return
    this.offers.delete(token)
    offer.end?.close()
  }
}

const badOptions = (message: string) => new ExplorerError('BAD_OPTIONS', message)
