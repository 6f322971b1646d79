import SimplePeer, { type Instance as Peer } from 'simple-peer'
import type { WrtcImpl } from '../../src/transport/webrtc'
import type { Link, Pair, Settings } from './link'

/**
 * A loopback pair of plain simple-peers, used through their public API only
 * ('data' events, send, bufferSize): the reference the transport is held to.
 * @roamhq/wrtc has no 'bufferedamountlow' event, so draining is polled every
 * millisecond, as the transport does.
 */
export async function rawPair(wrtc: WrtcImpl, s: Settings): Promise<Pair> {
  const t0 = performance.now()
  const a = new SimplePeer({ initiator: true, wrtc, config: { iceServers: [] } })
  const b = new SimplePeer({ wrtc, config: { iceServers: [] } })
  a.on('signal', (signal) => b.signal(signal))
  b.on('signal', (signal) => a.signal(signal))
  await Promise.all([connected(a), connected(b)])
  const connectMs = performance.now() - t0
  return {
    a: link(a, s),
    b: link(b, s),
    connectMs,
    close: async () => {
      const closed = Promise.all([a, b].map((p) => new Promise((resolve) => p.once('close', resolve))))
      a.destroy()
      b.destroy()
      await closed
      for (const p of [a, b]) clearIceTimer(p)
    },
  }
}

function link(peer: Peer, s: Settings): Link {
  let handler: (bytes: Uint8Array) => void = () => undefined
  peer.on('data', (data: Uint8Array) => handler(data))
  const whenDrained = (callback: () => void): void => {
    if (peer.bufferSize <= s.lowWaterMark) callback()
    else setTimeout(whenDrained, 1, callback)
  }
  return {
    send: (bytes) => peer.send(bytes),
    get bufferedAmount() {
      return peer.bufferSize
    },
    whenDrained,
    onMessage: (h) => (handler = h),
  }
}

function connected(peer: Peer): Promise<void> {
  return new Promise((resolve, reject) => {
    peer.once('connect', resolve)
    peer.once('error', reject)
  })
}

/** simple-peer never clears its 5 s ICE-complete timer; the process would linger. */
function clearIceTimer(peer: Peer): void {
  clearTimeout((peer as unknown as { _iceCompleteTimer: ReturnType<typeof setTimeout> })._iceCompleteTimer)
}
