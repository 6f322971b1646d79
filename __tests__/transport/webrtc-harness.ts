import type { WebRtcTransport } from '../../src/transport/webrtc'
import { waitFor, type TransportHarness } from './harness'

/** The compliance harness over three WebRTC transports from `make` (ids 0xa, 0xb, 0xc); closing waits for every peer to go. */
export function webrtcHarness(make: () => WebRtcTransport, lowWaterMark: number): () => Promise<TransportHarness> {
  return async () => {
    const [a, b, c] = [make(), make(), make()]
    const live = () => a.livePeers + b.livePeers + c.livePeers
    return {
      a,
      b,
      c,
      idA: 0xa,
      idB: 0xb,
      idC: 0xc,
      lowWaterMark,
      openChannels: live,
      close: async () => {
        await waitFor(() => (live() === 0 ? true : undefined))
      },
    }
  }
}
