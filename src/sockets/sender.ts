import type { SchedulerLike, Subscription } from 'rxjs'
import { FrameFlag, FrameType, HEADER_BYTES, MAX_PAYLOAD_BYTES } from '../wire/frame'
import type { ResolvedSocketOptions } from './options'
import { nextSeq, seqDelta } from './wire'

export interface SenderHooks {
  /** Puts one frame of this socket on its way. */
  emit(type: FrameType, flags: number, seq: number, payload: Uint8Array): void
  /** True when a local channel is too full to send now; `resume` is called once it drained. */
  congested(resume: () => void): boolean
  /** Timeouts in a row without any answer: the remote is gone. */
  gaveUp(): void
  /** Our Close was acknowledged: everything we sent was received. */
  finished(): void
}

interface InFlight {
  seq: number
  type: FrameType
  flags: number
  payload: Uint8Array
  bytes: number
  sentAt: number
  resent: boolean
}

/**
 * The sending half of a socket: fragments messages into frames of at most
 * MAX_PAYLOAD_BYTES, keeps at most the remote's advertised window in flight,
 * and retransmits what was not acknowledged (go-back-N on a timeout that
 * follows the measured round trip, RFC 6298). A window of zero is probed on
 * the same timer, so a slow reader never makes us give up on a live remote.
 */
export class Sender {
  private readonly messages: (Uint8Array | undefined)[] = []
  private head = 0
  private offset = 0
  private queued = 0
  private seq = 0
  private readonly inflight: InFlight[] = []
  private inflightHead = 0
  private inflightBytes = 0
  private lastAck = 0
  private ending = false
  private endSent = false
  private stopped = false
  private waitingForDrain = false
  private rto: number
  private srtt = -1
  private rttvar = 0
  private timeouts = 0
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

  /** Message bytes queued and not yet sent. */
  get bufferedAmount(): number {
    return this.queued
  }

  write(message: Uint8Array): void {
    if (this.ending || this.stopped) return
    this.messages.push(message)
    this.queued += message.byteLength
    this.pump()
  }

  /** Sends Close after everything queued; `finished` follows its acknowledgement. */
  end(): void {
    if (this.ending || this.stopped) return
    this.ending = true
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
      this.inflightBytes -= f.bytes
      progressed = true
      if (!f.resent) sample = this.scheduler.now() - f.sentAt
      if (f.type === FrameType.Close) endAcked = true
    }
    if (this.inflightHead === this.inflight.length) {
      this.inflight.length = 0
      this.inflightHead = 0
    } else if (this.inflightHead > 1024) {
      this.inflight.splice(0, this.inflightHead)
      this.inflightHead = 0
    }
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
    this.messages.length = 0
    this.inflight.length = 0
    this.queued = 0
  }

  private pump(): void {
    if (this.stopped || this.waitingForDrain) return
    if (this.hasPending()) {
      if (this.hooks.congested(this.resume)) {
        this.waitingForDrain = true
        return
      }
      while (this.hasPending() && this.inflightBytes + this.nextFrameBytes() <= this.window) this.sendNext()
    }
    this.arm()
  }

  private hasPending(): boolean {
    return this.head < this.messages.length || (this.ending && !this.endSent)
  }

  private nextFrameBytes(): number {
    const message = this.messages[this.head]
    return HEADER_BYTES + (message === undefined ? 0 : Math.min(MAX_PAYLOAD_BYTES, message.byteLength - this.offset))
  }

  private sendNext(): void {
    const message = this.messages[this.head]
    let type = FrameType.Data
    let flags = 0
    let payload: Uint8Array
    if (message === undefined) {
      type = FrameType.Close
      payload = EMPTY
      this.endSent = true
    } else {
      const end = Math.min(this.offset + MAX_PAYLOAD_BYTES, message.byteLength)
      payload = message.subarray(this.offset, end)
      this.queued -= end - this.offset
      if (end < message.byteLength) {
        flags = FrameFlag.More
        this.offset = end
      } else {
        this.messages[this.head++] = undefined
        this.offset = 0
        if (this.head === this.messages.length) {
          this.messages.length = 0
          this.head = 0
        } else if (this.head > 1024) {
          this.messages.splice(0, this.head)
          this.head = 0
        }
      }
    }
    const f: InFlight = { seq: this.seq, type, flags, payload, bytes: HEADER_BYTES + payload.byteLength, sentAt: this.scheduler.now(), resent: false }
    this.seq = nextSeq(this.seq)
    if (this.inflightHead === this.inflight.length) this.deadline = f.sentAt + this.rto
    this.inflight.push(f)
    this.inflightBytes += f.bytes
    this.hooks.emit(type, flags, f.seq, payload)
  }

  /** One timer covers retransmission (frames in flight) and window probes (nothing in flight, data waiting). */
  private arm(): void {
    const busy = this.inflightHead < this.inflight.length || this.hasPending()
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
    if (++this.timeouts > this.options.maxRetransmits) {
      this.stop()
      this.hooks.gaveUp()
      return
    }
    this.rto = Math.min(this.rto * 2, this.options.maxRtoMs)
    this.deadline = now + this.rto
    if (this.inflightHead === this.inflight.length) {
      // Zero window: probe with the next frame; the receiver answers with its window.
      if (this.hasPending()) this.sendNext()
    } else {
      for (let i = this.inflightHead; i < this.inflight.length; i++) {
        const f = this.inflight[i]
        f.resent = true
        f.sentAt = now
        this.hooks.emit(f.type, f.flags, f.seq, f.payload)
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

const EMPTY = new Uint8Array(0)
