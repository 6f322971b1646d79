import { Observable, ReplaySubject } from 'rxjs'
import { modelledProver } from '../../src/identity/signal-proof'
import { RingNode } from '../../src/ring/node'
import { RingMessage, RingOp, decodeRingMessage, encodeRingMessage } from '../../src/ring/messages'
import { VirtualScheduler } from '../../src/scheduler/virtual-scheduler'
import { seededRandom } from '../../src/testnet'
import { MemoryNetwork } from '../../src/transport/memory'
import type { Channel, SignalPort } from '../../src/transport/types'
import { DEFAULT_TTL, Frame, FrameFlag, FrameType, decodeFrame, encodeFrame } from '../../src/wire/frame'
import { readRoute, readSourceRoute } from '../../src/wire/route-record'
import type { RingOptions } from '../../src/ring/options'

export const TIMING = { stabilizeMs: 1000, fixFingersMs: 1000, rpcTimeoutMs: 4000, connectTimeoutMs: 15_000 }

/** A virtual-time world with a memory network (1 ms links), and ring nodes in it. */
export function world(seed = 1) {
  const scheduler = new VirtualScheduler()
  const random = seededRandom(seed)
  const network = new MemoryNetwork({ scheduler, latencyMs: 1, random })
  const node = (id: number, over: Partial<Omit<RingOptions, 'id' | 'transport'>> = {}) =>
    new RingNode({ id, transport: network.transport(id), scheduler, random, prover: modelledProver(id), ...TIMING, ...over })
  return { scheduler, network, random, node }
}

/**
 * What the signalling server does at join: a channel between a newcomer and
 * a host, over a pair of in-process signal pipes. The host's end goes to
 * `onHostEnd` (a RingNode adds it to its channels); the joiner's end is emitted.
 */
export function rendezvous(network: MemoryNetwork, joinerId: number, hostId: number, onHostEnd: (channel: Channel) => void): Observable<Channel> {
  const toHost = new ReplaySubject<unknown>()
  const toJoiner = new ReplaySubject<unknown>()
  const joinerPort: SignalPort = { signals$: toJoiner, send: (s) => toHost.next(s) }
  const hostPort: SignalPort = { signals$: toHost, send: (s) => toJoiner.next(s) }
  const result = new ReplaySubject<Channel>(1)
  network.transport(joinerId).connect(hostId, joinerPort).subscribe({ next: (ch) => result.next(ch), error: (e) => result.error(e) })
  network.transport(hostId).accept(joinerId, hostPort).subscribe({ next: onHostEnd })
  return result
}

/** Joins `host` as a RingNode: the host end is adopted by the host node. */
export const bootstrapChannel = (network: MemoryNetwork, joiner: number, host: RingNode, tapHost: (ch: Channel) => Channel = (ch) => ch) =>
  rendezvous(network, joiner, host.id, (ch) => host.channels.add(tapHost(ch), joiner))

/** A channel that reports every ring message it sends, with the virtual time. */
export function tapRing(channel: Channel, now: () => number, seen: { time: number; message: RingMessage }[]): Channel {
  return {
    remoteId: channel.remoteId,
    get frames$() {
      return channel.frames$
    },
    get bufferedAmount() {
      return channel.bufferedAmount
    },
    get isOpen() {
      return channel.isOpen
    },
    drained: () => channel.drained(),
    close: () => channel.close(),
    send(bytes: Uint8Array) {
      const frame = decodeFrame(bytes)
      if (frame.type === FrameType.Ring) {
        try {
          seen.push({ time: now(), message: decodeRingMessage(frame.payload) })
        } catch {
          // traced ring frames start with a route record: not counted here
        }
      }
      return channel.send(bytes)
    },
  }
}

/**
 * A hand-driven peer at the far end of a raw channel: it speaks ring messages
 * only when told to, so a RingNode can be observed facing a peer that goes silent.
 */
export class ScriptedPeer {
  readonly received: RingMessage[] = []
  answerGetState: ((message: RingMessage) => RingMessage | null) | null = null

  constructor(
    readonly id: number,
    readonly channel: Channel,
  ) {
    channel.frames$.subscribe((bytes) => {
      const frame = decodeFrame(bytes)
      if (frame.type !== FrameType.Ring) return
      const message = decodeRingMessage(frame.payload)
      this.received.push(message)
      if (message.op === RingOp.GetState && this.answerGetState) {
        const answer = this.answerGetState(message)
        if (answer) this.send(answer, frame.conn)
      }
    })
  }

  send(message: RingMessage, conn = 0): void {
    this.channel.send(
      encodeFrame({ type: FrameType.Ring, ttl: DEFAULT_TTL, flags: FrameFlag.Exact, source: this.id, dest: this.channel.remoteId, conn, seq: 0, payload: encodeRingMessage(message) }),
    )
  }
}

/** The ring message of a Ring frame, after the route record that source-routed or traced frames carry first. */
export function ringMessageOf(frame: Frame): RingMessage {
  const payload =
    frame.flags & FrameFlag.Routed ? readSourceRoute(frame.payload).rest : frame.flags & FrameFlag.Traced ? readRoute(frame.payload).rest : frame.payload
  return decodeRingMessage(payload)
}
