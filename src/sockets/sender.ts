import type { SchedulerLike, Subscription } from 'rxjs'
import { FrameFlag, FrameType } from '../wire/frame'
import type { ResolvedSocketOptions } from './options'
import { MAX_CHUNK_BYTES, nextSeq, seqDelta } from './wire'

export interface SenderHooks {
  /**
   * Encodes one frame of this socket, once: sealed (the only copy of the
   * message bytes, resent as is), or as given (the handshake's last message).
   */
  encode(type: FrameType, flags: number, seq: number, payload: Uint8Array, seal: boolean): Uint8Array
  /** Puts an encoded frame on its way (again, for a retransmission). */
  emit(frame: Uint8Array): void
  /** True when a local channel is too full to send now; `resume` is called once it drained. */
  congested(resume: () => void): boolean
  /** Timeouts in a row without any answer: the remote is gone. */
  gaveUp(): void
  /** Our Close was acknowledged: everything we sent was received. */
  finished(): void
}

/** What a sender did so far: diagnostics (retransmissions show a path that lost frames). */
export interface SenderStats {
  /** Frames sent for the first time (window probes included). */
  sent: number
  /** Frames sent again after a retransmission timeout (go-back-N: everything unacknowledged). */
  retransmitted: number
  /** Retransmission (or window-probe) timeouts, in all. */
  timeouts: number
  /** The most timeouts in a row without an acknowledgement: how close the socket came to giving up. */
  maxTimeoutsInARow: number
  /** The retransmission timeout now, and the smoothed round trip (null before the first sample). */
  rtoMs: number
  srttMs: number | null
}

interface InFlight {
  frame: Uint8Array
  seq: number
  sentAt: number
  resent: boolean
}

/**
 * The sending half of a socket. A message is cut into frames of at most
 * MAX_CHUNK_BYTES and encoded (sealed) at once (the caller may reuse its buffer);
 * at most the remote's advertised window is in flight; what is not
 * acknowledged is sent again (go-back-N, on a timeout that follows the
 * measured round trip, RFC 6298). A window of zero is probed on the same
 * timer, so a slow reader never makes us give up on a live remote.
 */
export class Sender {
  private readonly queue: InFlight[] = []
  private head = 0
  private queuedBytes = 0
  private seq = 0
  private readonly inflight: InFlight[] = []
  private inflightHead = 0
  private inflightBytes = 0
  private lastAck = 0
  private ended = false
  private stopped = false
  private waitingForDrain = false
  private rto: number
  private srtt = -1
  private rttvar = 0
  private timeouts = 0
  private readonly counts = { sent: 0, retransmitted: 0, timeouts: 0, maxTimeoutsInARow: 0 }
  private timer: Subscription | null = null
  private deadline = 0
  private readonly resume = () => {
    this.waitingForDrain = false
    this.pump()
  }

  constructor(
    private readonly hooks: SenderHooks,
    private readonly scheduler: SchedulerLike,
    private readonly options: ResolvedSocketOptions,
    /** The remote's receive window, from its Open or Accept. */
    private window: number,
  ) {
    this.rto = options.initialRtoMs
  }

  /** Frame bytes queued and not yet sent. */
  get bufferedAmount(): number {
    return this.queuedBytes
  }

  /** The retransmission / probe timer is armed. */
  get timerArmed(): boolean {
    return this.timer !== null
  }

  get stats(): SenderStats {
    return { ...this.counts, rtoMs: this.rto, srttMs: this.srtt < 0 ? null : this.srtt }
  }

  /** The dialler's Noise message 3: the stream's first frame, reliable like any other. */
  writeHandshake(message: Uint8Array): void {
    this.enqueue(FrameType.Data, 0, message, false)
    this.pump()
  }

  write(message: Uint8Array): void {
    if (this.ended || this.stopped) return
    let offset = 0
    do {
      const end = Math.min(offset + MAX_CHUNK_BYTES, message.byteLength)
      this.enqueue(FrameType.Data, end < message.byteLength ? FrameFlag.More : 0, message.subarray(offset, end))
      offset = end
    } while (offset < message.byteLength)
    this.pump()
  }

  /** Sends Close after everything queued; `finished` follows its acknowledgement. */
  end(): void {
    if (this.ended || this.stopped) return
    this.ended = true
    this.enqueue(FrameType.Close, 0, EMPTY)
    this.pump()
  }

  /** A cumulative acknowledgement: every seq before `ack` arrived; `window` bytes more may be sent beyond it. */
  onAck(ack: number, window: number): void {
    if (this.stopped || seqDelta(ack, this.lastAck) < 0) return
    this.lastAck = ack
    this.timeouts = 0
    this.window = window
    let progressed = false
    let sample = -1
    let endAcked = false
    while (this.inflightHead < this.inflight.length) {
      const f = this.inflight[this.inflightHead]
      if (seqDelta(ack, f.seq) <= 0) break
      this.inflightHead++
      this.inflightBytes -= f.frame.byteLength
      progressed = true
      if (!f.resent) sample = this.scheduler.now() - f.sentAt
      if (f.frame[1] === FrameType.Close) endAcked = true
    }
    compact(this.inflight, this.inflightHead, (head) => (this.inflightHead = head))
    if (endAcked) {
      this.stop()
      this.hooks.finished()
      return
    }
    if (progressed) {
      if (sample >= 0) this.measured(sample)
      this.deadline = this.scheduler.now() + this.rto
    }
    this.pump()
  }

  stop(): void {
    this.stopped = true
    this.timer?.unsubscribe()
    this.timer = null
    this.queue.length = 0
    this.inflight.length = 0
    this.queuedBytes = 0
  }

  private enqueue(type: FrameType, flags: number, payload: Uint8Array, seal = true): void {
    const frame = this.hooks.encode(type, flags, this.seq, payload, seal)
    this.queue.push({ frame, seq: this.seq, sentAt: 0, resent: false })
    this.seq = nextSeq(this.seq)
    this.queuedBytes += frame.byteLength
  }

  private pump(): void {
    if (this.stopped || this.waitingForDrain) return
    if (this.head < this.queue.length) {
      if (this.hooks.congested(this.resume)) {
        this.waitingForDrain = true
        return
      }
      while (this.head < this.queue.length && this.inflightBytes + this.queue[this.head].frame.byteLength <= this.window) this.sendNext()
    }
    this.arm()
  }

  private sendNext(): void {
    const f = this.queue[this.head++]
    compact(this.queue, this.head, (head) => (this.head = head))
    this.queuedBytes -= f.frame.byteLength
    f.sentAt = this.scheduler.now()
    if (this.inflightHead === this.inflight.length) this.deadline = f.sentAt + this.rto
    this.inflight.push(f)
    this.inflightBytes += f.frame.byteLength
    this.counts.sent++
    this.hooks.emit(f.frame)
  }

  /** One timer covers retransmission (frames in flight) and window probes (nothing in flight, frames waiting). */
  private arm(): void {
    const busy = this.inflightHead < this.inflight.length || this.head < this.queue.length
    if (!busy) {
      this.timer?.unsubscribe()
      this.timer = null
      return
    }
    if (this.timer !== null) return
    if (this.inflightHead === this.inflight.length) this.deadline = this.scheduler.now() + this.rto
    this.timer = this.scheduler.schedule(() => this.onTimer(), Math.max(0, this.deadline - this.scheduler.now()))
  }

  private onTimer(): void {
    this.timer = null
    if (this.stopped) return
    const now = this.scheduler.now()
    // Acks moved the deadline on since this timer was set: wait the rest.
    if (now < this.deadline) return this.arm()
    this.counts.timeouts++
    this.counts.maxTimeoutsInARow = Math.max(this.counts.maxTimeoutsInARow, this.timeouts + 1)
    if (++this.timeouts > this.options.maxRetransmits) {
      this.stop()
      this.hooks.gaveUp()
      return
    }
    this.rto = Math.min(this.rto * 2, this.options.maxRtoMs)
    this.deadline = now + this.rto
    if (this.inflightHead === this.inflight.length) {
      // Zero window: probe with the next frame; the receiver answers with its window.
      if (this.head < this.queue.length) this.sendNext()
    } else {
      for (let i = this.inflightHead; i < this.inflight.length; i++) {
        const f = this.inflight[i]
        f.resent = true
        f.sentAt = now
        this.counts.retransmitted++
        this.hooks.emit(f.frame)
      }
    }
    this.arm()
  }

  private measured(rtt: number): void {
    if (this.srtt < 0) {
      this.srtt = rtt
      this.rttvar = rtt / 2
    } else {
      this.rttvar = 0.75 * this.rttvar + 0.25 * Math.abs(this.srtt - rtt)
      this.srtt = 0.875 * this.srtt + 0.125 * rtt
    }
    const { minRtoMs, maxRtoMs } = this.options
    this.rto = Math.min(maxRtoMs, Math.max(minRtoMs, this.srtt + 4 * this.rttvar))
  }
}

/** Drops the consumed head of a queue array once it is all consumed or large: no shift() per element. */
function compact<T>(list: T[], head: number, setHead: (head: number) => void): void {
  if (head === list.length) {
    list.length = 0
    setHead(0)
  } else if (head > 1024) {
    list.splice(0, head)
    setHead(0)
  }
}

const EMPTY = new Uint8Array(0)
