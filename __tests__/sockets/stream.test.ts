import { FrameFlag, FrameType, MAX_PAYLOAD_BYTES } from '../../src/wire/frame'
import { TAG_BYTES } from '../../src/noise/aead'
import { MAX_CHUNK_BYTES } from '../../src/sockets/wire'
import { connect, equalBytes, pathLength, pattern, record, socketRing, type SocketRing } from './helpers'


describe('routed socket streams (virtual time)', () => {
  let ring: SocketRing
  afterEach(() => ring.close())

  it('fragments big messages into sealed frames of at most MAX_PAYLOAD_BYTES and keeps every boundary', async () => {
    ring = socketRing()
    const { local, remote } = await connect(ring, 0, 6)
    const sizes = [0, 1, MAX_CHUNK_BYTES - 1, MAX_CHUNK_BYTES, MAX_CHUNK_BYTES + 1, 3 * MAX_CHUNK_BYTES, 1024 * 1024, 0, 5]
    const sent = sizes.map((n, i) => pattern(n, i))
    const frames: { more: boolean; bytes: number }[] = []
    ring.nodes[6].router.frames$(FrameType.Data).subscribe((f) => frames.push({ more: (f.flags & FrameFlag.More) !== 0, bytes: f.payload.byteLength }))
    const got = record(remote.data$)
    for (const message of sent) local.send(message)
    expect(await ring.runUntil(() => got.values.length === sent.length)).toBe(true)
    got.values.forEach((message, i) => expect(equalBytes(message, sent[i])).toBe(true))
    const expectedFrames = sizes.reduce((n, size) => n + Math.max(1, Math.ceil(size / MAX_CHUNK_BYTES)), 0)
    expect(frames).toHaveLength(expectedFrames)
    // A full chunk and its tag fill a frame; an empty message is a tag alone.
    expect(Math.max(...frames.map((f) => f.bytes))).toBe(MAX_PAYLOAD_BYTES)
    expect(Math.min(...frames.map((f) => f.bytes))).toBe(TAG_BYTES)
    expect(frames.filter((f) => !f.more)).toHaveLength(sizes.length)
  })

  it('copies on send: reusing the buffer afterwards does not change what arrives', async () => {
    ring = socketRing()
    const { local, remote } = await connect(ring, 1, 4)
    const got = record(remote.data$)
    const buffer = new Uint8Array(100_000).fill(1)
    local.send(buffer)
    buffer.fill(2)
    local.send(buffer)
    expect(await ring.runUntil(() => got.values.length === 2)).toBe(true)
    expect(got.values[0].every((b) => b === 1)).toBe(true)
    expect(got.values[1].every((b) => b === 2)).toBe(true)
  })

  it('delivers 1,000 small messages in order, then completes when the sender closes', async () => {
    ring = socketRing()
    const { local, remote } = await connect(ring, 2, 9)
    const got = record(remote.data$)
    for (let i = 0; i < 1000; i++) local.send(`message ${i}`)
    local.close()
    expect(local.send('too late')).toBe(false)
    expect(await ring.runUntil(() => got.ended)).toBe(true)
    expect(got.completed).toBe(true)
    expect(got.values.map((m) => new TextDecoder().decode(m))).toEqual(Array.from({ length: 1000 }, (_, i) => `message ${i}`))
  })

  it('puts frames back in order when the route changes mid-stream and later frames overtake', async () => {
    ring = socketRing(16, {}, { latencyMs: 5 })
    // A pair with no direct channel: the first frames take several hops.
    const [a, b] = await farthestPair(ring)
    const { local, remote } = await connect(ring, a, b)
    const seqs: number[] = []
    ring.nodes[b].router.frames$(FrameType.Data).subscribe((f) => seqs.push(f.seq))
    const got = record(remote.data$)
    const sent = Array.from({ length: 300 }, (_, i) => pattern(10_000, i))
    for (const m of sent.slice(0, 150)) local.send(m)
    await ring.run(3)
    // A direct channel appears: from now on frames take one hop and overtake those still on the long path.
    const shortcut = record(ring.nodes[a].signalling.ensureChannel$(ring.nodes[b].id))
    await ring.runUntil(() => shortcut.ended)
    expect(shortcut.completed && ring.nodes[a].channels.has(ring.nodes[b].id)).toBe(true)
    for (const m of sent.slice(150)) local.send(m)
    expect(await ring.runUntil(() => got.values.length === sent.length)).toBe(true)
    got.values.forEach((message, i) => expect(equalBytes(message, sent[i])).toBe(true))
    expect(seqs.some((seq, i) => i > 0 && seq < seqs[i - 1])).toBe(true)
  })

  it('recovers lost frames by retransmission: everything arrives, in order, once', async () => {
    ring = socketRing(10)
    const { local, remote } = await connect(ring, 0, 5)
    const got = record(remote.data$)
    const sent = Array.from({ length: 200 }, (_, i) => pattern(i * 400, i))
    let frames = 0
    ring.nodes[5].router.frames$(FrameType.Data).subscribe(() => frames++)
    lossRate(ring, 0.05)
    for (const m of sent) local.send(m)
    expect(await ring.runUntil(() => got.values.length >= sent.length, 120_000)).toBe(true)
    lossRate(ring, 0)
    await ring.run(5000)
    expect(got.values).toHaveLength(sent.length)
    got.values.forEach((message, i) => expect(equalBytes(message, sent[i])).toBe(true))
    const framesSent = sent.reduce((n, m) => n + Math.max(1, Math.ceil(m.byteLength / MAX_CHUNK_BYTES)), 0)
    expect(frames).toBeGreaterThan(framesSent)
  })
})

/** The pair whose frames travel the most hops (measured with one message each way). */
async function farthestPair(ring: SocketRing): Promise<[number, number]> {
  let best: [number, number] = [0, 1]
  let bestHops = -1
  const n = ring.nodes.length
  for (let a = 0; a < n; a++) {
    for (let b = 0; b < n; b++) {
      if (a === b || ring.nodes[a].channels.has(ring.nodes[b].id)) continue
      const hops = await pathLength(ring, a, b)
      if (hops > bestHops) [best, bestHops] = [[a, b], hops]
    }
  }
  if (bestHops < 2) throw new Error('no pair two or more hops apart')
  return best
}

/** Loss on every link from now on (the memory network reads this field per frame). */
function lossRate(ring: SocketRing, rate: number): void {
  ;(ring.net.network as unknown as { lossRate: number }).lossRate = rate
}
