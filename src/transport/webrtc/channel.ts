import type { Observable } from 'rxjs'
import type { Instance as Peer } from 'simple-peer'
import { ExplorerError } from '../../errors'
import { MAX_FRAME_BYTES } from '../../wire/limits'
import type { Channel } from '../types'
import { DrainWatch } from './drain'
import type { FrameOutlet } from '../frame-outlet'
import type { LivePeers } from './live-peers'
import { SendGauge } from './send-gauge'
import { StateWatch } from './state-watch'

/**
 * libwebrtc queues at most 16 MiB per data channel and (in @roamhq/wrtc)
 * silently drops what comes beyond; senders that heed highWaterMark never get near.
 */
const SEND_QUEUE_LIMIT = 16 * 1024 * 1024

/**
 * An open WebRTC link: one simple-peer whose data channel carries frames.
 * - `send` goes straight to the RTCDataChannel (which copies the bytes); a
 *   frame over MAX_FRAME_BYTES throws BAD_FRAME, open or not; false once closed.
 *   A sender that ignores backpressure until the native queue is full loses
 *   the channel (closed, false) rather than frames.
 * - `frames$` holds frames that came before its first subscriber, then is hot;
 *   it completes when either side closes (or the link fails) and never errors.
 * - Any error after open closes the channel; `close()` is idempotent and
 *   destroys the peer, so its RTCPeerConnection is freed.
 */
export class WebRtcChannel implements Channel {
  private open = true
  private readonly gauge: SendGauge
  private readonly drain: DrainWatch
  private readonly state: StateWatch

  constructor(
    private readonly dc: RTCDataChannel,
    readonly remoteId: number,
    private readonly outlet: FrameOutlet,
    /** Senders should await drained() once bufferedAmount reaches this. */
    readonly highWaterMark: number,
    lowWaterMark: number,
    drainPollMs: number,
    private readonly peer: Peer,
    private readonly live: LivePeers,
  ) {
    this.gauge = new SendGauge(dc, highWaterMark)
    this.drain = new DrainWatch(dc, this.gauge, lowWaterMark, drainPollMs)
    // simple-peer destroys itself when the data channel or ICE closes or fails...
    peer.on('close', () => this.shutDown())
    peer.on('error', () => this.close())
    // ...when it sees the failure: under @roamhq/wrtc it may not (see StateWatch).
    this.state = new StateWatch(peer, () => this.close())
  }

  get frames$(): Observable<Uint8Array> {
    return this.outlet.frames$
  }

  get isOpen(): boolean {
    return this.open
  }

  /** An upper bound, exact whenever above highWaterMark (see SendGauge). */
  get bufferedAmount(): number {
    return this.open ? this.gauge.amount : 0
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
      this.close()
      return false
    }
    try {
      // The DOM typing excludes SharedArrayBuffer-backed views; frames never are.
      this.dc.send(frame as Uint8Array<ArrayBuffer>)
      this.gauge.sent(frame.byteLength)
      return true
    } catch {
      // Closing under us, or the send buffer overflowed: the link is unusable.
      this.close()
      return false
    }
  }

  drained(): Observable<void> {
    return this.drain.drained(() => this.open)
  }

  close(): void {
    if (!this.open) return
    this.shutDown()
    this.live.destroy(this.peer)
  }

  private shutDown(): void {
    if (!this.open) return
    this.open = false
    this.outlet.complete()
    this.drain.release()
    this.state.stop()
  }
}
