import type { Instance as Peer } from 'simple-peer'

/**
 * The few simple-peer 9 internals this transport uses. Its public surface is a
 * Node stream: every message would cost a Buffer plus a stream push, and
 * unread messages would pile up in the stream's buffer. The data channel
 * itself is faster and has the bufferedAmount we need for backpressure.
 */
interface Internals {
  _iceCompleteTimer: ReturnType<typeof setTimeout> | null
  _channel: RTCDataChannel | null
  _pc: RTCPeerConnection | null
}

const internals = (peer: Peer): Internals => peer as unknown as Internals

/**
 * simple-peer starts a 5 s "ICE complete" timer at the first local candidate
 * and never clears it, so every process (and jest) lingered 5 s after its last
 * peer closed. Clear it once the peer is gone.
 */
export function clearIceTimerOnClose(peer: Peer): void {
  peer.once('close', () => {
    const p = internals(peer)
    if (p._iceCompleteTimer !== null) clearTimeout(p._iceCompleteTimer)
    p._iceCompleteTimer = null
  })
}

/** The peer's data channel: made in simple-peer's constructor since the channel is negotiated. */
export const dataChannelOf = (peer: Peer): RTCDataChannel | null => internals(peer)._channel

/** The peer's RTCPeerConnection; null once simple-peer destroyed it. */
export const peerConnectionOf = (peer: Peer): RTCPeerConnection | null => internals(peer)._pc ?? null

const encoder = new TextEncoder()

/** A received message as plain bytes (simple-peer sets binaryType 'arraybuffer'). */
export function messageBytes(data: unknown): Uint8Array {
  if (data instanceof ArrayBuffer) return new Uint8Array(data)
  if (ArrayBuffer.isView(data)) return new Uint8Array(data.buffer, data.byteOffset, data.byteLength)
  // A text message from a foreign peer: still bytes to the router.
  return encoder.encode(String(data))
}
