import { Subject } from 'rxjs'
import type { Identity } from '../../src/identity'
import type { RingNode } from '../../src/ring/node'
import type { InboundHandler } from '../../src/router/channel-set'
import type { LocalFrame, Router } from '../../src/router/router'
import { SocketLayer } from '../../src/sockets'
import type { VirtualScheduler } from '../../src/scheduler/virtual-scheduler'
import { DEFAULT_TTL, FrameType, encodeFrame, type Frame } from '../../src/wire/frame'
import { inspectInbound } from '../../src/wire/inbound'
import { securityOf } from './helpers'

/**
 * Attackers built from the library's own code with one thing changed: a
 * peer that keeps frames it should forward, or writes frames with someone
 * else's source. Tests only.
 */

export const SOCKET_TYPES = [FrameType.Open, FrameType.Accept, FrameType.Data, FrameType.Ack, FrameType.Close, FrameType.Refuse]

/** Sends `frame` from `node` straight over its channel to the neighbour `to`, whatever source it claims. */
export function inject(node: RingNode, to: number, frame: Omit<Frame, 'ttl'>): void {
  const channel = node.channels.channel(to)
  if (channel === undefined) throw new Error('inject: no channel to that neighbour')
  channel.send(encodeFrame({ ...frame, ttl: DEFAULT_TTL }))
}

/**
 * From now on, socket frames `node` receives for `dest` (to forward them, or
 * as their owner) go to `take` instead of its router. Returns the undo.
 */
export function intercept(node: RingNode, dest: number, take: (frame: LocalFrame) => void): () => void {
  const original = (node.channels as unknown as { handler: InboundHandler }).handler
  node.channels.onInbound((from, bytes) => {
    const inspected = inspectInbound(bytes)
    if (inspected.ok && inspected.frame.dest === dest && SOCKET_TYPES.includes(inspected.frame.type)) {
      return take({ ...inspected.frame, from, hops: 0, unreachable: false, path: null })
    }
    original(from, bytes)
  })
  return () => node.channels.onInbound(original)
}

/**
 * A socket layer on `node` that claims to be `claimed`: its frames carry that
 * id as their source, but its handshakes can only prove `identity` (the
 * node's own key). Feed it the frames it should answer (see `intercept`).
 */
export function impostor(node: RingNode, identity: Identity, claimed: number, scheduler: VirtualScheduler): { layer: SocketLayer; feed: (frame: LocalFrame) => void } {
  const frames = new Subject<LocalFrame>()
  const router = {
    frames$: () => frames.asObservable(),
    send: (frame: Omit<Frame, 'ttl' | 'source'>) => node.router.sendEncoded(encodeFrame({ ...frame, ttl: DEFAULT_TTL, source: claimed })),
    sendEncoded: (bytes: Uint8Array) => node.router.sendEncoded(bytes),
    rejectPayload: () => undefined,
  } as unknown as Router
  const layer = new SocketLayer({ id: claimed, router, channels: node.channels, scheduler, security: securityOf(identity), isListening: () => true })
  return { layer, feed: (frame) => frames.next(frame) }
}
