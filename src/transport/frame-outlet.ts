import { Observable, type Subscriber } from 'rxjs'

/**
 * The receiving side of a channel's `frames$`, shared by every transport:
 * keeps frames that arrive before the first subscriber (a router subscribes a
 * little after the channel opened; over WebRTC they can even beat 'connect')
 * and hands them to it, then is hot. Completes once; never errors. Frames go
 * straight to Subscribers, and the early buffer is only allocated when used:
 * a simulation holds hundreds of thousands of these.
 */
export class FrameOutlet {
  private subscribers: Subscriber<Uint8Array>[] = []
  /** Frames waiting for the first subscriber. */
  private early: Uint8Array[] | null = null
  private subscribed = false
  private done = false
  private observable: Observable<Uint8Array> | null = null

  get frames$(): Observable<Uint8Array> {
    return (this.observable ??= new Observable<Uint8Array>((subscriber) => this.add(subscriber)))
  }

  push(frame: Uint8Array): void {
    if (this.done) return
    if (!this.subscribed) {
      ;(this.early ??= []).push(frame)
      return
    }
    const subs = this.subscribers
    if (subs.length === 1) subs[0].next(frame)
    else for (const s of subs.slice()) s.next(frame)
  }

  complete(): void {
    if (this.done) return
    this.done = true
    // Before any subscriber, the first one gets the frames, then completion.
    if (!this.subscribed) return
    for (const s of this.subscribers.splice(0)) s.complete()
  }

  private add(subscriber: Subscriber<Uint8Array>): (() => void) | void {
    if (!this.subscribed) {
      // Frames pushed while flushing (re-entrantly) append to `early` and keep their order.
      for (let i = 0; this.early !== null && i < this.early.length && !subscriber.closed; i++) subscriber.next(this.early[i])
      this.subscribed = true
      this.early = null
    }
    if (this.done) {
      subscriber.complete()
      return
    }
    this.subscribers.push(subscriber)
    return () => {
      const i = this.subscribers.indexOf(subscriber)
      if (i >= 0) this.subscribers.splice(i, 1)
    }
  }
}
