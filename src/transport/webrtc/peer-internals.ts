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
  _setupData(event: { channel?: RTCDataChannel }): void
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

/**
 * Calls `hook` with the peer's data channel as soon as simple-peer set it up:
 * at once for the initiator, on 'datachannel' for the other side (before its
 * 'open', so no message can slip past).
 */
export function whenDataChannel(peer: Peer, hook: (dc: RTCDataChannel) => void): void {
  const p = internals(peer)
  if (p._channel !== null) {
    hook(p._channel)
    return
  }
  const setup = p._setupData
  p._setupData = function (this: Internals, event) {
    setup.call(this, event)
    if (this._channel !== null) hook(this._channel)
  }
}

const encoder = new TextEncoder()

/** A received message as plain bytes (simple-peer sets binaryType 'arraybuffer'). */
export function messageBytes(data: unknown): Uint8Array {
  if (data instanceof ArrayBuffer) return new Uint8Array(data)
  if (ArrayBuffer.isView(data)) return new Uint8Array(data.buffer, data.byteOffset, data.byteLength)
  // A text message from a foreign peer: still bytes to the router.
  return encoder.encode(String(data))
}
