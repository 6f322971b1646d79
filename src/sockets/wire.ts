import { bytesToId, writeId } from '../ids'
import { FrameType } from '../wire/frame'

/**
 * Socket frames reuse the overlay header: `conn` names the connection, `seq`
 * orders it. The dialler picks a 31-bit connection number; the top bit of
 * `conn` tells who sent a frame (0: the dialler, 1: the accepter), so two
 * peers dialling each other with the same number never collide.
 *
 * Payloads of the control frames:
 *   Open, Accept   u32 receive window (bytes the sender of it may be sent ahead)
 *   Ack            u32 receive window left beyond `seq` (the next seq expected)
 *   Refuse         u8 reason, 6-byte id of the peer the refused connection was for
 *   Data           message bytes (a fragment when FrameFlag.More is set)
 *   Close          empty; it takes a seq: the stream's end, delivered in order
 */
export const ACCEPTER_BIT = 0x80000000
export const CONN_MASK = 0x7fffffff

export enum RefuseReason {
  /** An Open reached the owner of the id, which is someone else. */
  NoSuchPeer = 1,
  /** The peer is at its socket limit. */
  Busy = 2,
  /** Nobody subscribes to the peer's incoming$. */
  NotAccepting = 3,
  /** The connection is unknown here (closed, or never existed). */
  Reset = 4,
  /** A message exceeded the receiver's maxMessageBytes. */
  TooBig = 5,
}

export function encodeU32(value: number): Uint8Array {
  const bytes = new Uint8Array(4)
  new DataView(bytes.buffer).setUint32(0, value)
  return bytes
}

/** Null when the payload is not exactly a u32. */
export function decodeU32(payload: Uint8Array): number | null {
  if (payload.byteLength !== 4) return null
  return new DataView(payload.buffer, payload.byteOffset, 4).getUint32(0)
}

export function encodeRefuse(reason: RefuseReason, id: number): Uint8Array {
  const bytes = new Uint8Array(7)
  bytes[0] = reason
  writeId(bytes, 1, id)
  return bytes
}

export function decodeRefuse(payload: Uint8Array): { reason: RefuseReason; id: number } | null {
  if (payload.byteLength !== 7 || !(payload[0] in RefuseReason)) return null
  return { reason: payload[0], id: bytesToId(payload, 1) }
}

/**
 * Whether a socket frame's payload has the shape its type requires (Open,
 * Accept and Ack: a u32; Refuse: a known reason and an id). Data and Close
 * carry anything.
 */
export function socketPayloadOk(type: number, payload: Uint8Array): boolean {
  switch (type) {
    case FrameType.Open:
    case FrameType.Accept:
    case FrameType.Ack:
      return payload.byteLength === 4
    case FrameType.Refuse:
      return decodeRefuse(payload) !== null
    default:
      return true
  }
}

/** Signed distance a − b between two u32 sequence numbers (wraps at 2^32). */
export const seqDelta = (a: number, b: number): number => (a - b) | 0

export const nextSeq = (seq: number): number => (seq + 1) >>> 0
