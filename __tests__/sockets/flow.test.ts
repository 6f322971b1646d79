import { isExplorerError } from '../../src/errors'
import type { RoutedSocket } from '../../src/sockets'
import { RefuseReason } from '../../src/sockets/wire'
import { FrameType, HEADER_BYTES } from '../../src/wire/frame'
import { MAX_FRAME_BYTES } from '../../src/wire/limits'
import { connect, equalBytes, pattern, record, socketRing, type SocketRing } from './helpers'

const WINDOW = 256 * 1024


/** Sum of every channel's queue on every peer: what the overlay holds in flight. */
const queuedInOverlay = (ring: SocketRing): number =>
  ring.nodes.reduce((sum, node) => sum + node.channels.remotes().reduce((s, r) => s + (node.channels.channel(r)?.bufferedAmount ?? 0), 0), 0)

describe('flow control (virtual time)', () => {
  let ring: SocketRing
  afterEach(() => ring.close())

  it('a reader that does not read stops the sender at one window; reading releases the rest, in order', async () => {
    ring = socketRing(10, { windowBytes: WINDOW })
    const { local, remote } = await connect(ring, 0, 7)
    // Distinct frames that reached the reader (window probes and retransmissions repeat some).
    const arrived = new Map<number, number>()
    ring.nodes[7].router.frames$(FrameType.Data).subscribe((f) => arrived.set(f.seq, HEADER_BYTES + f.payload.byteLength))
    const arrivedBytes = () => [...arrived.values()].reduce((a, b) => a + b, 0)
    const sent = Array.from({ length: 64 }, (_, i) => pattern(64 * 1024, i))
    for (const m of sent) local.send(m)
    // Far longer than every retransmission timeout together: a slow reader is not a dead one.
    await ring.run(120_000)
    // The window, plus at most the rest of one message taken in by probes.
    expect(arrivedBytes()).toBeLessThanOrEqual(WINDOW + 64 * 1024 + 5 * HEADER_BYTES)
    expect(arrivedBytes()).toBeGreaterThanOrEqual(WINDOW - MAX_FRAME_BYTES)
    expect(local.bufferedAmount).toBeGreaterThan(3 * 1024 * 1024)
    const got = record(remote.data$)
    expect(await ring.runUntil(() => got.values.length === sent.length)).toBe(true)
    got.values.forEach((m, i) => expect(equalBytes(m, sent[i])).toBe(true))
    expect(got.error).toBeUndefined()
    expect(local.bufferedAmount).toBe(0)
  })

  it('keeps what the overlay holds for a socket within its window on a multi-hop path', async () => {
    ring = socketRing(16, { windowBytes: WINDOW }, { latencyMs: 3 })
    const { local, remote } = await connect(ring, 1, 11)
    const got = record(remote.data$)
    for (let i = 0; i < 32; i++) local.send(pattern(256 * 1024, i))
    let peak = 0
    await ring.runUntil(() => {
      peak = Math.max(peak, queuedInOverlay(ring))
      return got.values.length === 32
    })
    expect(got.values).toHaveLength(32)
    // Data in flight plus a few acks; without the window all 8 MiB would sit in the first channel.
    expect(peak).toBeGreaterThan(WINDOW / 2)
    expect(peak).toBeLessThanOrEqual(WINDOW + 4 * MAX_FRAME_BYTES)
  })

  it('pauses while a local channel is over its high-water mark', async () => {
    ring = socketRing(8, { channelHighWaterMark: 64 * 1024 }, { latencyMs: 20 })
    const { local, remote } = await connect(ring, 0, 3)
    const got = record(remote.data$)
    for (let i = 0; i < 16; i++) local.send(pattern(128 * 1024, i))
    let peak = 0
    await ring.runUntil(() => {
      for (const r of ring.nodes[0].channels.remotes()) peak = Math.max(peak, ring.nodes[0].channels.channel(r)!.bufferedAmount)
      return got.values.length === 16
    })
    expect(got.values).toHaveLength(16)
    // One pump's worth past the mark at most (the check runs before each burst).
    expect(peak).toBeLessThanOrEqual(64 * 1024 + 1024 * 1024)
    expect(peak).toBeGreaterThan(64 * 1024)
  })

  it('a message over the receiver’s maxMessageBytes closes the socket on both sides with MESSAGE_TOO_BIG', async () => {
    ring = socketRing(8, (i) => (i === 4 ? { maxMessageBytes: 64 * 1024 } : {}))
    const { local, remote } = await connect(ring, 0, 4)
    const got = record(remote.data$)
    const back = record(local.data$)
    local.send(pattern(1000, 1))
    local.send(pattern(100 * 1024, 2))
    expect(await ring.runUntil(() => got.ended && back.ended)).toBe(true)
    expect(got.values).toHaveLength(1)
    expect(isExplorerError(got.error, 'MESSAGE_TOO_BIG')).toBe(true)
    expect(isExplorerError(back.error, 'MESSAGE_TOO_BIG')).toBe(true)
    expect([ring.layers[0].size, ring.layers[4].size]).toEqual([0, 0])
    expect(() => remote.send(pattern(65 * 1024, 3))).toThrow(expect.objectContaining({ code: 'MESSAGE_TOO_BIG' }))
  })

  it('resets the socket with SOCKET_RESET when the remote vanishes mid-stream', async () => {
    ring = socketRing(10)
    const { local } = await connect(ring, 0, 6)
    const back = record(local.data$)
    ring.net.crash([ring.nodes[6].id])
    for (let i = 0; i < 10; i++) local.send(pattern(50_000, i))
    expect(await ring.runUntil(() => back.ended, 300_000)).toBe(true)
    expect(isExplorerError(back.error, 'SOCKET_RESET')).toBe(true)
    expect(ring.layers[0].size).toBe(0)
  })

  it('answers data for a connection it does not know with a reset; past the handshake an unsealed reset proves nothing, so the sender gives up on its own (SOCKET_RESET)', async () => {
    ring = socketRing(8, { maxRetransmits: 3 })
    const { local, remote } = await connect(ring, 2, 5)
    const back = record(local.data$)
    const resets: number[] = []
    ring.nodes[2].router.frames$(FrameType.Refuse).subscribe((f) => resets.push(f.payload[0]))
    // The remote forgets the socket without a word (as after a restart).
    ;(remote as unknown as { finish(error: null): void }).finish(null)
    expect(ring.layers[5].size).toBe(0)
    local.send('anyone?')
    expect(await ring.runUntil(() => back.ended)).toBe(true)
    expect(resets.length).toBeGreaterThan(0)
    expect(resets.every((reason) => reason === RefuseReason.Reset)).toBe(true)
    expect(isExplorerError(back.error, 'SOCKET_RESET')).toBe(true)
    expect((local as RoutedSocket).stats!.timeouts).toBe(4)
  })
})
