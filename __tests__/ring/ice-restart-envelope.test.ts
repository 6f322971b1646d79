import { parseEnvelope, encodeEnvelope } from '../../src/ring/signal-envelope'
import type { RingNode } from '../../src/ring/node'
import { createTestnet, type Testnet } from '../../src/testnet'
import { DEFAULT_TTL, FrameFlag, FrameType, decodeFrame, encodeFrame } from '../../src/wire/frame'
import { writeRoute } from '../../src/wire/route-record'

/**
 * The `r` marker of ICE restart sessions (docs/protocol.md, "Overlay
 * signalling"): 1 is the only value; anything else is refused as a malformed
 * payload, and a restart of a channel that cannot renew its path (the memory
 * transport has no ICE) is refused `busy`. Nothing else changes.
 */
describe('ICE restart marker in Signal envelopes', () => {
  let net: Testnet
  let seen: Array<{ from: number; to: number; bytes: Uint8Array }>
  beforeEach(() => {
    seen = []
    net = createTestnet(6, { seed: 5, frameTap: (from, to, bytes) => (seen.push({ from, to, bytes }), true) })
    expect(net.converge()).toBeGreaterThanOrEqual(0)
  })
  afterEach(() => net.close())

  /** A neighbour of `node` (it has a channel to it). */
  const neighbourOf = (node: RingNode): RingNode => net.nodes.get(node.channels.remotes()[0])!
  const signalFrom = (sender: RingNode, to: RingNode, envelope: object): boolean =>
    sender.channels.send(to.id, encodeFrame({ type: FrameType.Signal, ttl: DEFAULT_TTL, flags: FrameFlag.Exact | FrameFlag.Traced, source: sender.id, dest: to.id, conn: 77, seq: 0, payload: writeRoute([sender.id], encodeEnvelope(envelope)) }))

  it('parses r: 1 and refuses any other value', () => {
    const bytes = (value: unknown) => new TextEncoder().encode(JSON.stringify({ s: { type: 'offer', sdp: 'v=0' }, r: value }))
    expect(parseEnvelope(bytes(1))?.r).toBe(1)
    for (const value of [0, 2, '1', true, null, {}]) expect(parseEnvelope(bytes(value))).toBeNull()
  })

  it('an unknown marker from a neighbour is a BAD_PAYLOAD strike against it; the receiver goes on routing', () => {
    const [victim] = net.nodes.values()
    const sender = neighbourOf(victim)
    const before = victim.router.stats.malformed.BAD_PAYLOAD
    expect(signalFrom(sender, victim, { s: { type: 'offer', sdp: 'v=0' }, r: 2 })).toBe(true)
    net.scheduler.advanceBy(100)
    expect(victim.router.stats.malformed.BAD_PAYLOAD).toBe(before + 1)
    expect(victim.channels.has(sender.id)).toBe(true)
    expect(net.converge()).toBeGreaterThanOrEqual(0)
  })

  it('a restart offered for a channel that cannot renew its path is refused busy, marked r, and nothing is set up', () => {
    const [victim] = net.nodes.values()
    const sender = neighbourOf(victim)
    const channels = victim.channels.size
    const sessions = victim.signalling.sessionCount
    seen = []
    expect(signalFrom(sender, victim, { s: { type: 'offer', sdp: 'v=0' }, r: 1 })).toBe(true)
    net.scheduler.advanceBy(100)
    const replies = seen
      .filter(({ from, bytes }) => from === victim.id && decodeFrame(bytes).type === FrameType.Signal)
      .map(({ bytes }) => decodeFrame(bytes))
      .filter((frame) => frame.dest === sender.id && frame.conn === 77)
    expect(replies).toHaveLength(1)
    const payload = replies[0].payload
    // (Along the recorded path a source route comes before the envelope.)
    const envelope = JSON.parse(new TextDecoder().decode(payload.subarray(payload.indexOf(0x7b))))
    expect(envelope).toEqual({ abort: 'busy', r: 1 })
    expect([victim.channels.size, victim.signalling.sessionCount]).toEqual([channels, sessions])
  })
})
