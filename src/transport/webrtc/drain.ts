import { interval, Observable, type Subscriber, type Subscription } from 'rxjs'
import type { SendGauge } from './send-gauge'

/**
 * Waiters for a data channel's bufferedAmount to fall to the low-water mark.
 * Browsers fire 'bufferedamountlow'; @roamhq/wrtc has neither the event nor
 * bufferedAmountLowThreshold, so there one shared RxJS interval polls while
 * anyone waits (see drainPollMs for why a few ms is enough).
 */
export class DrainWatch {
  private waiters: Subscriber<void>[] = []
  private poll: Subscription | null = null
  private readonly hasEvent: boolean

  constructor(
    dc: RTCDataChannel,
    private readonly gauge: SendGauge,
    private readonly lowWaterMark: number,
    private readonly pollMs: number,
  ) {
    this.hasEvent = typeof dc.bufferedAmountLowThreshold === 'number'
    if (this.hasEvent) {
      dc.bufferedAmountLowThreshold = lowWaterMark
      dc.addEventListener('bufferedamountlow', () => this.check())
    }
  }

  /** Emits and completes once bufferedAmount ≤ lowWaterMark, or when released. */
  drained(isOpen: () => boolean): Observable<void> {
    return new Observable<void>((subscriber) => {
      // The gauge may overestimate; an exact read decides, or a browser could
      // wait for a 'bufferedamountlow' transition that already happened.
      if (!isOpen() || this.gauge.amount <= this.lowWaterMark || this.gauge.read() <= this.lowWaterMark) {
        subscriber.next()
        subscriber.complete()
        return
      }
      this.waiters.push(subscriber)
      if (!this.hasEvent && this.poll === null) {
        this.poll = interval(this.pollMs).subscribe(() => this.check())
      }
      return () => {
        const i = this.waiters.indexOf(subscriber)
        if (i >= 0) this.waiters.splice(i, 1)
        if (this.waiters.length === 0) this.stopPolling()
      }
    })
  }

  /** The channel closed: nothing is left to wait for. */
  release(): void {
    this.stopPolling()
    this.fire()
  }

  private check(): void {
    if (this.waiters.length > 0 && this.gauge.read() <= this.lowWaterMark) this.fire()
  }

  private fire(): void {
    const waiters = this.waiters
    this.waiters = []
    this.stopPolling()
    for (const w of waiters) {
      w.next()
      w.complete()
    }
  }

  private stopPolling(): void {
    this.poll?.unsubscribe()
    this.poll = null
  }
}
