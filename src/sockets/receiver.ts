import type { SchedulerLike, Subscription } from 'rxjs'
import { MAX_FRAME_BYTES } from '../wire/limits'
import { FrameFlag, FrameType, HEADER_BYTES } from '../wire/frame'
import type { ResolvedSocketOptions } from './options'
import { nextSeq, seqDelta, windowInFrameBytes } from './wire'

export interface ReceiverHooks {
  /** Acknowledge every seq before `ack`; `window` more bytes may come beyond it. */
  ack(ack: number, window: number): void
  /** A whole message, with the frame bytes it took (the window it occupies while unread). */
  message(message: Uint8Array, frameBytes: number): void
  /** The remote's Close, after every message before it. */
  end(): void
  /** A message grew past maxMessageBytes. */
  tooBig(): void
  /** Bytes of delivered messages nobody has read yet: they shrink the window. */
  unread(): number
}

interface Early {
  type: FrameType
  flags: number
  payload: Uint8Array
  bytes: number
}

/**
 * The receiving half of a socket: puts frames back in seq order (routes can
 * change mid-stream, so a later frame may overtake an earlier one), drops
 * duplicates, reassembles fragments, and acknowledges cumulatively — every
 * quarter window, or after ackDelayMs, or at once for a duplicate (the
 * sender is retransmitting, or probing a closed window).
 *
 * Everything it holds counts against one window (in frame bytes): messages
 * not read yet, the fragments of the message being reassembled, and frames
 * that arrived early. A frame that would take it more than one frame past
 * the window is not taken (the sender retransmits it once the ack says so).
 */
export class Receiver {
  /** The window in frame bytes: what Open, Accept and Acks advertise. */
  readonly capacity: number
  private expected: number
  /** The 64-bit position behind `expected` (the u32 seq wraps; a frame's nonce does not). */
  private counter: number
  private readonly early = new Map<number, Early>()
  private earlyBytes = 0
  private parts: Uint8Array[] = []
  private partBytes = 0
  private partFrameBytes = 0
  private unacked = 0
  private ackTimer: Subscription | null = null
  private done = false
  private readonly ackNow = () => this.sendAck()

  constructor(
    private readonly hooks: ReceiverHooks,
    private readonly scheduler: SchedulerLike,
    private readonly options: ResolvedSocketOptions,
    /** The first seq of the stream (an accepter's stream starts after the dialler's handshake frame). */
    first = 0,
  ) {
    this.capacity = windowInFrameBytes(options.windowBytes)
    this.expected = this.counter = first
  }

  /** A delayed ack is pending. */
  get timerArmed(): boolean {
    return this.ackTimer !== null
  }

  /** The 64-bit position of the next frame expected: what a frame's seq is read against. */
  get expectedCounter(): number {
    return this.counter
  }

  /** Frame bytes held here: unread messages, the unfinished message, early frames. */
  get held(): number {
    return this.hooks.unread() + this.partFrameBytes + this.earlyBytes
  }

  /** `bytes`: what the frame took on the wire (its header and tag included). */
  receive(type: FrameType, flags: number, seq: number, payload: Uint8Array, bytes = HEADER_BYTES + payload.byteLength): void {
    if (this.done) return this.sendAck()
    const ahead = seqDelta(seq, this.expected)
    if (ahead < 0) return this.sendAck()
    // One frame of slack over the window: a probe or a retransmission race is not a violation.
    const fits = this.held + bytes <= this.capacity + MAX_FRAME_BYTES
    if (ahead > 0) {
      if (!this.early.has(seq) && fits) {
        this.early.set(seq, { type, flags, payload, bytes })
        this.earlyBytes += bytes
      }
      return
    }
    // A full window (nobody reads, or a message as big as the window): refuse the frame; the ack tells the sender to wait.
    if (!fits) return this.sendAck()
    this.consume(type, flags, payload, bytes)
    let next: Early | undefined
    while (!this.done && (next = this.early.get(this.expected)) !== undefined) {
      this.early.delete(this.expected)
      this.earlyBytes -= next.bytes
      this.consume(next.type, next.flags, next.payload, next.bytes)
    }
    if (this.done) return
    if (this.unacked >= this.capacity / 4) this.sendAck()
    else this.ackTimer ??= this.scheduler.schedule(this.ackNow, this.options.ackDelayMs)
  }

  /** The window reopened (held messages were read), or the handshake finished: say so now. */
  windowOpened(): void {
    if (!this.done) this.sendAck()
  }

  stop(): void {
    this.done = true
    this.ackTimer?.unsubscribe()
    this.ackTimer = null
    this.early.clear()
    this.earlyBytes = 0
    this.parts = []
    this.partFrameBytes = 0
  }

  private consume(type: FrameType, flags: number, payload: Uint8Array, bytes: number): void {
    this.expected = nextSeq(this.expected)
    this.counter++
    this.unacked += bytes
    if (type === FrameType.Close) {
      this.sendAck()
      this.stop()
      this.hooks.end()
      return
    }
    if (this.partBytes + payload.byteLength > this.options.maxMessageBytes) {
      this.stop()
      this.hooks.tooBig()
      return
    }
    if (flags & FrameFlag.More) {
      this.parts.push(payload)
      this.partBytes += payload.byteLength
      this.partFrameBytes += bytes
      return
    }
    // One frame: its payload as is, a view into the frame's own buffer (no copy).
    const message = this.parts.length === 0 ? payload : concat(this.parts, payload, this.partBytes)
    const frameBytes = this.partFrameBytes + bytes
    this.parts = []
    this.partBytes = 0
    this.partFrameBytes = 0
    this.hooks.message(message, frameBytes)
  }

  private sendAck(): void {
    this.ackTimer?.unsubscribe()
    this.ackTimer = null
    this.unacked = 0
    // Early frames are beyond the ack: the sender counts them in flight already.
    this.hooks.ack(this.expected, Math.max(0, this.capacity - this.hooks.unread() - this.partFrameBytes))
  }
}

function concat(parts: Uint8Array[], last: Uint8Array, partBytes: number): Uint8Array {
  const message = new Uint8Array(partBytes + last.byteLength)
  let at = 0
  for (const part of parts) {
    message.set(part, at)
    at += part.byteLength
  }
  message.set(last, at)
  return message
}
