import { map, type Observable } from 'rxjs'
import type { Channel, SignalPort, Transport } from '../transport/types'

/**
 * Sees every frame a peer sends, as it leaves on an open channel: `from` is
 * the sending peer, `to` the channel's remote (the next hop, not the frame's
 * destination). The bytes are the sender's: read them, do not keep or change them.
 * Returning false withholds the frame (an attack test's peer that does not
 * say what its code would).
 */
export type FrameTap = (from: number, to: number, frame: Uint8Array) => void | boolean

/** A transport whose channels report every frame they send to `tap` (simulation bookkeeping: who sent what to whom). */
export function tappedTransport(inner: Transport, self: number, tap: FrameTap): Transport {
  const wrap = map((channel: Channel): Channel => new TappedChannel(channel, self, tap))
  return {
    connect: (remoteId: number | null, port: SignalPort): Observable<Channel> => inner.connect(remoteId, port).pipe(wrap),
    accept: (remoteId: number, port: SignalPort): Observable<Channel> => inner.accept(remoteId, port).pipe(wrap),
    bindingOf: (signal: unknown) => inner.bindingOf(signal),
    cheapOffers: inner.cheapOffers,
  }
}

class TappedChannel implements Channel {
  constructor(
    private readonly inner: Channel,
    private readonly self: number,
    private readonly tap: FrameTap,
  ) {}

  get remoteId(): number {
    return this.inner.remoteId
  }

  get frames$(): Observable<Uint8Array> {
    return this.inner.frames$
  }

  get bufferedAmount(): number {
    return this.inner.bufferedAmount
  }

  get isOpen(): boolean {
    return this.inner.isOpen
  }

  send(frame: Uint8Array): boolean {
    // Counted like MemoryNetworkStats.framesSent: every frame accepted on an open channel.
    if (this.inner.isOpen && this.tap(this.self, this.inner.remoteId, frame) === false) return true
    return this.inner.send(frame)
  }

  drained(): Observable<void> {
    return this.inner.drained()
  }

  close(): void {
    this.inner.close()
  }
}
