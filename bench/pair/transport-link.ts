import { ReplaySubject, Subject, firstValueFrom, lastValueFrom } from 'rxjs'
import type { Channel, SignalPort } from '../../src/transport/types'
import { createWebRtcTransport, type WrtcImpl } from '../../src/transport/webrtc'
import type { Link, Pair, Settings } from './link'

/**
 * A loopback pair of the WebRTC transport's Channels, wired as a router would:
 * the accepter's accept() is called on the first signal, with a port that
 * replays it. Connect time runs from subscribing to both Channels in hand.
 */
export async function transportPair(wrtc: WrtcImpl, s: Settings): Promise<Pair> {
  const options = { wrtc, iceServers: [], lowWaterMark: s.lowWaterMark, highWaterMark: s.highWaterMark }
  const [ta, tb] = [createWebRtcTransport(options), createWebRtcTransport(options)]
  const toA = new Subject<unknown>()
  const inboxB = new ReplaySubject<unknown>()
  const portA: SignalPort = { signals$: toA, send: (signal) => inboxB.next(signal) }
  const portB: SignalPort = { signals$: inboxB, send: (signal) => toA.next(signal) }

  const t0 = performance.now()
  const accepted = firstValueFrom(inboxB).then(() => firstValueFrom(tb.accept(1, portB)))
  const [a, b] = await Promise.all([firstValueFrom(ta.connect(2, portA)), accepted])
  const connectMs = performance.now() - t0
  return {
    a: link(a),
    b: link(b),
    connectMs,
    close: async () => {
      a.close()
      b.close()
      await Promise.all([lastValueFrom(a.frames$, { defaultValue: null }), lastValueFrom(b.frames$, { defaultValue: null })])
    },
  }
}

function link(channel: Channel): Link {
  let handler: (bytes: Uint8Array) => void = () => undefined
  channel.frames$.subscribe((frame) => handler(frame))
  return {
    send: (bytes) => void channel.send(bytes),
    get bufferedAmount() {
      return channel.bufferedAmount
    },
    whenDrained: (callback) => void channel.drained().subscribe(callback),
    onMessage: (h) => (handler = h),
  }
}
