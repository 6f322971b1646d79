import { ExplorerError } from '../errors'
import { bytesToId, writeId } from '../ids'
import { TAG_BYTES } from '../noise/aead'
import { MESSAGE1_BYTES, MESSAGE2_BYTES, MESSAGE3_BYTES } from '../noise/session'
import { FrameType, HEADER_BYTES, MAX_PAYLOAD_BYTES } from '../wire/frame'

/**
 * Socket frames reuse the overlay header: `conn` names the connection, `seq`
 * orders it. The dialler picks a 31-bit connection number; the top bit of
 * `conn` tells who sent a frame (0: the dialler, 1: the accepter), so two
 * peers dialling each other with the same number never collide.
 *
 * Every socket runs a Noise XX handshake end to end (docs/protocol.md,
 * "Sockets"); its messages ride in Open, Accept and the dialler's first Data
 * frame, and every frame after it is sealed. Payloads:
 *   Open           u32 receive window ‖ Noise message 1 (32 bytes)
 *   Accept         u32 receive window ‖ Noise message 2 (192 bytes)
 *   Data           sealed message bytes (a fragment when FrameFlag.More is set);
 *                  the dialler's seq 0 is Noise message 3 (160 bytes), not sealed
 *   Close          sealed nothing (the 16-byte tag): the stream's end, in seq order;
 *                  an empty Close with seq 0 aborts a dial before its handshake
 *   Ack            u32 window ‖ u48 ack number ‖ tag (a sealed control frame)
 *   Refuse         u8 reason ‖ 6-byte id [‖ u48 number ‖ tag: sealed once the handshake is done]
 */
export const ACCEPTER_BIT = 0x80000000
export const CONN_MASK = 0x7fffffff

/** What sealing adds to a frame: the header, and the tag after the payload. */
export const FRAME_OVERHEAD = HEADER_BYTES + TAG_BYTES
/** The most message bytes one sealed frame carries. */
export const MAX_CHUNK_BYTES = MAX_PAYLOAD_BYTES - TAG_BYTES

export const WINDOW_BYTES = 4
export const OPEN_BYTES = WINDOW_BYTES + MESSAGE1_BYTES
export const ACCEPT_BYTES = WINDOW_BYTES + MESSAGE2_BYTES
export const HANDSHAKE_FRAME_BYTES = MESSAGE3_BYTES
/** A control frame's own number (its nonce is CONTROL_COUNTER_BASE + it) and tag, after its body. */
export const CONTROL_SEAL_BYTES = 6 + TAG_BYTES
export const REFUSE_BYTES = 7
export const ACK_BYTES = WINDOW_BYTES + CONTROL_SEAL_BYTES

export enum RefuseReason {
  /** An Open reached the owner of the id, which is someone else. */
  NoSuchPeer = 1,
  /** The peer is at a socket or handshake limit. */
  Busy = 2,
  /** Nobody subscribes to the peer's incoming$. */
  NotAccepting = 3,
  /** The connection is unknown here (closed, or never existed). */
  Reset = 4,
  /** A message exceeded the receiver's maxMessageBytes. */
  TooBig = 5,
  /** A handshake message or frame of this connection failed authentication. */
  AuthFailed = 6,
}

/**
 * The receive window in frame bytes that holds `windowBytes` of messages
 * (cut into sealed frames): what Open, Accept and Acks advertise, and what
 * bounds a socket's buffers.
 */
export const windowInFrameBytes = (windowBytes: number): number => windowBytes + Math.ceil(windowBytes / MAX_CHUNK_BYTES) * FRAME_OVERHEAD

/** u32 window ‖ handshake message: Open and Accept. */
export function encodeHello(window: number, message: Uint8Array): Uint8Array {
  const bytes = new Uint8Array(WINDOW_BYTES + message.byteLength)
  new DataView(bytes.buffer).setUint32(0, window)
  bytes.set(message, WINDOW_BYTES)
  return bytes
}

export function decodeHello(payload: Uint8Array): { window: number; message: Uint8Array } {
  return { window: readU32(payload, 0), message: payload.subarray(WINDOW_BYTES) }
}

export const readU32 = (bytes: Uint8Array, offset: number): number => new DataView(bytes.buffer, bytes.byteOffset + offset, 4).getUint32(0)

export function encodeU32(value: number): Uint8Array {
  const bytes = new Uint8Array(4)
  new DataView(bytes.buffer).setUint32(0, value)
  return bytes
}

/** A control frame's clear body ‖ its number ‖ its tag. */
export function controlPayload(body: Uint8Array, number: number, tag: Uint8Array): Uint8Array {
  const bytes = new Uint8Array(body.byteLength + CONTROL_SEAL_BYTES)
  bytes.set(body)
  writeId(bytes, body.byteLength, number)
  bytes.set(tag, body.byteLength + 6)
  return bytes
}

/** Splits a sealed control payload whose body has `bodyBytes`. */
export function splitControl(payload: Uint8Array, bodyBytes: number): { body: Uint8Array; number: number; tag: Uint8Array } {
  return { body: payload.subarray(0, bodyBytes), number: bytesToId(payload, bodyBytes), tag: payload.subarray(bodyBytes + 6) }
}

export function encodeRefuse(reason: RefuseReason, id: number): Uint8Array {
  const bytes = new Uint8Array(REFUSE_BYTES)
  bytes[0] = reason
  writeId(bytes, 1, id)
  return bytes
}

/** The reason and id of a Refuse, sealed or not; null when it does not parse. */
export function decodeRefuse(payload: Uint8Array): { reason: RefuseReason; id: number } | null {
  if ((payload.byteLength !== REFUSE_BYTES && payload.byteLength !== REFUSE_BYTES + CONTROL_SEAL_BYTES) || !(payload[0] in RefuseReason)) return null
  return { reason: payload[0], id: bytesToId(payload, 1) }
}

/**
 * Whether a socket frame's payload has the shape its type requires. Data
 * carries anything (its tag decides); Close is empty (an abort) or a tag.
 */
export function socketPayloadOk(type: number, payload: Uint8Array): boolean {
  switch (type) {
    case FrameType.Open:
      return payload.byteLength === OPEN_BYTES
    case FrameType.Accept:
      return payload.byteLength === ACCEPT_BYTES
    case FrameType.Ack:
      return payload.byteLength === ACK_BYTES
    case FrameType.Close:
      return payload.byteLength === 0 || payload.byteLength === TAG_BYTES
    case FrameType.Refuse:
      return decodeRefuse(payload) !== null
    default:
      return true
  }
}

/** Signed distance a − b between two u32 sequence numbers (wraps at 2^32). */
export const seqDelta = (a: number, b: number): number => (a - b) | 0

export const nextSeq = (seq: number): number => (seq + 1) >>> 0

/** What a dial or a socket fails with when the remote refuses it for `reason`. */
export function refusalError(reason: RefuseReason, remoteId: string): ExplorerError {
  switch (reason) {
    case RefuseReason.NoSuchPeer:
      return new ExplorerError('PEER_NOT_FOUND', `no peer has the id ${remoteId}`)
    case RefuseReason.Busy:
      return new ExplorerError('DIAL_REFUSED', `${remoteId} has too many sockets or handshakes open`)
    case RefuseReason.NotAccepting:
      return new ExplorerError('DIAL_REFUSED', `${remoteId} does not accept sockets (nobody subscribes to its incoming$)`)
    case RefuseReason.TooBig:
      return new ExplorerError('MESSAGE_TOO_BIG', `${remoteId} refused a message over its maxMessageBytes`)
    case RefuseReason.Reset:
      return new ExplorerError('SOCKET_RESET', `${remoteId} reset the connection`)
    case RefuseReason.AuthFailed:
      return new ExplorerError('AUTH_FAILED', `${remoteId} could not authenticate this connection's frames: they were altered or forged on the way`)
  }
}
