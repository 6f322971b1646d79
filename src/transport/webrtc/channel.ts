import { BehaviorSubject, Observable, combineLatest, distinctUntilChanged, map, tap } from 'rxjs'
import type { Instance as Peer } from 'simple-peer'
import { ExplorerError } from '../../errors'
import { MAX_FRAME_BYTES } from '../../wire/limits'
import type { LinkClock, LivenessLink, LivenessWatch } from '../liveness'
import type { Channel, SignalPort } from '../types'
import { DrainWatch } from './drain'
import type { FrameOutlet } from '../frame-outlet'
import { iceRestart$, type RestartContext } from './ice-restart'
import type { LivePeers } from './live-peers'
import { peerConnectionOf } from './peer-internals'
import { selectedPath, type SelectedPath } from './selected-path'
import { SendGauge } from './send-gauge'
import { StateWatch } from './state-watch'

/**
 * libwebrtc queues at most 16 MiB per data channel and (in @roamhq/wrtc)
 * silently drops what comes beyond; senders that heed highWaterMark never get near.
 */
const SEND_QUEUE_LIMIT = 16 * 1024 * 1024

/** An empty data-channel message: never a frame (a frame has a header), so the receiving channel drops it. */
export const KEEPALIVE = new Uint8Array(0)

/**
 * Why a channel closed: `local` (close()), `remote` (the far end closed, or
 * simple-peer saw the connection fail), `error` (a peer error), `ice-failed`
 * (the state watch read failed/closed), `silent` (nothing heard for
 * silenceMs: the remote is gone), `overflow` (a sender overfilled the queue).
 */
export type CloseReason = 'local' | 'remote' | 'error' | 'ice-failed' | 'silent' | 'overflow'

/** What the handshake hands a channel besides the data channel and the peer. */
export interface ChannelParts {
  outlet: FrameOutlet
  highWaterMark: number
  lowWaterMark: number
  drainPollMs: number
  live: LivePeers
  /** Null when keepalives are off. */
  liveness: LivenessWatch | null
  /** Restarts reuse the handshake's candidate filter and timing. */
  restart: Omit<RestartContext, 'up$' | 'peer'>
}

/**
 * An open WebRTC link: one simple-peer whose data channel carries frames.
 * - `send` goes straight to the RTCDataChannel (which copies the bytes); a
 *   frame over MAX_FRAME_BYTES throws BAD_FRAME, open or not; false once closed.
 *   A sender that ignores backpressure until the native queue is full loses
 *   the channel (closed, false) rather than frames.
 * - `frames$` holds frames that came before its first subscriber, then is hot;
 *   it completes when either side closes (or the link fails) and never errors.
 * - `health$`: false while ICE is not connected or the remote has been
 *   silent for a while (keepalives, src/transport/liveness.ts); the router
 *   routes around it. Silent for silenceMs, the channel closes (`silent`),
 *   unless an ICE restart is under way.
 * - Any error after open closes the channel; `close()` is idempotent and
 *   destroys the peer, so its RTCPeerConnection is freed.
 */
export class WebRtcChannel implements Channel, LivenessLink {
  private open = true
  private reason: CloseReason | null = null
  private readonly gauge: SendGauge
  private readonly drain: DrainWatch
  private readonly state: StateWatch
  private readonly iceUp = new BehaviorSubject(true)
  private readonly suspected = new BehaviorSubject(false)
  private readonly clock: LinkClock | null
  private restarting = false
  readonly health$: Observable<boolean>

  constructor(
    private readonly dc: RTCDataChannel,
    readonly remoteId: number,
    /** Which end of the handshake this one was: an ICE restart is offered by one end only (see restartIce). */
    readonly role: 'connector' | 'accepter',
    private readonly peer: Peer,
    private readonly parts: ChannelParts,
  ) {
    this.highWaterMark = parts.highWaterMark
    this.gauge = new SendGauge(dc, parts.highWaterMark)
    this.drain = new DrainWatch(dc, this.gauge, parts.lowWaterMark, parts.drainPollMs)
    this.health$ = combineLatest([this.iceUp, this.suspected]).pipe(
      map(([up, suspected]) => up && !suspected),
      distinctUntilChanged(),
    )
    // simple-peer destroys itself when the data channel or ICE closes or fails...
    peer.on('close', () => this.shutDown('remote'))
    peer.on('error', () => this.end('error'))
    // ...when it sees the failure: under @roamhq/wrtc it may not (see StateWatch).
    this.state = new StateWatch(peer, () => this.end('ice-failed'), (up) => this.iceUp.next(up))
    this.clock = parts.liveness?.add(this) ?? null
  }

  /** Senders should await drained() once bufferedAmount reaches this. */
  readonly highWaterMark: number

  get frames$(): Observable<Uint8Array> {
    return this.parts.outlet.frames$
  }

  get isOpen(): boolean {
    return this.open
  }

  get closeReason(): CloseReason | null {
    return this.reason
  }

  /** An upper bound, exact whenever above highWaterMark (see SendGauge). */
  get bufferedAmount(): number {
    return this.open ? this.gauge.amount : 0
  }

  /** From the handshake's message handler: anything arrived (a frame or a keepalive). */
  heard(): void {
    if (this.clock !== null) this.clock.heard = true
  }

  send(frame: Uint8Array): boolean {
    if (frame.byteLength > MAX_FRAME_BYTES) {
      throw new ExplorerError('BAD_FRAME', `frame of ${frame.byteLength} bytes exceeds ${MAX_FRAME_BYTES}`)
    }
    if (!this.open) return false
    // A connection that is not up delivers nothing, and may be closing natively under us (see StateWatch.up).
    if (!this.state.up) return false
    if (this.gauge.wouldExceed(frame.byteLength, SEND_QUEUE_LIMIT)) {
      // libwebrtc would silently drop this frame: a hole in an ordered stream.
      this.end('overflow')
      return false
    }
    try {
      // The DOM typing excludes SharedArrayBuffer-backed views; frames never are.
      this.dc.send(frame as Uint8Array<ArrayBuffer>)
      this.gauge.sent(frame.byteLength)
      if (this.clock !== null) this.clock.sent = true
      return true
    } catch {
      // Closing under us, or the send buffer overflowed: the link is unusable.
      this.end('error')
      return false
    }
  }

  drained(): Observable<void> {
    return this.drain.drained(() => this.open)
  }

  /**
   * Offers an ICE restart over `port` (cold; see iceRestart$): emits nothing,
   * completes once connected again, errors SIGNAL_FAILED (also when another
   * restart of this channel is under way). The remote answers with
   * acceptIceRestart. Throws CHANNEL_CLOSED when closed.
   */
  restartIce(port: SignalPort): Observable<void> {
    return this.restart('offerer', port)
  }

  /** Answers a remote's restartIce: `port.signals$` replays its offer first. */
  acceptIceRestart(port: SignalPort): Observable<void> {
    return this.restart('answerer', port)
  }

  /** The candidate pair in use (types and addresses, from getStats); null if closed or none yet. */
  async selectedPath(): Promise<SelectedPath | null> {
    const pc = peerConnectionOf(this.peer)
    return pc === null || !this.open ? null : selectedPath(pc)
  }

  close(): void {
    this.end('local')
  }

  // ---- LivenessLink ----------------------------------------------------------

  ping(): void {
    if (!this.open || !this.state.up) return
    try {
      this.dc.send(KEEPALIVE)
    } catch {
      this.end('error')
    }
  }

  suspect(suspected: boolean): void {
    this.suspected.next(suspected)
  }

  dead(): void {
    if (!this.restarting) this.end('silent')
  }

  // ---- internals -------------------------------------------------------------

  private restart(role: 'offerer' | 'answerer', port: SignalPort): Observable<void> {
    if (!this.open) throw new ExplorerError('CHANNEL_CLOSED', 'the channel is closed')
    // Connected again means the remote answered ICE checks made with its fresh credentials: it is alive, as if
    // heard (its frames may wait for SCTP's backed-off retransmission: silence must not close the channel meanwhile).
    const restart$ = iceRestart$(role, { ...this.parts.restart, peer: this.peer, up$: this.iceUp }, port).pipe(tap({ complete: () => this.heard() }))
    return new Observable<void>((subscriber) => {
      if (this.restarting) return subscriber.error(new ExplorerError('SIGNAL_FAILED', 'an ICE restart of this channel is already under way'))
      this.restarting = true
      const subscription = restart$.subscribe(subscriber)
      return () => {
        subscription.unsubscribe()
        this.restarting = false
      }
    })
  }

  private end(reason: CloseReason): void {
    if (!this.open) return
    this.shutDown(reason)
    this.parts.live.destroy(this.peer)
  }

  private shutDown(reason: CloseReason): void {
    if (!this.open) return
    this.open = false
    this.reason = reason
    this.parts.outlet.complete()
    this.drain.release()
    this.state.stop()
    if (this.clock !== null) this.parts.liveness!.remove(this.clock)
    this.iceUp.next(false)
    this.iceUp.complete()
    this.suspected.complete()
  }
}
