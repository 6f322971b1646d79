import { interval } from 'rxjs'
import { verifySignature } from '../../src/identity'
import { formatId } from '../../src/ids'
import { createNoiseCredentials, SecureInitiator } from '../../src/noise'
import type { RoutedSocket } from '../../src/sockets'
import type { SocketSeal } from '../../src/sockets/seal'
import { MAX_CHUNK_BYTES, encodeHello, windowInFrameBytes } from '../../src/sockets/wire'
import { seededRandom } from '../../src/testnet'
import { DEFAULT_TTL, FrameFlag, FrameType, encodeFrame } from '../../src/wire/frame'
import { MAX_FRAME_BYTES } from '../../src/wire/limits'
import { inject } from './attackers'
import { connect, pattern, record, securityOf, socketRing, type SocketRing } from './helpers'

/**
 * Attacks on what a peer spends on sockets (docs/reliability.md, "Security"):
 * slots, handshakes and buffers, claimed by forged Opens, by silent sockets,
 * and by a remote that ignores the window. Memory transport, virtual time.
 */

describe('attacks on the socket limits', () => {
  let ring: SocketRing
  afterEach(() => ring.close())

  it('256 forged Opens through one neighbour, and more all along: honest dials through other neighbours still succeed 30 of 30; the forged half-open sockets expire', async () => {
    ring = socketRing(12)
    const b = 3
    const B = ring.nodes[b].id
    const neighbours = ring.nodes.flatMap((node, i) => (i !== b && node.channels.has(B) && ring.nodes[b].channels.has(node.id) ? [i] : []))
    const [n, ...honest] = neighbours
    ring.layers[b].incoming$.subscribe()
    // A real message 1 (the responder does its full share of work for each), under sources that no one proves.
    const credentials = await createNoiseCredentials(securityOf(ring.identities[n]).signer)
    const message1 = new SecureInitiator(credentials, { verify: verifySignature, expectedId: formatId(B), prologue: new Uint8Array(0) }).message1
    const open = encodeHello(windowInFrameBytes(1 << 20), message1)
    const random = seededRandom(7)
    let forged = 0
    const flood = (count: number) => {
      for (let i = 0; i < count; i++, forged++) {
        const source = Math.floor(random() * 2 ** 48)
        inject(ring.nodes[n], B, { type: FrameType.Open, flags: FrameFlag.Exact, source, dest: B, conn: forged, seq: 0, payload: open })
      }
    }
    flood(256)
    const flooding = interval(20, ring.net.scheduler).subscribe(() => flood(64))
    let peakHalfOpen = 0
    const peak = () => ((peakHalfOpen = Math.max(peakHalfOpen, ring.layers[b].resources.halfOpen)), false)
    // The flood goes on a while first: whatever it can hold, it holds when the honest dials come. (Off its
    // 20 ms beat: in virtual time a dial repeated at the very instant slots expire would always win the tie.)
    await ring.runUntil(peak, 2010)
    const dials = Array.from({ length: 30 }, (_, i) => record(ring.layers[honest[i % honest.length]].dial$(B)))
    expect(await ring.runUntil(() => peak() || dials.every((d) => d.ended))).toBe(true)
    flooding.unsubscribe()
    expect(forged).toBeGreaterThanOrEqual(256 + 100 * 64)
    expect(dials.filter((d) => d.values.length === 1).length).toBe(30)
    // The flood held no more than its neighbour's share, plus the honest dials' own.
    expect(peakHalfOpen).toBeLessThanOrEqual(ring.layers[b].options.maxHalfOpenPerNeighbour + 30)
    for (const d of dials) d.values[0].close()
    // Nobody ever proves a forged source: each half-open socket is dropped at its handshake deadline.
    expect(await ring.runUntil(() => ring.layers[b].size === 0, ring.layers[b].options.handshakeTimeoutMs + 5000)).toBe(true)
    expect(ring.layers[b].resources).toMatchObject({ sockets: 0, halfOpen: 0, limits: 0 })
  })

  it('a proven peer that opens maxSocketsPerPeer sockets and never speaks: the accepter closes them at the idle timeout, and the peer may dial again', async () => {
    ring = socketRing(6)
    const [a, b] = [1, 4]
    const accepted = record(ring.layers[b].incoming$)
    const { maxSocketsPerPeer, idleTimeoutMs } = ring.layers[b].options
    const dials = Array.from({ length: maxSocketsPerPeer }, () => record(ring.layers[a].dial$(ring.nodes[b].id)))
    expect(await ring.runUntil(() => dials.every((d) => d.ended) && accepted.values.length === maxSocketsPerPeer)).toBe(true)
    expect(ring.layers[b].size).toBe(maxSocketsPerPeer)
    // At its limit for this peer: one more is refused.
    const more = record(ring.layers[a].dial$(ring.nodes[b].id))
    expect(more.error).toBeDefined()
    const ends = dials.map((d) => record(d.values[0].data$))
    expect(await ring.runUntil(() => ring.layers[b].size === 0, idleTimeoutMs + 5000)).toBe(true)
    // Closed gracefully: the dialler's side ends too, without error.
    expect(await ring.runUntil(() => ends.every((e) => e.completed))).toBe(true)
    const again = record(ring.layers[a].dial$(ring.nodes[b].id))
    expect(await ring.runUntil(() => again.ended)).toBe(true)
    expect(again.values.length).toBe(1)
  })

  it('a proven remote that ignores the window (an unfinished message, then frames far ahead): the receiver never holds more than one window and one frame, and delivers nothing', async () => {
    ring = socketRing(6)
    const [a, b] = [1, 4]
    const { local, remote } = await connect(ring, a, b)
    const delivered = record(remote.data$)
    const capacity = windowInFrameBytes(ring.layers[b].options.windowBytes)
    // The attacker: its own socket's seal, and frames written past its sender (which would respect the window).
    const seal = (local as unknown as { seal: SocketSeal }).seal
    const conn = (remote as RoutedSocket).inConn
    const frame = (seq: number) =>
      encodeFrame({
        type: FrameType.Data, ttl: DEFAULT_TTL, flags: FrameFlag.Exact | FrameFlag.More, source: ring.nodes[a].id, dest: ring.nodes[b].id, conn, seq,
        payload: seal.sealStream(FrameType.Data, FrameFlag.Exact | FrameFlag.More, seq, pattern(MAX_CHUNK_BYTES, seq)),
      })
    // A message kept unfinished just under maxMessageBytes (seq 0 was message 3), then two windows of frames far ahead of it.
    const { maxMessageBytes } = ring.layers[b].options
    const start = Array.from({ length: Math.floor(maxMessageBytes / MAX_CHUNK_BYTES) - 1 }, (_, i) => frame(1 + i))
    const ahead = Array.from({ length: 2 * Math.ceil(capacity / MAX_FRAME_BYTES) }, (_, i) => frame(10_000 + i))
    // Counted from what the receiver actually stores (not from its own accounting, which is the defence under test).
    const receiver = (remote as unknown as { receiver: { parts: Uint8Array[]; early: Map<number, { payload: Uint8Array }> } }).receiver
    const stored = () => [...receiver.parts, ...[...receiver.early.values()].map((e) => e.payload)].reduce((sum, p) => sum + p.byteLength, 0)
    let peak = 0
    const watch = () => ((peak = Math.max(peak, stored())), false)
    for (const bytes of [...start, ...ahead]) {
      ring.nodes[a].router.sendEncoded(bytes)
      await ring.runUntil(watch, 5)
    }
    await ring.runUntil(watch, 2000)
    expect(peak).toBeGreaterThan(capacity / 2)
    expect(peak).toBeLessThanOrEqual(capacity + MAX_FRAME_BYTES)
    expect(delivered.values).toEqual([])
  })

  it('a forged Open followed by frames whose message 3 never comes: the half-open socket holds at most one window of them, delivers nothing, and is dropped at the handshake deadline', async () => {
    ring = socketRing(8)
    const b = 3
    const B = ring.nodes[b].id
    const n = ring.nodes.findIndex((node, i) => i !== b && node.channels.has(B) && ring.nodes[b].channels.has(node.id))
    const A = ring.nodes.find((_, i) => i !== b && i !== n)!.id
    const incoming = record(ring.layers[b].incoming$)
    const credentials = await createNoiseCredentials(securityOf(ring.identities[n]).signer)
    const message1 = new SecureInitiator(credentials, { verify: verifySignature, expectedId: formatId(B), prologue: new Uint8Array(0) }).message1
    const conn = 77
    const send = (type: FrameType, seq: number, payload: Uint8Array) => inject(ring.nodes[n], B, { type, flags: FrameFlag.Exact, source: A, dest: B, conn, seq, payload })
    send(FrameType.Open, 0, encodeHello(windowInFrameBytes(1 << 20), message1))
    expect(await ring.runUntil(() => ring.layers[b].resources.halfOpen === 1)).toBe(true)
    // Counted from what the half-open socket stores, not from its own accounting.
    const socket = (ring.layers[b] as unknown as { sockets: Map<number, Map<number, RoutedSocket>> }).sockets.get(A)!.get(conn)!
    const stored = () => [...((socket as unknown as { held: { frames: Map<number, { payload: Uint8Array }> } | null }).held?.frames.values() ?? [])].reduce((sum, f) => sum + f.payload.byteLength, 0)
    const capacity = windowInFrameBytes(ring.layers[b].options.windowBytes)
    for (let seq = 1; seq <= 2 * Math.ceil(capacity / MAX_FRAME_BYTES); seq++) send(FrameType.Data, seq, pattern(MAX_CHUNK_BYTES + 16, seq))
    await ring.run(100)
    expect(stored()).toBeGreaterThan(capacity / 2)
    expect(stored()).toBeLessThanOrEqual(capacity)
    expect(await ring.runUntil(() => ring.layers[b].size === 0, ring.layers[b].options.handshakeTimeoutMs + 1000)).toBe(true)
    expect(incoming.values.length).toBe(0)
    expect(ring.layers[b].resources).toMatchObject({ sockets: 0, halfOpen: 0, limits: 0 })
  })
})
