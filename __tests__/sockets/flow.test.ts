import { isExplorerError } from '../../src/errors'
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

  it('a reader that does not read stops the sender at one window; reading releases the rest, in order', () => {
    ring = socketRing(10, { windowBytes: WINDOW })
    const { local, remote } = connect(ring, 0, 7)
    // Distinct frames that reached the reader (window probes and retransmissions repeat some).
    const arrived = new Map<number, number>()
    ring.nodes[7].router.frames$(FrameType.Data).subscribe((f) => arrived.set(f.seq, HEADER_BYTES + f.payload.byteLength))
    const arrivedBytes = () => [...arrived.values()].reduce((a, b) => a + b, 0)
    const sent = Array.from({ length: 64 }, (_, i) => pattern(64 * 1024, i))
    for (const m of sent) local.send(m)
    // Far longer than every retransmission timeout together: a slow reader is not a dead one.
    ring.run(120_000)
    // The window, plus at most the rest of one message taken in by probes.
    expect(arrivedBytes()).toBeLessThanOrEqual(WINDOW + 64 * 1024 + 5 * HEADER_BYTES)
    expect(arrivedBytes()).toBeGreaterThanOrEqual(WINDOW - MAX_FRAME_BYTES)
    expect(local.bufferedAmount).toBeGreaterThan(3 * 1024 * 1024)
    const got = record(remote.data$)
    expect(ring.runUntil(() => got.values.length === sent.length)).toBe(true)
    got.values.forEach((m, i) => expect(equalBytes(m, sent[i])).toBe(true))
    expect(got.error).toBeUndefined()
    expect(local.bufferedAmount).toBe(0)
  })

  it('keeps what the overlay holds for a socket within its window on a multi-hop path', () => {
    ring = socketRing(16, { windowBytes: WINDOW }, { latencyMs: 3 })
    const { local, remote } = connect(ring, 1, 11)
    const got = record(remote.data$)
    for (let i = 0; i < 32; i++) local.send(pattern(256 * 1024, i))
    let peak = 0
    ring.runUntil(() => {
      peak = Math.max(peak, queuedInOverlay(ring))
      return got.values.length === 32
    })
    expect(got.values).toHaveLength(32)
    // Data in flight plus a few acks; without the window all 8 MiB would sit in the first channel.
    expect(peak).toBeGreaterThan(WINDOW / 2)
    expect(peak).toBeLessThanOrEqual(WINDOW + 4 * MAX_FRAME_BYTES)
  })

  it('pauses while a local channel is over its high-water mark', () => {
    ring = socketRing(8, { channelHighWaterMark: 64 * 1024 }, { latencyMs: 20 })
    const { local, remote } = connect(ring, 0, 3)
    const got = record(remote.data$)
    for (let i = 0; i < 16; i++) local.send(pattern(128 * 1024, i))
    let peak = 0
    ring.runUntil(() => {
      for (const r of ring.nodes[0].channels.remotes()) peak = Math.max(peak, ring.nodes[0].channels.channel(r)!.bufferedAmount)
      return got.values.length === 16
    })
    expect(got.values).toHaveLength(16)
    // One pump's worth past the mark at most (the check runs before each burst).
    expect(peak).toBeLessThanOrEqual(64 * 1024 + 1024 * 1024)
    expect(peak).toBeGreaterThan(64 * 1024)
  })

  it('a message over the receiver’s maxMessageBytes closes the socket on both sides with MESSAGE_TOO_BIG', () => {
    ring = socketRing(8, (i) => (i === 4 ? { maxMessageBytes: 64 * 1024 } : {}))
    const { local, remote } = connect(ring, 0, 4)
    const got = record(remote.data$)
    const back = record(local.data$)
    local.send(pattern(1000, 1))
    local.send(pattern(100 * 1024, 2))
    expect(ring.runUntil(() => got.ended && back.ended)).toBe(true)
    expect(got.values).toHaveLength(1)
    expect(isExplorerError(got.error, 'MESSAGE_TOO_BIG')).toBe(true)
    expect(isExplorerError(back.error, 'MESSAGE_TOO_BIG')).toBe(true)
    expect([ring.layers[0].size, ring.layers[4].size]).toEqual([0, 0])
    expect(() => remote.send(pattern(65 * 1024, 3))).toThrow(expect.objectContaining({ code: 'MESSAGE_TOO_BIG' }))
  })

  it('resets the socket with SOCKET_RESET when the remote vanishes mid-stream', () => {
    ring = socketRing(10)
    const { local } = connect(ring, 0, 6)
    const back = record(local.data$)
    ring.net.crash([ring.nodes[6].id])
    for (let i = 0; i < 10; i++) local.send(pattern(50_000, i))
    expect(ring.runUntil(() => back.ended, 300_000)).toBe(true)
    expect(isExplorerError(back.error, 'SOCKET_RESET')).toBe(true)
    expect(ring.layers[0].size).toBe(0)
  })

  it('answers data for a connection it does not know with a reset', () => {
    ring = socketRing(8)
    const { local, remote } = connect(ring, 2, 5)
    const back = record(local.data$)
    // The remote forgets the socket without a word (as after a restart).
    ;(ring.layers[5] as unknown as { release(s: unknown): void }).release(remote)
    local.send('anyone?')
    expect(ring.runUntil(() => back.ended)).toBe(true)
    expect(isExplorerError(back.error, 'SOCKET_RESET')).toBe(true)
  })
})
