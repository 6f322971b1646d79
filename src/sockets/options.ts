import { ExplorerError } from '../errors'
import { MAX_FRAME_BYTES } from '../wire/limits'

export interface SocketOptions {
  /**
   * Receive window per socket, in frame bytes (headers included): how much the
   * remote may have in flight to us. It bounds what one socket can queue on
   * any hop of its path. Default 1 MiB; at least 4 frames (64 KiB).
   */
  windowBytes?: number
  /** Largest message reassembled; a bigger one closes the socket with MESSAGE_TOO_BIG. Default 16 MiB. */
  maxMessageBytes?: number
  /** Open sockets at most, dialled and accepted. Default 256. */
  maxSockets?: number
  /** Open sockets at most with any one remote peer. Default 64. */
  maxSocketsPerPeer?: number
  /** A dial not accepted by then errors with DIAL_TIMEOUT. Default 10 s. */
  dialTimeoutMs?: number
  /** Retransmission timeout before the first RTT sample. Default 1 s. */
  initialRtoMs?: number
  /** Floor of the retransmission timeout. Default 200 ms. */
  minRtoMs?: number
  /** Ceiling of the (doubling) retransmission timeout. Default 10 s. */
  maxRtoMs?: number
  /** Retransmission timeouts in a row without any answer before the socket is reset. Default 8. */
  maxRetransmits?: number
  /** An ack waits at most this long for more frames to acknowledge at once. Default 10 ms. */
  ackDelayMs?: number
  /** Sockets stop sending while one of this peer's channels has more than this queued. Default 1 MiB. */
  channelHighWaterMark?: number
  /** How long close() of the whole layer waits for sockets to finish gracefully. Default 2 s. */
  closeTimeoutMs?: number
}

export type ResolvedSocketOptions = Required<SocketOptions>

export const SOCKET_DEFAULTS: ResolvedSocketOptions = {
  windowBytes: 1024 * 1024,
  maxMessageBytes: 16 * 1024 * 1024,
  maxSockets: 256,
  maxSocketsPerPeer: 64,
  dialTimeoutMs: 10_000,
  initialRtoMs: 1000,
  minRtoMs: 200,
  maxRtoMs: 10_000,
  maxRetransmits: 8,
  ackDelayMs: 10,
  channelHighWaterMark: 1024 * 1024,
  closeTimeoutMs: 2000,
}

/** Fills defaults; misuse throws BAD_OPTIONS at once. */
export function resolveSocketOptions(options: SocketOptions = {}): ResolvedSocketOptions {
  const o: ResolvedSocketOptions = { ...SOCKET_DEFAULTS }
  for (const key of Object.keys(SOCKET_DEFAULTS) as (keyof ResolvedSocketOptions)[]) {
    const value = options[key]
    if (value === undefined) continue
    if (typeof value !== 'number' || !Number.isFinite(value) || value < 0) {
      throw new ExplorerError('BAD_OPTIONS', `${key} must be a finite number ≥ 0, got ${String(value)}`)
    }
    o[key] = value
  }
  // Below four frames the ack policy (every quarter window) could stall a sender.
  if (o.windowBytes < 4 * MAX_FRAME_BYTES || o.windowBytes > 0xffffffff) {
    throw new ExplorerError('BAD_OPTIONS', `windowBytes must be in [${4 * MAX_FRAME_BYTES}, 2^32), got ${o.windowBytes}`)
  }
  if (o.maxSockets < 1 || o.maxSocketsPerPeer < 1) throw new ExplorerError('BAD_OPTIONS', 'maxSockets and maxSocketsPerPeer must be ≥ 1')
  if (o.minRtoMs > o.maxRtoMs) throw new ExplorerError('BAD_OPTIONS', `minRtoMs (${o.minRtoMs}) exceeds maxRtoMs (${o.maxRtoMs})`)
  return o
}
