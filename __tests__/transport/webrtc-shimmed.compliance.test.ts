/**
 * The transport compliance suite on simple-peer as browsers get it from our
 * builds: bundled from source with only the shims it needs (no
 * readable-stream, no buffer), over @roamhq/wrtc on loopback.
 */
import * as wrtc from '@roamhq/wrtc'
import { Duplex } from 'node:stream'
import { createWebRtcTransport, type WebRtcTransport } from '../../src/transport/webrtc'
import { describeTransportCompliance } from './compliance'
import { webrtcHarness } from './webrtc-harness'
import { waitFor } from './harness'

jest.mock('simple-peer', () => jest.requireActual(jest.requireActual('./shimmed-simple-peer').buildShimmedSimplePeer()))

const LOW = 64 * 1024
const everyTransport: WebRtcTransport[] = []

function transport(): WebRtcTransport {
  const t = createWebRtcTransport({ wrtc, lowWaterMark: LOW })
  everyTransport.push(t)
  return t
}

it('runs on the shimmed simple-peer, not the Node one (no Node stream underneath)', () => {
  const SimplePeer = jest.requireMock<new (opts: object) => { destroy(): void; _readableState: object }>('simple-peer')
  const peer = new SimplePeer({ wrtc })
  try {
    expect(peer).not.toBeInstanceOf(Duplex)
    // scripts/shims/readable-stream.ts keeps only what simple-peer reads.
    expect(Object.keys(peer._readableState)).toEqual(['ended'])
  } finally {
    peer.destroy()
  }
})

describeTransportCompliance('webrtc (simple-peer with browser shims + @roamhq/wrtc, loopback)', webrtcHarness(transport, LOW))

afterAll(async () => {
  await waitFor(() => (everyTransport.every((t) => t.livePeers === 0) ? true : undefined))
})
