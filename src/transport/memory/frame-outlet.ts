import { Observable, type Subscriber } from 'rxjs'

/**
 * The receiving side of a channel's `frames$`: holds frames that arrive before
 * anyone subscribed and hands them to the first subscriber (a router may
 * subscribe a little after the channel opened), then is hot. Completes once;
 * never errors. Frames go straight to Subscribers: no per-frame allocation.
 */
export class FrameOutlet {
  private subscribers: Subscriber<Uint8Array>[] = []
  /** Frames waiting for the first subscriber; null once someone subscribed. */
  private early: Uint8Array[] | null = null
  private everSubscribed = false
  private done = false
  private observable: Observable<Uint8Array> | null = null

  get frames$(): Observable<Uint8Array> {
    return (this.observable ??= new Observable<Uint8Array>((subscriber) => this.add(subscriber)))
  }

  push(frame: Uint8Array): void {
    if (this.done) return
    if (!this.everSubscribed) {
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
    const subs = this.subscribers
    this.subscribers = []
    for (const s of subs) s.complete()
  }

  private add(subscriber: Subscriber<Uint8Array>): (() => void) | void {
    if (!this.everSubscribed) {
      this.everSubscribed = true
      const early = this.early
      this.early = null
      if (early !== null) for (const frame of early) subscriber.next(frame)
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
