import { Observable, type Subscriber } from 'rxjs'

/**
 * The receiving side of a channel's frames$: keeps frames that arrive before
 * the first subscriber (they can arrive before 'connect' fires, and a router
 * subscribes a little after open) and hands them to it, then is hot.
 * Completes once; never errors.
 */
export class FrameOutlet {
  private readonly subscribers: Subscriber<Uint8Array>[] = []
  /** Frames waiting for the first subscriber; null once someone subscribed. */
  private early: Uint8Array[] | null = []
  private done = false
  readonly frames$ = new Observable<Uint8Array>((subscriber) => this.add(subscriber))

  push(frame: Uint8Array): void {
    if (this.done) return
    if (this.early !== null) {
      this.early.push(frame)
      return
    }
    const subs = this.subscribers
    if (subs.length === 1) subs[0].next(frame)
    else for (const s of subs.slice()) s.next(frame)
  }

  complete(): void {
    if (this.done) return
    this.done = true
    if (this.early !== null) return // the first subscriber gets the frames, then completion
    for (const s of this.subscribers.splice(0)) s.complete()
  }

  private add(subscriber: Subscriber<Uint8Array>): (() => void) | void {
    const early = this.early
    if (early !== null) {
      // Frames pushed while flushing (re-entrantly) append to `early` and keep their order.
      for (let i = 0; i < early.length && !subscriber.closed; i++) subscriber.next(early[i])
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
