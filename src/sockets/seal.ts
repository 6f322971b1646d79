import { utf8ToBytes } from '@noble/hashes/utils'
import { writeId } from '../ids'
import { CONTROL_COUNTER_BASE, counterFromWireSeq, type SecureSession } from '../noise'
import { FRAME_VERSION, FrameFlag, FrameType } from '../wire/frame'
import { CONTROL_SEAL_BYTES, controlPayload, splitControl } from './wire'

/** The header fields of one direction of a socket (its frames all carry them). */
export interface Direction {
  source: number
  dest: number
  conn: number
}

const PROLOGUE_LABEL = utf8ToBytes('webrtc-explorer socket v1')

/**
 * What both ends of a socket know before the handshake and bind into it
 * (Noise's prologue): a relay that rewrites the dialler's id, the dialled id
 * or the connection number makes the handshake fail.
 */
export function socketPrologue(dialler: number, dialled: number, conn: number): Uint8Array {
  const bytes = new Uint8Array(PROLOGUE_LABEL.byteLength + 16)
  bytes.set(PROLOGUE_LABEL)
  writeId(bytes, PROLOGUE_LABEL.byteLength, dialler)
  writeId(bytes, PROLOGUE_LABEL.byteLength + 6, dialled)
  new DataView(bytes.buffer).setUint32(PROLOGUE_LABEL.byteLength + 12, conn)
  return bytes
}

/** Flags a relay never changes (routers set Final, Back and the route flags, and rewrite ttl). */
const FIXED_FLAGS = FrameFlag.More | FrameFlag.Exact

/**
 * The associated data of a sealed frame: the header fields relays never
 * change (version, type, More and Exact, source, dest, conn, seq), then a
 * control frame's clear body. A frame cannot be moved to another socket,
 * direction, position or type, nor its flags or body altered.
 */
function frameAad(type: FrameType, flags: number, d: Direction, seq: number, body?: Uint8Array): Uint8Array {
  const aad = new Uint8Array(23 + (body?.byteLength ?? 0))
  aad[0] = FRAME_VERSION
  aad[1] = type
  aad[2] = flags & FIXED_FLAGS
  writeId(aad, 3, d.source)
  writeId(aad, 9, d.dest)
  const view = new DataView(aad.buffer)
  view.setUint32(15, d.conn)
  view.setUint32(19, seq)
  if (body) aad.set(body, 23)
  return aad
}

const EMPTY = new Uint8Array(0)

/**
 * One socket's frame boxes after its handshake. Stream frames (Data, Close)
 * are sealed under their 64-bit position, recovered from the u32 seq; a
 * frame is sealed once, when the sender encodes it, and resent as sealed.
 * Control frames (Ack, Refuse) carry a number of their own, from the
 * session's control range, and authenticate their clear body.
 * Every open throws AUTH_FAILED when the frame is not authentic.
 */
export class SocketSeal {
  private controlOut = 0

  constructor(
    readonly session: SecureSession,
    private readonly out: Direction,
    private readonly in_: Direction,
  ) {}

  sealStream(type: FrameType, flags: number, seq: number, plaintext: Uint8Array): Uint8Array {
    const counter = counterFromWireSeq(seq, this.session.sealer.nextCounter)
    return this.session.sealer.seal(counter, frameAad(type, flags, this.out, seq), plaintext)
  }

  /** `counter`: the frame's position, recovered by the receiver from its seq. */
  openStream(type: FrameType, flags: number, seq: number, counter: number, sealed: Uint8Array): Uint8Array {
    return this.session.opener.open(counter, frameAad(type, flags, this.in_, seq), sealed)
  }

  /** The payload of a sealed control frame: body ‖ number ‖ tag. */
  sealControl(type: FrameType, seq: number, body: Uint8Array): Uint8Array {
    const number = ++this.controlOut
    const tag = this.session.controlSealer.seal(CONTROL_COUNTER_BASE + number, frameAad(type, FrameFlag.Exact, this.out, seq, body), EMPTY)
    return controlPayload(body, number, tag)
  }

  /** The body and number of an authentic control frame. */
  openControl(type: FrameType, flags: number, seq: number, payload: Uint8Array): { body: Uint8Array; number: number } {
    const { body, number, tag } = splitControl(payload, payload.byteLength - CONTROL_SEAL_BYTES)
    this.session.controlOpener.open(CONTROL_COUNTER_BASE + number, frameAad(type, flags, this.in_, seq, body), tag)
    return { body, number }
  }
}
