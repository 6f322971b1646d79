import { Observable, type SchedulerAction, type Subscriber, type Subscription } from 'rxjs'
import { ExplorerError } from '../../errors'
import { MAX_FRAME_BYTES } from '../../wire/limits'
import type { Channel } from '../types'
import { FrameOutlet } from '../frame-outlet'
import { copyBytes } from '../../wire/bytes'
import type { LinkModel } from './link'

/**
 * The other end of a channel, as this end sees it: a MemoryChannel of the same
 * network, or a stand-in for one that lives in another partition of a
 * parallel simulation (BridgedEnd, src/testnet/parallel/partition-network.ts).
 */
export interface FarEnd {
  /** False once that end is known to have closed. */
  readonly isOpen: boolean
  /** A frame this end sent (null: this end closed) reaches that end `latency` ms from now. The sender's buffer: copy it to keep it. */
  arrive(frame: Uint8Array | null, latency: number): void
  /** This end's peer crashed: that end stops hearing from it now and closes `detectionMs` later. */
  remoteCrashed(detectionMs: number): void
  /** Bytes that end sent have arrived here or were dropped here: it may count them off its bufferedAmount. */
  credit(bytes: number): void
}

/**
 * One end of an in-memory channel. The contract (what the compliance suite and
 * the simulator rely on):
 * - `send` copies the bytes: the receiver owns the buffer it gets (routers
 *   decrement TTL in place) and the sender may reuse its own.
 * - A frame arrives at max(now + latency, previous arrival on this direction):
 *   order is kept even when latency varies. The loss model drops frames at send.
 * - `send` returns false once this end is closed; a frame over MAX_FRAME_BYTES
 *   throws BAD_FRAME (misuse), open or not.
 * - `frames$` hands frames that arrived before its first subscriber to that
 *   subscriber, then is hot; it completes when the channel closes and never errors.
 * - `close()` is idempotent: this end closes at once (frames still inbound are
 *   dropped); the remote end receives the frames already in flight, then
 *   closes, one latency later.
 * - `bufferedAmount` is the bytes this end sent that have not arrived yet;
 *   `drained()` emits and completes once it is ≤ the network's low-water mark
 *   (at once if it already is, or if the channel is closed).
 *
 * Each direction is a queue with at most one pending scheduler action, so a
 * burst of frames costs one timer, not one per frame.
 */
export class MemoryChannel implements Channel, FarEnd {
  /** Set right after construction: the two ends are made as a pair. */
  remote!: FarEnd
  bufferedAmount = 0
  private open = true
  private readonly outlet = new FrameOutlet()
  // Inbound queue: frames the remote sent, with arrival times; null marks "remote closed".
  private queue: Array<Uint8Array | null> | null = null
  private arrivals: number[] | null = null
  private head = 0
  private lastArrival = -Infinity
  /** The pending delivery (to cancel it), or null when this direction is idle. */
  private delivery: Subscription | null = null
  /** The delivery action, kept after it first ran and re-armed: no allocation per burst. */
  private action: SchedulerAction<MemoryChannel> | null = null
  private drainWaiters: Subscriber<void>[] | null = null

  constructor(
    private readonly link: LinkModel,
    readonly localId: number,
    readonly remoteId: number,
  ) {}

  get frames$(): Observable<Uint8Array> {
    return this.outlet.frames$
  }

  get isOpen(): boolean {
    return this.open
  }

  send(frame: Uint8Array): boolean {
    if (frame.byteLength > MAX_FRAME_BYTES) {
      throw new ExplorerError('BAD_FRAME', `frame of ${frame.byteLength} bytes exceeds ${MAX_FRAME_BYTES}`)
    }
    if (!this.open) return false
    const link = this.link
    const stats = link.stats
    stats.framesSent++
    stats.bytesSent += frame.byteLength
    if (link.lost()) {
      stats.framesLost++
      return true
    }
    if (!this.remote.isOpen) {
      // The remote closed or crashed and this end has not heard yet.
      stats.framesDropped++
      return true
    }
    this.bufferedAmount += frame.byteLength
    this.remote.arrive(frame, link.latency())
    return true
  }

  drained(): Observable<void> {
    return new Observable<void>((subscriber) => {
      if (!this.open || this.bufferedAmount <= this.link.lowWaterMark) {
        subscriber.next()
        subscriber.complete()
        return
      }
      const waiters = (this.drainWaiters ??= [])
      waiters.push(subscriber)
      return () => {
        const i = waiters.indexOf(subscriber)
        if (i >= 0) waiters.splice(i, 1)
      }
    })
  }

  close(): void {
    if (!this.open) return
    this.shutDown()
    if (this.remote.isOpen) this.remote.arrive(null, this.link.latency())
  }

  /**
   * The peer behind the remote end vanished: frames from it stop now, and this
   * end closes after `detectionMs` (how long WebRTC takes to notice).
   */
  remoteCrashed(detectionMs: number): void {
    if (!this.open) return
    this.dropInbound()
    this.arriveAt(null, this.link.scheduler.now() + detectionMs)
  }

  /** This end's own peer vanished: it closes at once, silently for the remote. */
  crash(): void {
    if (this.open) this.shutDown()
  }

  arrive(frame: Uint8Array | null, latency: number): void {
    const now = this.link.scheduler.now()
    this.arriveAt(frame === null ? null : copyBytes(frame), Math.max(now + latency, this.lastArrival))
  }

  /** A frame (null: the remote closed) arrives at virtual time `at` (never before one already queued). */
  arriveAt(frame: Uint8Array | null, at: number): void {
    ;(this.queue ??= []).push(frame)
    ;(this.arrivals ??= []).push(at)
    this.lastArrival = at
    if (this.delivery === null) {
      const delay = at - this.link.scheduler.now()
      this.delivery =
        this.action !== null ? this.action.schedule(this, delay) : this.link.scheduler.schedule(deliverDue, delay, this)
    }
  }

  /**
   * Runs as the direction's single pending action: delivers every frame due by
   * now (at least the head one: real timers may fire a hair early), then
   * re-arms for the next arrival.
   */
  runDelivery(action: SchedulerAction<MemoryChannel>): void {
    this.action = action
    const queue = this.queue!
    const arrivals = this.arrivals!
    const now = this.link.scheduler.now()
    let first = true
    while (this.open && this.head < queue.length && (first || arrivals[this.head] <= now)) {
      first = false
      const frame = queue[this.head]
      queue[this.head] = null
      this.head++
      if (frame === null) {
        this.shutDown()
        return
      }
      this.remote.credit(frame.byteLength)
      this.link.stats.framesDelivered++
      this.outlet.push(frame)
    }
    if (!this.open) return
    if (this.head < queue.length) {
      this.delivery = action.schedule(this, Math.max(0, arrivals[this.head] - now))
    } else {
      this.delivery = null
      queue.length = 0
      arrivals.length = 0
      this.head = 0
    }
  }

  credit(bytes: number): void {
    this.bufferedAmount -= bytes
    const waiters = this.drainWaiters
    if (waiters === null || waiters.length === 0 || this.bufferedAmount > this.link.lowWaterMark) return
    this.drainWaiters = null
    for (const w of waiters) {
      w.next()
      w.complete()
    }
  }

  /** Closes this end locally: drop inbound frames, stop timers, complete frames$. */
  private shutDown(): void {
    this.open = false
    this.dropInbound()
    this.link.endClosed(this.localId, this)
    this.outlet.complete()
    // A closed channel has nothing left to wait for.
    const waiters = this.drainWaiters
    this.drainWaiters = null
    if (waiters !== null) for (const w of waiters) (w.next(), w.complete())
  }

  /** Discards undelivered inbound frames, crediting the sender's bufferedAmount. */
  private dropInbound(): void {
    if (this.delivery !== null) {
      this.delivery.unsubscribe()
      this.delivery = null
      this.action = null
    }
    const queue = this.queue
    if (queue !== null) {
      let dropped = 0
      for (let i = this.head; i < queue.length; i++) {
        const frame = queue[i]
        if (frame !== null) {
          dropped += frame.byteLength
          this.link.stats.framesDropped++
        }
      }
      if (dropped > 0) this.remote.credit(dropped)
    }
    this.resetQueue()
    this.lastArrival = -Infinity
  }

  private resetQueue(): void {
    this.queue = null
    this.arrivals = null
    this.head = 0
  }
}

function deliverDue(this: SchedulerAction<MemoryChannel>, end?: MemoryChannel): void {
  end!.runDelivery(this)
}
