import { ExplorerError } from '../errors'
import type { ClaimProof } from '../identity/claim-proof'
import { PUBLIC_KEY_BYTES, SIGNATURE_BYTES } from '../identity/ed25519'
import { bytesToId, writeId } from '../ids'
import { allocBytes, copyBytes } from '../wire/bytes'

/**
 * Ring maintenance messages: the payload of `FrameType.Ring` frames.
 * Binary and tiny: these are most of the overlay's background traffic.
 * Request and reply share the frame's `conn` field as correlation id.
 */
export enum RingOp {
  /**
   * Who owns `key`? Routed (traced) to the owner of the frame's dest: the key
   * itself, or a waypoint before it whose owner passes the request on toward
   * the key (src/ring/lookup-answers.ts). Carries the asker's nonce; may carry
   * an open channel offer for the owner.
   */
  FindSuccessor = 1,
  /**
   * The owner's answer: its signed claim (key, owner, its predecessor, the
   * nonce: src/identity/claim-proof.ts), the hops the request took and its
   * path (a route to the owner); and its answer to the offer, if it took it.
   */
  Found = 2,
  /** Stabilize: ask a successor for its predecessor and successor list. */
  GetState = 3,
  State = 4,
  /** "I might be your predecessor." */
  Notify = 5,
  /** First frame on every channel, and again on joining: tells the remote whether it may route through us. */
  Hello = 6,
  /** "Your successor is stale: this peer sits between you and me." Sent when we had to step your frame back. */
  Hint = 7,
}

/**
 * A channel offer riding on a lookup (see OverlaySignalling.openOffer$): the
 * asker's signalling session and its first Signal envelope, opaque here.
 */
export interface CarriedOffer {
  session: number
  envelope: Uint8Array
}

export type RingMessage =
  | { op: RingOp.FindSuccessor; key: number; nonce: number; offer?: CarriedOffer }
  | { op: RingOp.Found; hops: number; owner: number; predecessor: number | null; proof: ClaimProof; path: number[]; answer?: Uint8Array }
  | { op: RingOp.GetState }
  | { op: RingOp.State; predecessor: number | null; successors: readonly number[] }
  | { op: RingOp.Notify }
  | { op: RingOp.Hello; joined: boolean }
  | { op: RingOp.Hint; candidate: number }

/** Id lists (successors, paths) longer than this are refused: bounds what a hostile peer can make us store. */
export const MAX_LISTED_SUCCESSORS = 64

export function encodeRingMessage(message: RingMessage): Uint8Array {
  switch (message.op) {
    case RingOp.Found: {
      const { proof } = message
      if (proof.key.length !== PUBLIC_KEY_BYTES || proof.signature.length !== SIGNATURE_BYTES) throw bad('a claim proof is a 32-byte key and a 64-byte signature')
      const head = withOptionalId([message.op, message.hops, 0, 0, 0, 0, 0, 0], message.predecessor)
      writeId(head, 2, message.owner)
      const found = withIds(concatBytes(concatBytes(head, proof.key), proof.signature), message.path)
      return message.answer === undefined ? found : concatBytes(found, message.answer)
    }
    case RingOp.FindSuccessor: {
      const head = new Uint8Array(message.offer === undefined ? 13 : 17)
      head[0] = message.op
      writeId(head, 1, message.key)
      writeId(head, 7, message.nonce)
      if (message.offer === undefined) return head
      new DataView(head.buffer).setUint32(13, message.offer.session)
      return concatBytes(head, message.offer.envelope)
    }
    case RingOp.State:
      return withIds(withOptionalId([message.op], message.predecessor), message.successors)
    case RingOp.GetState:
    case RingOp.Notify:
      return Uint8Array.of(message.op)
    case RingOp.Hello:
      return Uint8Array.of(message.op, message.joined ? 1 : 0)
    case RingOp.Hint:
      return withOptionalId([message.op], message.candidate)
  }
}

export function decodeRingMessage(bytes: Uint8Array): RingMessage {
  const reader = new Reader(bytes)
  const op = reader.u8()
  let message: RingMessage
  switch (op) {
    case RingOp.Found: {
      const hops = reader.u8()
      const owner = reader.id()
      const predecessor = reader.optionalId()
      const proof = { key: reader.take(PUBLIC_KEY_BYTES), signature: reader.take(SIGNATURE_BYTES) }
      message = { op, hops, owner, predecessor, proof, path: reader.ids() }
      if (reader.remaining > 0) message.answer = reader.rest()
      break
    }
    case RingOp.FindSuccessor: {
      const key = reader.id()
      const nonce = reader.id()
      message = reader.remaining === 0 ? { op, key, nonce } : { op, key, nonce, offer: { session: reader.u32(), envelope: reader.rest() } }
      if (message.offer?.envelope.length === 0) throw bad('carried offer without a signal')
      break
    }
    case RingOp.State:
      message = { op, predecessor: reader.optionalId(), successors: reader.ids() }
      break
    case RingOp.GetState:
    case RingOp.Notify:
      message = { op }
      break
    case RingOp.Hello:
      message = { op, joined: reader.u8() === 1 }
      break
    case RingOp.Hint: {
      const candidate = reader.optionalId()
      if (candidate === null) throw bad('hint without a candidate')
      message = { op, candidate }
      break
    }
    default:
      throw bad(`unknown ring op ${op}`)
  }
  reader.end()
  return message
}

function concatBytes(a: Uint8Array, b: Uint8Array): Uint8Array {
  const bytes = allocBytes(a.length + b.length)
  bytes.set(a)
  bytes.set(b, a.length)
  return bytes
}

function withOptionalId(head: number[], id: number | null): Uint8Array {
  const bytes = new Uint8Array(head.length + 1 + (id === null ? 0 : 6))
  bytes.set(head)
  bytes[head.length] = id === null ? 0 : 1
  if (id !== null) writeId(bytes, head.length + 1, id)
  return bytes
}

function withIds(head: Uint8Array, ids: readonly number[]): Uint8Array {
  const list = ids.slice(0, MAX_LISTED_SUCCESSORS)
  const bytes = allocBytes(head.length + 1 + 6 * list.length)
  bytes.set(head)
  bytes[head.length] = list.length
  for (let i = 0; i < list.length; i++) writeId(bytes, head.length + 1 + 6 * i, list[i])
  return bytes
}

class Reader {
  private offset = 0
  constructor(private readonly bytes: Uint8Array) {}

  get remaining(): number {
    return this.bytes.length - this.offset
  }

  /** Everything left (a copy: the frame's buffer is not ours to keep). */
  rest(): Uint8Array {
    const rest = copyBytes(this.bytes.subarray(this.offset))
    this.offset = this.bytes.length
    return rest
  }

  /** The next `length` bytes (a copy). */
  take(length: number): Uint8Array {
    if (this.offset + length > this.bytes.length) throw bad('ring message truncated inside a proof')
    const out = this.bytes.slice(this.offset, this.offset + length)
    this.offset += length
    return out
  }

  u32(): number {
    if (this.offset + 4 > this.bytes.length) throw bad('ring message truncated inside a u32')
    const value = new DataView(this.bytes.buffer, this.bytes.byteOffset + this.offset, 4).getUint32(0)
    this.offset += 4
    return value
  }

  u8(): number {
    if (this.offset >= this.bytes.length) throw bad('ring message truncated')
    return this.bytes[this.offset++]
  }

  id(): number {
    if (this.offset + 6 > this.bytes.length) throw bad('ring message truncated inside an id')
    const id = bytesToId(this.bytes, this.offset)
    this.offset += 6
    return id
  }

  optionalId(): number | null {
    const present = this.u8()
    if (present > 1) throw bad(`bad optional-id marker ${present}`)
    return present === 1 ? this.id() : null
  }

  ids(): number[] {
    const count = this.u8()
    if (count > MAX_LISTED_SUCCESSORS) throw bad(`id list of ${count} exceeds ${MAX_LISTED_SUCCESSORS}`)
    const ids: number[] = []
    for (let i = 0; i < count; i++) ids.push(this.id())
    return ids
  }

  end(): void {
    if (this.offset !== this.bytes.length) throw bad(`${this.bytes.length - this.offset} trailing bytes after ring message`)
  }
}

const bad = (message: string) => new ExplorerError('BAD_FRAME', message)
