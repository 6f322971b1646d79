import { ExplorerError } from '../errors'
import { MAX_FRAME_BYTES } from '../wire/limits'

export interface SocketOptions {
  /**
   * Receive window per socket, in message bytes (the frames' headers and
   * tags come on top): how much the remote may have in flight to us, and all
   * a socket holds for us (messages not read yet, the message being
   * reassembled, frames that overtook others). It bounds what one socket can
   * queue on any hop of its path. Default 1 MiB; at least 4 frames (64 KiB).
   */
  windowBytes?: number
  /**
   * Largest message reassembled; a bigger one closes the socket with
   * MESSAGE_TOO_BIG. A message is held whole until its last fragment, within
   * the window, so at most windowBytes. Default: windowBytes (1 MiB).
   */
  maxMessageBytes?: number
  /** Sockets at most: dialled, accepted, and half-open (handshake unfinished). Default 256. */
  maxSockets?: number
  /** Sockets at most with any one remote, counted by its proven identity. Default 64. */
  maxSocketsPerPeer?: number
  /**
   * An accepted socket whose handshake is not finished this long after its
   * Open (the dialler's last handshake message has not arrived and verified)
   * is dropped. Default 5 s.
   */
  handshakeTimeoutMs?: number
  /** Half-open sockets (Open seen, handshake unfinished) at most, in all. Default 64. */
  maxHalfOpen?: number
  /** Half-open sockets at most whose Open arrived through any one neighbour (the channel it came in on). Default 8. */
  maxHalfOpenPerNeighbour?: number
  /**
   * Handshakes started per second for Opens arriving through any one
   * neighbour (each costs this peer three X25519 operations before anything
   * is proven); bursts of maxHalfOpenPerNeighbour. An Open over this or over
   * the half-open limits is dropped unread: its dialler repeats it a moment
   * later. Default 32.
   */
  handshakesPerNeighbourPerSecond?: number
  /**
   * An accepted socket whose remote has not sent one message this long after
   * the handshake is closed (gracefully): sockets nobody uses do not hold
   * slots. A dialler that only listens sends one (possibly empty) message
   * first. 0 never closes. Default 30 s.
   */
  idleTimeoutMs?: number
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
  maxMessageBytes: 1024 * 1024,
  maxSockets: 256,
  maxSocketsPerPeer: 64,
  handshakeTimeoutMs: 5000,
  maxHalfOpen: 64,
  maxHalfOpenPerNeighbour: 8,
  handshakesPerNeighbourPerSecond: 32,
  idleTimeoutMs: 30_000,
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
  if (options.maxMessageBytes === undefined) o.maxMessageBytes = o.windowBytes
  if (o.maxMessageBytes > o.windowBytes) {
    throw new ExplorerError('BAD_OPTIONS', `maxMessageBytes (${o.maxMessageBytes}) exceeds windowBytes (${o.windowBytes}): a message is held whole within the receive window; raise windowBytes too`)
  }
  for (const key of ['maxSockets', 'maxSocketsPerPeer', 'maxHalfOpen', 'maxHalfOpenPerNeighbour', 'handshakeTimeoutMs'] as const) {
    if (o[key] < 1) throw new ExplorerError('BAD_OPTIONS', `${key} must be ≥ 1, got ${o[key]}`)
  }
  if (o.handshakesPerNeighbourPerSecond <= 0) throw new ExplorerError('BAD_OPTIONS', 'handshakesPerNeighbourPerSecond must be > 0')
  if (o.minRtoMs > o.maxRtoMs) throw new ExplorerError('BAD_OPTIONS', `minRtoMs (${o.minRtoMs}) exceeds maxRtoMs (${o.maxRtoMs})`)
  return o
}
