import { bytesToId, writeId } from '../ids'
import { MESSAGE1_BYTES, MESSAGE2_BYTES, MESSAGE3_BYTES } from '../noise'
import { FrameType, HEADER_BYTES } from '../wire/frame'
import { MAX_FRAME_BYTES } from '../wire/limits'

/**
 * The payload of a Link frame (FrameType.Link, source-routed through the
 * relays), after the route: one kind byte, then
 * - Open:   neighbour count u8, that many 6-byte ids (the opener's direct
 *           neighbours, relay candidates), Noise XX message 1;
 * - Accept: message 2, sent along the route the accepter chose (relays
 *           listed in the Open that it has channels to, when there is one):
 *           the opener's route is the reverse of the way it came;
 * - Finish: message 3;
 * - Data:   a sealed frame, or a part of one (More: parts follow;
 *           Continues: it follows the previous counter's part), its frame
 *           counter's low 32 bits in the header's seq; an empty plaintext is a keepalive;
 * - Close:  a sealed empty plaintext (only the other end can close the link);
 * - Refuse: a reason byte (not authenticated: a relay could forge one, as it could drop).
 */
export enum LinkKind {
  Open = 1,
  Accept = 2,
  Finish = 3,
  Data = 4,
  Close = 5,
  Refuse = 6,
}

/** On Data: more parts of the same frame follow. */
export const MORE = 0x80
/** On Data: this part continues the frame of the previous counter. */
export const CONTINUES = 0x40

export enum RefuseReason {
  /** Too many links or handshakes already. */
  Busy = 1,
  /** This peer opens and accepts no relayed links (no identity to prove). */
  Unsupported = 2,
}

/** Relay candidates an Open lists at most. */
export const MAX_LINK_NEIGHBOURS = 32
/** Hops a link's route may have at most (relays plus the far end). */
export const MAX_LINK_HOPS = 8
const TAG_BYTES = 16
/** The largest plaintext one Data frame seals: a frame of MAX_FRAME_BYTES with the longest route, kind byte and tag. */
export const LINK_CHUNK_BYTES = MAX_FRAME_BYTES - HEADER_BYTES - (2 + 6 * MAX_LINK_HOPS) - 1 - TAG_BYTES

export type LinkMessage =
  | { kind: LinkKind.Open; neighbours: number[]; message1: Uint8Array }
  | { kind: LinkKind.Accept; message2: Uint8Array }
  | { kind: LinkKind.Finish; message3: Uint8Array }
  /** `kindByte`: Data with its More and Continues bits (authenticated with the box). */
  | { kind: LinkKind.Data; kindByte: number; sealed: Uint8Array }
  | { kind: LinkKind.Close; sealed: Uint8Array }
  | { kind: LinkKind.Refuse; reason: RefuseReason }

export function encodeLinkMessage(message: LinkMessage): Uint8Array {
  switch (message.kind) {
    case LinkKind.Open: {
      const n = Math.min(message.neighbours.length, MAX_LINK_NEIGHBOURS)
      const out = new Uint8Array(2 + 6 * n + MESSAGE1_BYTES)
      out[0] = LinkKind.Open
      out[1] = n
      for (let i = 0; i < n; i++) writeId(out, 2 + 6 * i, message.neighbours[i])
      out.set(message.message1, 2 + 6 * n)
      return out
    }
    case LinkKind.Accept:
      return withKind(LinkKind.Accept, message.message2)
    case LinkKind.Finish:
      return withKind(LinkKind.Finish, message.message3)
    case LinkKind.Data:
      return withKind(message.kindByte, message.sealed)
    case LinkKind.Close:
      return withKind(LinkKind.Close, message.sealed)
    case LinkKind.Refuse:
      return Uint8Array.of(LinkKind.Refuse, message.reason)
  }
}

/** The message, or null when the bytes are not one (counted against the sender like any bad payload). */
export function decodeLinkMessage(bytes: Uint8Array): LinkMessage | null {
  if (bytes.byteLength < 1) return null
  const kind = bytes[0] & ~(MORE | CONTINUES)
  if (kind !== bytes[0] && kind !== LinkKind.Data) return null
  const rest = bytes.subarray(1)
  switch (kind) {
    case LinkKind.Open: {
      const n = rest[0]
      if (n === undefined || n > MAX_LINK_NEIGHBOURS || rest.byteLength !== 1 + 6 * n + MESSAGE1_BYTES) return null
      const neighbours = Array.from({ length: n }, (_, i) => bytesToId(rest, 1 + 6 * i))
      return { kind, neighbours, message1: rest.slice(1 + 6 * n) }
    }
    case LinkKind.Accept:
      return rest.byteLength === MESSAGE2_BYTES ? { kind, message2: rest.slice() } : null
    case LinkKind.Finish:
      return rest.byteLength === MESSAGE3_BYTES ? { kind, message3: rest.slice() } : null
    case LinkKind.Data:
      return rest.byteLength >= TAG_BYTES ? { kind, kindByte: bytes[0], sealed: rest } : null
    case LinkKind.Close:
      return rest.byteLength === TAG_BYTES ? { kind, sealed: rest } : null
    case LinkKind.Refuse:
      return rest.byteLength === 1 && (rest[0] === RefuseReason.Busy || rest[0] === RefuseReason.Unsupported) ? { kind, reason: rest[0] } : null
    default:
      return null
  }
}

/**
 * What a Data or Close box authenticates besides its plaintext: the header
 * fields no relay changes (frame type, kind byte with its part bits, source,
 * dest, conn, seq), so a box cannot be moved to another link, direction or
 * position, nor a part turned into a whole frame.
 */
export function linkAad(kindByte: number, source: number, dest: number, conn: number, seq: number): Uint8Array {
  const aad = new Uint8Array(22)
  aad[0] = FrameType.Link
  aad[1] = kindByte
  writeId(aad, 2, source)
  writeId(aad, 8, dest)
  const view = new DataView(aad.buffer)
  view.setUint32(14, conn >>> 0)
  view.setUint32(18, seq >>> 0)
  return aad
}

const encoder = new TextEncoder()

/** Noise's prologue for a link: both ends and the link's conn, so a relay that rewrites any of them fails the handshake. */
export function linkPrologue(opener: number, accepter: number, conn: number): Uint8Array {
  const label = encoder.encode('webrtc-explorer link v1\n')
  const out = new Uint8Array(label.byteLength + 16)
  out.set(label)
  writeId(out, label.byteLength, opener)
  writeId(out, label.byteLength + 6, accepter)
  new DataView(out.buffer).setUint32(label.byteLength + 12, conn >>> 0)
  return out
}

function withKind(kindByte: number, body: Uint8Array): Uint8Array {
  const out = new Uint8Array(1 + body.byteLength)
  out[0] = kindByte
  out.set(body, 1)
  return out
}
