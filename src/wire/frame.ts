import { ExplorerError } from '../errors'
import { bytesToId, writeId } from '../ids'
import { MAX_FRAME_BYTES } from './limits'
import { allocBytes } from './bytes'

/**
 * Overlay frame: a fixed 24-byte header, then raw payload bytes.
 *
 *  0      version   u8   (FRAME_VERSION)
 *  1      type      u8   (FrameType)
 *  2      ttl       u8   hops left; a router drops a frame arriving with 0
 *  3      flags     u8   (FrameFlag bits)
 *  4..9   source    48-bit id, big-endian
 *  10..15 dest      48-bit id or key, big-endian
 *  16..19 conn      u32  connection id (sockets, signalling sessions, rpc ids)
 *  20..23 seq       u32  sequence number within the connection
 *  24..   payload
 */
export const FRAME_VERSION = 1
export const HEADER_BYTES = 24
export const MAX_PAYLOAD_BYTES = MAX_FRAME_BYTES - HEADER_BYTES
export const DEFAULT_TTL = 64

export enum FrameType {
  /** Ring maintenance RPC (find successor, stabilize, notify, ...). */
  Ring = 1,
  /** Channel set-up signalling (SDP, ICE) carried through the overlay. */
  Signal = 2,
  /** Socket layer: open / accept / data / ack / close / refuse. */
  Open = 3,
  Accept = 4,
  Data = 5,
  Ack = 6,
  Close = 7,
  Refuse = 8,
  /** A relayed link's handshake and sealed frames, source-routed through its relays (src/links/). */
  Link = 9,
  /** ICE restart signals of an existing channel, carried around it through the overlay (src/ring/ice-restart-signalling.ts). */
  IceRestart = 10,
}

export const FrameFlag = {
  /** More fragments of the same message follow. */
  More: 0x01,
  /** Deliver only to the peer whose id equals `dest`; otherwise it is unreachable. */
  Exact: 0x02,
  /** The payload starts with a route record (src/wire/route-record.ts); every forwarding peer appends its id. */
  Traced: 0x04,
  /**
   * Set by the key's predecessor when it hands the frame to its successor: the
   * receiver owns the key (Chord decides ownership at the predecessor).
   */
  Final: 0x08,
  /**
   * Set when a peer that received a Final frame for a key it does not own steps
   * back to its predecessor (someone joined there that the sender did not know of yet).
   */
  Back: 0x10,
  /**
   * Source-routed: the payload starts with the hops still to take; each peer
   * pops the next and sends the frame straight to it. Used for replies.
   */
  Routed: 0x20,
} as const

/** Every flag bit this version defines; a frame arriving with any other bit set is malformed. */
export const KNOWN_FLAGS = 0x3f

export interface Frame {
  type: FrameType
  ttl: number
  flags: number
  source: number
  dest: number
  conn: number
  seq: number
  payload: Uint8Array
}

const KNOWN_TYPES = new Set<number>(Object.values(FrameType).filter((v): v is number => typeof v === 'number'))

export function encodeFrame(frame: Frame): Uint8Array {
  if (frame.payload.byteLength > MAX_PAYLOAD_BYTES) {
    throw new ExplorerError('BAD_FRAME', `frame payload of ${frame.payload.byteLength} bytes exceeds ${MAX_PAYLOAD_BYTES}`)
  }
  // Out-of-range fields would be silently truncated into a different frame (dest 2^48 → 0).
  if (!KNOWN_TYPES.has(frame.type)) throw badFrame(`unknown frame type ${frame.type}`)
  checkField('ttl', frame.ttl, 0xff)
  checkField('flags', frame.flags, 0xff)
  checkField('source', frame.source, MAX_ID)
  checkField('dest', frame.dest, MAX_ID)
  checkField('conn', frame.conn, 0xffffffff)
  checkField('seq', frame.seq, 0xffffffff)
  const bytes = allocBytes(HEADER_BYTES + frame.payload.byteLength)
  bytes[0] = FRAME_VERSION
  bytes[1] = frame.type
  bytes[2] = frame.ttl
  bytes[3] = frame.flags
  writeId(bytes, 4, frame.source)
  writeId(bytes, 10, frame.dest)
  writeU32(bytes, 16, frame.conn)
  writeU32(bytes, 20, frame.seq)
  bytes.set(frame.payload, HEADER_BYTES)
  return bytes
}

/** Why bytes are not a frame at all (the codec's rejections; see also src/wire/inbound.ts). */
export type FrameRejection = 'TOO_SHORT' | 'TOO_LONG' | 'BAD_VERSION' | 'BAD_TYPE'

export type DecodeResult =
  | { ok: true; frame: Frame }
  | { ok: false; reason: FrameRejection; message: string }

/**
 * Decodes without throwing: a frame, or the coded reason the bytes are not
 * one. Never throws for any input (the router's receive path relies on it).
 * The payload is a view, not a copy.
 */
export function tryDecodeFrame(bytes: Uint8Array): DecodeResult {
  const length = bytes.byteLength
  if (length < HEADER_BYTES) return reject('TOO_SHORT', `frame of ${length} bytes is shorter than its ${HEADER_BYTES}-byte header`)
  if (length > MAX_FRAME_BYTES) return reject('TOO_LONG', `frame of ${length} bytes exceeds ${MAX_FRAME_BYTES}`)
  if (bytes[0] !== FRAME_VERSION) return reject('BAD_VERSION', `unsupported frame version ${bytes[0]}`)
  if (!KNOWN_TYPES.has(bytes[1])) return reject('BAD_TYPE', `unknown frame type ${bytes[1]}`)
  return {
    ok: true,
    frame: {
      type: bytes[1],
      ttl: bytes[2],
      flags: bytes[3],
      source: bytesToId(bytes, 4),
      dest: bytesToId(bytes, 10),
      conn: readU32(bytes, 16),
      seq: readU32(bytes, 20),
      payload: bytes.subarray(HEADER_BYTES),
    },
  }
}

/** Decodes and validates; throws `BAD_FRAME` with the reason. The payload is a view, not a copy. */
export function decodeFrame(bytes: Uint8Array): Frame {
  const result = tryDecodeFrame(bytes)
  if (!result.ok) throw badFrame(result.message)
  return result.frame
}

const reject = (reason: FrameRejection, message: string): DecodeResult => ({ ok: false, reason, message })

/** Routers only need the destination and ttl; reading them does not decode the rest. */
export const frameDest = (bytes: Uint8Array): number => bytesToId(bytes, 10)
export const frameTtl = (bytes: Uint8Array): number => bytes[2]
/** Forwarding spends one hop; the caller owns `bytes` (channels hand over their buffers). */
export function decrementTtl(bytes: Uint8Array): void {
  // Saturate: a Uint8Array would wrap an expired frame's 0 to 255 and revive it.
  if (bytes[2] > 0) bytes[2] = bytes[2] - 1
}

function writeU32(bytes: Uint8Array, offset: number, value: number): void {
  bytes[offset] = (value >>> 24) & 0xff
  bytes[offset + 1] = (value >>> 16) & 0xff
  bytes[offset + 2] = (value >>> 8) & 0xff
  bytes[offset + 3] = value & 0xff
}

function readU32(bytes: Uint8Array, offset: number): number {
  return ((bytes[offset] << 24) >>> 0) + (bytes[offset + 1] << 16) + (bytes[offset + 2] << 8) + bytes[offset + 3]
}

const badFrame = (message: string) => new ExplorerError('BAD_FRAME', message)

const MAX_ID = 2 ** 48 - 1

function checkField(name: string, value: number, max: number): void {
  if (!(Number.isInteger(value) && value >= 0 && value <= max)) throw badFrame(`frame ${name} must be an integer in [0, ${max}], got ${value}`)
}
