import { copyBytes } from '../../wire/bytes'
import type { Exchange, Region } from './exchange'

/**
 * What one partition tells another, written straight into the exchange's
 * shared regions: numbers as float64 (ids are 48-bit, times fractional).
 *
 * Timed messages (frames, closes, crashes, relayed signals) take effect at
 * their `at`, never earlier than one link latency after they were sent:
 * that lookahead is what lets the partitions run a window apart. The others
 * (pairs, registry news) only change state, and apply as soon as they are read.
 */
export enum PartitionMessage {
  /** A frame on a channel whose far end lives there. */
  Frame = 1,
  /** The sending end closed: the far end closes at `at`. */
  Closed = 2,
  /** The sending end's peer crashed: the far end drops what is in flight now and closes at `at`. */
  Crashed = 3,
  /** An offer made there was answered here: make the connector's end of `channel`. */
  Pair = 4,
  /** A signal the join server relays between two peers (the rendezvous of a join or a hint). */
  Signal = 5,
  /** A peer finished joining: the server's registry lists it. */
  Registered = 6,
  /** A registered peer's readiness to bootstrap others (joined, with a predecessor) changed. */
  Ready = 7,
}

export interface PartitionInbox {
  frame(channel: number, at: number, bytes: Uint8Array): void
  closed(channel: number, at: number): void
  crashed(channel: number, at: number): void
  pair(token: number, channel: number, from: number, to: number): void
  signal(session: number, from: number, to: number, at: number, signal: unknown): void
  registered(id: number): void
  ready(id: number, ready: boolean): void
}

const encoder = new TextEncoder()
const decoder = new TextDecoder()

/** Writes messages to other partitions for the current window. */
export class PartitionOutbox {
  private readonly writer = new Writer()

  constructor(private readonly exchange: Exchange) {}

  frame(to: number, channel: number, at: number, bytes: Uint8Array): void {
    const w = this.begin(to, PartitionMessage.Frame, 21 + bytes.byteLength, at)
    w.f64(channel).f64(at).u32(bytes.byteLength).bytes(bytes)
  }

  closed(to: number, channel: number, at: number): void {
    this.begin(to, PartitionMessage.Closed, 17, at).f64(channel).f64(at)
  }

  crashed(to: number, channel: number, at: number): void {
    this.begin(to, PartitionMessage.Crashed, 17, at).f64(channel).f64(at)
  }

  pair(to: number, token: number, channel: number, from: number, connectorTo: number): void {
    this.begin(to, PartitionMessage.Pair, 33, Infinity).f64(token).f64(channel).f64(from).f64(connectorTo)
  }

  signal(to: number, session: number, from: number, peer: number, at: number, signal: unknown): void {
    const json = encoder.encode(JSON.stringify(signal))
    this.begin(to, PartitionMessage.Signal, 37 + json.byteLength, at).f64(session).f64(from).f64(peer).f64(at).u32(json.byteLength).bytes(json)
  }

  registered(to: number, id: number): void {
    this.begin(to, PartitionMessage.Registered, 9, Infinity).f64(id)
  }

  ready(to: number, id: number, ready: boolean): void {
    this.begin(to, PartitionMessage.Ready, 10, Infinity).f64(id).u8(ready ? 1 : 0)
  }

  private begin(to: number, kind: PartitionMessage, bytes: number, at: number): Writer {
    const { region, offset } = this.exchange.reserve(to, bytes, at)
    return this.writer.at(region, offset).u8(kind)
  }
}

/** Hands every message in `bytes` (one partition's output for us) to `inbox`, in the order written. */
export function readPartitionMessages(bytes: Uint8Array, inbox: PartitionInbox): void {
  const r = new Reader(bytes)
  while (r.more()) {
    const kind = r.u8() as PartitionMessage
    switch (kind) {
      case PartitionMessage.Frame: {
        const channel = r.f64()
        const at = r.f64()
        inbox.frame(channel, at, r.copy(r.u32()))
        break
      }
      case PartitionMessage.Closed:
        inbox.closed(r.f64(), r.f64())
        break
      case PartitionMessage.Crashed:
        inbox.crashed(r.f64(), r.f64())
        break
      case PartitionMessage.Pair:
        inbox.pair(r.f64(), r.f64(), r.f64(), r.f64())
        break
      case PartitionMessage.Signal: {
        const session = r.f64()
        const from = r.f64()
        const peer = r.f64()
        const at = r.f64()
        inbox.signal(session, from, peer, at, JSON.parse(decoder.decode(r.copy(r.u32()))))
        break
      }
      case PartitionMessage.Registered:
        inbox.registered(r.f64())
        break
      case PartitionMessage.Ready:
        inbox.ready(r.f64(), r.u8() === 1)
        break
      default:
        throw new Error(`unknown partition message ${kind as number}`)
    }
  }
}

/** Reused for every message: one object per outbox, not one per message. */
class Writer {
  private region: Region | null = null
  private offset = 0
  at(region: Region, offset: number): this {
    this.region = region
    this.offset = offset
    return this
  }
  private get view(): DataView {
    return this.region!.view
  }
  u8(value: number): this {
    this.view.setUint8(this.offset++, value)
    return this
  }
  u32(value: number): this {
    this.view.setUint32(this.offset, value)
    this.offset += 4
    return this
  }
  f64(value: number): this {
    this.view.setFloat64(this.offset, value)
    this.offset += 8
    return this
  }
  bytes(bytes: Uint8Array): this {
    this.region!.bytes.set(bytes, this.offset)
    this.offset += bytes.byteLength
    return this
  }
}

class Reader {
  private readonly view: DataView
  private offset = 0
  constructor(private readonly bytes: Uint8Array) {
    this.view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength)
  }
  more(): boolean {
    return this.offset < this.bytes.byteLength
  }
  u8(): number {
    return this.view.getUint8(this.offset++)
  }
  u32(): number {
    const value = this.view.getUint32(this.offset)
    this.offset += 4
    return value
  }
  f64(): number {
    const value = this.view.getFloat64(this.offset)
    this.offset += 8
    return value
  }
  /** The next `length` bytes, copied out of the shared region (it is rewritten two windows later). */
  copy(length: number): Uint8Array {
    const bytes = copyBytes(this.bytes.subarray(this.offset, this.offset + length))
    this.offset += length
    return bytes
  }
}
