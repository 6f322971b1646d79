import { BehaviorSubject, Observable, Subject, of } from 'rxjs'
import type { Channel } from '../../src/transport/types'
import { Frame, decodeFrame } from '../../src/wire/frame'

/**
 * A channel driven by hand: frames pushed into `inbound` arrive as if the
 * remote sent them; what this end sends is kept (a copy) in `sent`, and
 * handed to `peer`'s inbound side at once when `peer` is set.
 */
export class FakeChannel implements Channel {
  readonly inbound = new Subject<Uint8Array>()
  readonly sent: Uint8Array[] = []
  readonly frames$: Observable<Uint8Array> = this.inbound.asObservable()
  readonly bufferedAmount = 0
  /** The link's health, set by hand (Channel.health$). */
  readonly health = new BehaviorSubject(true)
  readonly health$: Observable<boolean> = this.health.asObservable()
  isOpen = true
  peer: FakeChannel | null = null
  constructor(readonly remoteId: number) {}
  send(frame: Uint8Array): boolean {
    if (!this.isOpen) return false
    this.sent.push(new Uint8Array(frame))
    this.peer?.inbound.next(new Uint8Array(frame))
    return true
  }
  drained(): Observable<void> {
    return of(undefined)
  }
  close(): void {
    if (!this.isOpen) return
    this.isOpen = false
    this.inbound.complete()
    this.health.complete()
  }
  /** Frames sent on this channel, decoded. */
  frames(): Frame[] {
    return this.sent.map((bytes) => decodeFrame(bytes))
  }
}
