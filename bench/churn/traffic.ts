/**
 * Frames counted by kind as they leave a peer (every hop counts once, like
 * MemoryNetworkStats.framesSent), split into the simulation's own lookups and
 * everything else (ring maintenance, joins, overlay signalling).
 */
import { bytesToId } from '../../src/ids'
import { RingOp } from '../../src/ring/messages'
import { FrameFlag, FrameType, HEADER_BYTES } from '../../src/wire/frame'

export const RING_OP_NAMES: Record<number, string> = {
  [RingOp.FindSuccessor]: 'findSuccessor',
  [RingOp.Found]: 'found',
  [RingOp.GetState]: 'getState',
  [RingOp.State]: 'state',
  [RingOp.Notify]: 'notify',
  [RingOp.Hello]: 'hello',
  [RingOp.Hint]: 'hint',
}

/** Where a Ring frame's message starts, past its route record or source route. */
function ringMessageAt(frame: Uint8Array): number {
  const flags = frame[3]
  let at = HEADER_BYTES
  if (flags & FrameFlag.Routed) at += 2 + 6 * frame[at]
  else if (flags & FrameFlag.Traced) at += 1 + 6 * frame[at]
  return at
}

/** The ring op of a Ring frame. */
export const ringOpOf = (frame: Uint8Array): number => frame[ringMessageAt(frame)]

export interface KindCount {
  frames: number
  bytes: number
}

/** What the tap learns about one of our lookups while its frames travel. */
export interface LookupTrace {
  readonly origin: number
  readonly key: number
  /** The rpc's conn of each attempt, from the request's first frame (the reply carries it back). */
  conns: number[]
  requestFrames: number
  replyFrames: number
  /** A request (or reply) frame was sent over a channel whose remote had crashed: it was lost. */
  requestToDead: boolean
  replyToDead: boolean
  /** What the last peer the request was sent to looked like as it was sent (see TrafficCounter's `describe`). */
  lastHopState: string
  /** How long the first crashed peer a frame of this lookup was sent to had been dead, ms (-1: none). */
  deadHopAgeMs: number
}

export class TrafficCounter {
  /** Frames that are not our lookups, by kind (ring op name, 'signal', or 'type<n>'). */
  readonly maintenance = new Map<string, KindCount>()
  readonly lookups: KindCount = { frames: 0, bytes: 0 }
  private counting = false
  /** Our lookups in flight (and for a while after they settle: late frames are still theirs), by key and by conn. */
  private readonly byKey = new Map<number, LookupTrace>()
  private readonly byConn = new Map<number, LookupTrace>()

  /** `deadFor(id)`: how long ago peer `id` crashed, in ms, or null while it is live. */
  constructor(
    private readonly deadFor: (id: number) => number | null,
    /** A word on a live peer's state, kept for the last hop of each lookup request. */
    private readonly describe: (id: number) => string = () => '',
  ) {}

  /** Starts (or restarts) counting from zero. */
  start(): void {
    this.counting = true
    this.maintenance.clear()
    this.lookups.frames = 0
    this.lookups.bytes = 0
  }

  track(origin: number, key: number): LookupTrace {
    const trace: LookupTrace = { origin, key, conns: [], requestFrames: 0, replyFrames: 0, requestToDead: false, replyToDead: false, deadHopAgeMs: -1, lastHopState: '' }
    this.byKey.set(key, trace)
    return trace
  }

  /** Forgets traces of lookups that settled (call with the ones done long enough ago that no frame of theirs is still travelling). */
  forget(trace: LookupTrace): void {
    if (this.byKey.get(trace.key) === trace) this.byKey.delete(trace.key)
    for (const conn of trace.conns) if (this.byConn.get(conn) === trace) this.byConn.delete(conn)
  }

  get tracked(): number {
    return this.byKey.size
  }

  /** The FrameTap: classify one frame leaving `from` for neighbour `to`. */
  readonly tap = (from: number, to: number, frame: Uint8Array): void => {
    if (!this.counting) return
    const type = frame[1]
    let kind: string
    if (type === FrameType.Ring) {
      const op = ringOpOf(frame)
      if (op === RingOp.FindSuccessor && this.ours(from, to, frame, true)) return
      if (op === RingOp.Found && this.ours(from, to, frame, false)) return
      kind = RING_OP_NAMES[op] ?? `ringOp${op}`
    } else if (type === FrameType.Signal) kind = 'signal'
    else kind = `type${type}`
    let count = this.maintenance.get(kind)
    if (count === undefined) this.maintenance.set(kind, (count = { frames: 0, bytes: 0 }))
    count.frames++
    count.bytes += frame.byteLength
  }

  /** Whether a FindSuccessor (request) or Found (reply) frame belongs to one of our lookups; if so, count it there. */
  private ours(from: number, to: number, frame: Uint8Array, request: boolean): boolean {
    const conn = ((frame[16] << 24) | (frame[17] << 16) | (frame[18] << 8) | frame[19]) >>> 0
    let trace: LookupTrace | undefined
    if (request) {
      // A request names its key (its dest may be a waypoint before it) and comes from the asker.
      trace = this.byKey.get(bytesToId(frame, ringMessageAt(frame) + 1))
      if (trace === undefined || trace.origin !== bytesToId(frame, 4)) return false
      if (!trace.conns.includes(conn)) {
        // A new attempt leaves from the asker itself.
        if (from !== trace.origin) return false
        trace.conns.push(conn)
        this.byConn.set(conn, trace)
      }
      trace.requestFrames++
      if (this.sentToDead(trace, to)) trace.requestToDead = true
      else trace.lastHopState = this.describe(to)
    } else {
      // The reply is addressed to the asker and carries the request's conn.
      trace = this.byConn.get(conn)
      if (trace === undefined || trace.origin !== bytesToId(frame, 10)) return false
      trace.replyFrames++
      if (this.sentToDead(trace, to)) trace.replyToDead = true
    }
    this.lookups.frames++
    this.lookups.bytes += frame.byteLength
    return true
  }

  private sentToDead(trace: LookupTrace, to: number): boolean {
    const age = this.deadFor(to)
    if (age === null) return false
    if (trace.deadHopAgeMs < 0) trace.deadHopAgeMs = age
    return true
  }

  maintenanceTotal(): KindCount {
    let frames = 0
    let bytes = 0
    for (const c of this.maintenance.values()) {
      frames += c.frames
      bytes += c.bytes
    }
    return { frames, bytes }
  }
}
