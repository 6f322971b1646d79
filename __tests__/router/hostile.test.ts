import fc from 'fast-check'
import { config } from 'rxjs'
import { isExplorerError } from '../../src/errors'
import { RING_SIZE } from '../../src/ids'
import type { RingNode } from '../../src/ring/node'
import { ChannelSet } from '../../src/router/channel-set'
import { AbuseReport, DEFAULT_ABUSE_POLICY, LocalFrame, Router } from '../../src/router/router'
import type { RoutingView } from '../../src/router/routing-table'
import type { RouterStats } from '../../src/router/stats'
import { RingOracle } from '../../src/testnet'
import { MAX_FRAME_BYTES } from '../../src/wire/limits'
import { DEFAULT_TTL, FRAME_VERSION, Frame, FrameFlag, FrameType, HEADER_BYTES, MAX_PAYLOAD_BYTES, encodeFrame } from '../../src/wire/frame'
import { MALFORMED_REASONS, type MalformedReason, inspectInbound } from '../../src/wire/inbound'
import { MAX_ROUTE_HOPS, writeRoute, writeSourceRoute } from '../../src/wire/route-record'
import { connect, record, socketRing, type SocketRing } from '../sockets/helpers'
import { FakeChannel } from './fake-channel'

/**
 * Hostile input reaching a peer over a channel: every kind of malformed frame
 * is dropped and counted by reason, never thrown; a channel that keeps
 * sending them (DEFAULT_ABUSE_POLICY) is closed and counted; the peer keeps
 * routing lookups and sockets for everyone else.
 */

const bytes = (...values: number[]) => Uint8Array.from(values)
const text = (s: string) => new TextEncoder().encode(s)

/** Counters a case is expected to move, as a plain copy. */
const snapshot = (stats: RouterStats) => ({ ...stats, dropped: { ...stats.dropped }, malformed: { ...stats.malformed } })

/** A source route as it arrives at the hop with index `next`. */
const sourceRoute = (ids: number[], next: number, rest = new Uint8Array()) => {
  const payload = writeSourceRoute(ids, rest)
  payload[1] = next
  return payload
}

describe('hostile frames reaching a peer of an 8-peer ring (memory transport, virtual time)', () => {
  let ring: SocketRing
  let victim: RingNode
  let hostileId: number
  /** What reached the victim's upper layers, by the neighbour it came from. */
  let localFrom: number[]
  let nextHostile = 1

  beforeAll(() => {
    ring = socketRing(8)
    victim = ring.nodes[3]
    localFrom = []
    victim.router.frames$(FrameType.Ring, FrameType.Signal, FrameType.Open, FrameType.Accept, FrameType.Data, FrameType.Ack, FrameType.Close, FrameType.Refuse)
      .subscribe((frame) => localFrom.push(frame.from))
  })
  afterAll(() => ring.close())

  /** A fresh hostile channel into the victim, from an id that is not in the ring. */
  function attachHostile(): FakeChannel {
    const ids = new Set(ring.nodes.map((n) => n.id))
    do hostileId = (victim.id + 0x1000 * nextHostile++ + 7) % RING_SIZE
    while (ids.has(hostileId))
    const channel = new FakeChannel(hostileId)
    expect(victim.channels.add(channel, hostileId)).toBe(true)
    return channel
  }

  const frame = (over: Partial<Frame> = {}): Uint8Array =>
    encodeFrame({ type: FrameType.Data, ttl: DEFAULT_TTL, flags: 0, source: hostileId, dest: victim.id, conn: 1, seq: 0, payload: new Uint8Array(), ...over })

  /** Where a key is routed through the victim: owned by a peer across the ring from it. */
  const farKey = () => (victim.id + RING_SIZE / 2) % RING_SIZE

  /** The victim still answers: lookups from every peer find the true owners, and sockets to and from it carry data. */
  async function assertStillServing(): Promise<void> {
    const oracle = new RingOracle(ring.nodes.map((n) => n.id))
    const keys = [victim.id, (victim.id - 1 + RING_SIZE) % RING_SIZE, farKey(), 0x123456789abc]
    for (const from of ring.nodes) {
      for (const key of keys) {
        const { owner } = await ring.net.lookup(from, key)
        expect(owner).toBe(oracle.owner(key))
      }
    }
    const v = ring.nodes.indexOf(victim)
    for (const [a, b] of [[0, v], [v, 6], [1, 7]]) {
      const echo = ring.layers[b].incoming$.subscribe((s) => s.data$.subscribe((d) => s.send(d)))
      const { local } = await connect(ring, a, b)
      const got = record(local.data$)
      local.send(`ping ${a}→${b}`)
      expect(await ring.runUntil(() => got.values.length === 1)).toBe(true)
      expect(new TextDecoder().decode(got.values[0])).toBe(`ping ${a}→${b}`)
      local.close()
      expect(await ring.runUntil(() => got.completed)).toBe(true)
      echo.unsubscribe()
    }
  }

  const cases: Array<[string, MalformedReason, () => Uint8Array]> = [
    ['empty bytes', 'TOO_SHORT', () => new Uint8Array()],
    ['a few text bytes', 'TOO_SHORT', () => text('hello')],
    ['a header cut one byte short', 'TOO_SHORT', () => frame().subarray(0, HEADER_BYTES - 1)],
    ['an HTTP request line (not a frame)', 'BAD_VERSION', () => text('GET / HTTP/1.1\r\nHost: example.org\r\n\r\n')],
    ['version 2', 'BAD_VERSION', () => Object.assign(frame(), { 0: FRAME_VERSION + 1 })],
    ['frame type 0', 'BAD_TYPE', () => Object.assign(frame(), { 1: 0 })],
    ['frame type 255', 'BAD_TYPE', () => Object.assign(frame(), { 1: 255 })],
    ['TTL 0 (no router lets a frame leave with 0)', 'BAD_TTL', () => frame({ ttl: 0 })],
    ['TTL 255 (would outlive every honest frame)', 'BAD_TTL', () => frame({ ttl: 255, dest: farKey() })],
    [`TTL ${DEFAULT_TTL + 1}`, 'BAD_TTL', () => frame({ ttl: DEFAULT_TTL + 1 })],
    ['unknown flag 0x40', 'BAD_FLAGS', () => frame({ flags: 0x40 })],
    ['unknown flag 0x80 with Exact', 'BAD_FLAGS', () => frame({ flags: 0x80 | FrameFlag.Exact })],
    ['Routed and Traced at once', 'BAD_FLAGS', () => frame({ flags: FrameFlag.Routed | FrameFlag.Traced, payload: writeRoute([1], new Uint8Array()) })],
    ['Traced without any route record', 'BAD_ROUTE', () => frame({ flags: FrameFlag.Traced, dest: farKey() })],
    ['Traced, record claims 10 ids, holds 2 (forged length)', 'BAD_ROUTE', () => frame({ flags: FrameFlag.Traced, dest: farKey(), payload: Object.assign(writeRoute([1, 2], new Uint8Array()), { 0: 10 }) })],
    [`Traced, record of ${MAX_ROUTE_HOPS + 1} ids`, 'BAD_ROUTE', () => {
      const payload = new Uint8Array(1 + 6 * (MAX_ROUTE_HOPS + 1))
      payload[0] = MAX_ROUTE_HOPS + 1
      return frame({ flags: FrameFlag.Traced, dest: farKey(), payload })
    }],
    ['Routed, route claims 5 hops, holds 1 (forged length)', 'BAD_ROUTE', () => frame({ flags: FrameFlag.Routed | FrameFlag.Exact, payload: Object.assign(sourceRoute([victim.id], 0), { 0: 5 }) })],
    ['Routed, cursor past the end', 'BAD_ROUTE', () => frame({ flags: FrameFlag.Routed | FrameFlag.Exact, payload: sourceRoute([victim.id, ring.nodes[6].id], 3) })],
    ['Routed, empty route', 'BAD_ROUTE', () => frame({ flags: FrameFlag.Routed | FrameFlag.Exact, payload: bytes(0, 0) })],
  ]

  it.each(cases)('%s: dropped, counted as %s, nothing delivered or sent on; the channel stays open', (_name, reason, make) => {
    const hostile = attachHostile()
    const before = snapshot(victim.router.stats)
    const sentBefore = ring.net.network.stats.framesSent
    const locals = localFrom.length
    hostile.inbound.next(make())
    const after = victim.router.stats
    expect(after.malformed[reason]).toBe(before.malformed[reason] + 1)
    expect(after.dropped.BAD_FRAME).toBe(before.dropped.BAD_FRAME + 1)
    // No other counter moved: the frame went nowhere.
    for (const other of MALFORMED_REASONS) if (other !== reason) expect(after.malformed[other]).toBe(before.malformed[other])
    expect([after.delivered, after.forwarded, after.dropped.ERROR]).toEqual([before.delivered, before.forwarded, before.dropped.ERROR])
    expect(localFrom.length).toBe(locals)
    expect(ring.net.network.stats.framesSent).toBe(sentBefore)
    // A strike against the channel that sent it (honest routers check the same, so it cannot be someone else's), but one is not abuse.
    expect(victim.router.channelsWithStrikes).toBe(1)
    expect(victim.channels.has(hostileId)).toBe(true)
    expect(after.abusiveChannelsClosed).toBe(before.abusiveChannelsClosed)
    victim.channels.close(hostileId)
  })

  it.each<[string, number]>([
    ['one byte over the frame limit', MAX_FRAME_BYTES + 1],
    ['256 KiB (a browser data channel’s message limit)', 256 * 1024],
  ])('a frame of %s: dropped as TOO_LONG and its channel closed at once', (_name, size) => {
    const hostile = attachHostile()
    const before = snapshot(victim.router.stats)
    const reports: AbuseReport[] = []
    const watching = victim.router.abuse$.subscribe((r) => reports.push(r))
    const big = new Uint8Array(size)
    big.set(frame({ dest: farKey() }))
    hostile.inbound.next(big)
    watching.unsubscribe()
    expect(victim.router.stats.malformed.TOO_LONG).toBe(before.malformed.TOO_LONG + 1)
    expect(victim.router.stats.abusiveChannelsClosed).toBe(before.abusiveChannelsClosed + 1)
    expect(reports).toEqual([{ peer: hostileId, reason: 'TOO_LONG', strikes: 1 }])
    expect(victim.channels.has(hostileId)).toBe(false)
    expect(hostile.isOpen).toBe(false)
  })

  it('a valid Traced frame at the size limit is dropped as TOO_BIG where our id no longer fits (it used to kill the router)', async () => {
    const hostile = attachHostile()
    const before = snapshot(victim.router.stats)
    const payload = writeRoute([hostileId], new Uint8Array(MAX_PAYLOAD_BYTES - 7))
    expect(payload.byteLength).toBe(MAX_PAYLOAD_BYTES)
    hostile.inbound.next(frame({ type: FrameType.Ring, flags: FrameFlag.Traced, dest: farKey(), payload }))
    expect(victim.router.stats.dropped.TOO_BIG).toBe(before.dropped.TOO_BIG + 1)
    expect(victim.router.stats.dropped.ERROR).toBe(0)
    expect(victim.channels.has(hostileId)).toBe(true)
    victim.channels.close(hostileId)
    await assertStillServing()
  })

  it(`closes a channel after ${DEFAULT_ABUSE_POLICY.maxBadFrames} malformed frames within ${DEFAULT_ABUSE_POLICY.windowMs} ms, not before; strikes older than the window are forgiven`, async () => {
    const { maxBadFrames, windowMs } = DEFAULT_ABUSE_POLICY
    const hostile = attachHostile()
    const closedBefore = victim.router.stats.abusiveChannelsClosed
    const reports: AbuseReport[] = []
    const watching = victim.router.abuse$.subscribe((r) => reports.push(r))
    const junk = () => hostile.inbound.next(text('not a frame at all, just junk'))
    for (let i = 0; i < maxBadFrames - 1; i++) junk()
    expect(victim.channels.has(hostileId)).toBe(true)
    // The window slides past those strikes: as many again are still not abuse.
    await ring.run(windowMs)
    for (let i = 0; i < maxBadFrames - 1; i++) junk()
    expect(victim.channels.has(hostileId)).toBe(true)
    expect(victim.router.stats.abusiveChannelsClosed).toBe(closedBefore)
    // One more within the window is.
    await ring.run(windowMs / 2)
    junk()
    watching.unsubscribe()
    expect(victim.channels.has(hostileId)).toBe(false)
    expect(hostile.isOpen).toBe(false)
    expect(victim.router.stats.abusiveChannelsClosed).toBe(closedBefore + 1)
    expect(reports).toEqual([{ peer: hostileId, reason: 'BAD_VERSION', strikes: maxBadFrames }])
    // Nothing is kept about a channel that is gone.
    expect(victim.router.channelsWithStrikes).toBe(0)
  })

  it('forgets the strikes of a channel that closes for another reason', () => {
    attachHostile()
    const hostile = victim.channels.channel(hostileId) as FakeChannel
    hostile.inbound.next(text('junk'))
    expect(victim.router.channelsWithStrikes).toBe(1)
    hostile.close()
    expect(victim.router.channelsWithStrikes).toBe(0)
  })

  it('socket frames whose payload does not parse: counted as BAD_PAYLOAD; a strike only against the neighbour that originated them', () => {
    const hostile = attachHostile()
    const before = snapshot(victim.router.stats)
    const sockets = ring.layerOf(victim.id).size
    // Originated by the hostile neighbour itself: an Open whose window is 3 bytes, an Ack of 0 bytes, a Refuse with reason 0.
    hostile.inbound.next(frame({ type: FrameType.Open, flags: FrameFlag.Exact, payload: bytes(0, 1, 0) }))
    hostile.inbound.next(frame({ type: FrameType.Ack, flags: FrameFlag.Exact, payload: bytes() }))
    hostile.inbound.next(frame({ type: FrameType.Refuse, flags: FrameFlag.Exact, payload: bytes(0, 0, 0, 0, 0, 0, 1) }))
    expect(victim.router.stats.malformed.BAD_PAYLOAD).toBe(before.malformed.BAD_PAYLOAD + 3)
    expect(victim.router.channelsWithStrikes).toBe(1)
    // Passed on from someone else (source ≠ the neighbour): counted, not held against the channel.
    victim.channels.close(hostileId)
    const relay = attachHostile()
    relay.inbound.next(frame({ type: FrameType.Open, flags: FrameFlag.Exact, source: 0x0badc0ffee00, payload: bytes(1) }))
    expect(victim.router.stats.malformed.BAD_PAYLOAD).toBe(before.malformed.BAD_PAYLOAD + 4)
    expect(victim.router.channelsWithStrikes).toBe(0)
    // None of it opened a socket or answered anything.
    expect(ring.layerOf(victim.id).size).toBe(sockets)
    expect(relay.sent.filter((b) => b[1] !== FrameType.Ring)).toHaveLength(0)
    victim.channels.close(hostileId)
  })

  it('a ring neighbour that turns abusive loses its channel; every other channel of the victim stays up, and the ring keeps serving', async () => {
    const abuser = ring.nodes.find((n) => n !== victim && victim.channels.has(n.id) && n.channels.has(victim.id))!
    expect(abuser).toBeDefined()
    const othersBefore = victim.channels.remotes().filter((r) => r !== abuser.id)
    const before = snapshot(victim.router.stats)
    const link = abuser.channels.channel(victim.id)!
    const reports: AbuseReport[] = []
    const watching = victim.router.abuse$.subscribe((r) => reports.push(r))
    for (let i = 0; i < DEFAULT_ABUSE_POLICY.maxBadFrames; i++) link.send(frame({ source: abuser.id, ttl: 0 }))
    await ring.run(10) // the memory link's latency
    watching.unsubscribe()
    expect(reports).toEqual([{ peer: abuser.id, reason: 'BAD_TTL', strikes: DEFAULT_ABUSE_POLICY.maxBadFrames }])
    expect(victim.router.stats.malformed.BAD_TTL).toBe(before.malformed.BAD_TTL + DEFAULT_ABUSE_POLICY.maxBadFrames)
    expect(victim.router.stats.abusiveChannelsClosed).toBe(before.abusiveChannelsClosed + 1)
    expect(victim.channels.has(abuser.id)).toBe(false)
    expect(link.isOpen).toBe(false)
    for (const remote of othersBefore) expect(victim.channels.has(remote)).toBe(true)
    // The ring heals around the closed channel (the abuser stops abusing), and everyone is served.
    expect(ring.net.converge()).toBeGreaterThanOrEqual(0)
    await assertStillServing()
  })

  it('3,000 random well-formed frames from a hostile channel (random types, sources, destinations, payloads): nothing throws, the peer keeps serving', async () => {
    const unhandled: unknown[] = []
    const previous = config.onUnhandledError
    config.onUnhandledError = (error) => unhandled.push(error)
    try {
      const ids = ring.nodes.map((n) => n.id)
      const idArb = fc.oneof(fc.constantFrom(...ids), fc.integer({ min: 0, max: RING_SIZE - 1 }))
      const frameArb = fc.record({
        type: fc.constantFrom(FrameType.Ring, FrameType.Signal, FrameType.Open, FrameType.Accept, FrameType.Data, FrameType.Ack, FrameType.Close, FrameType.Refuse),
        ttl: fc.integer({ min: 1, max: DEFAULT_TTL }),
        flags: fc.constantFrom(0, FrameFlag.Exact, FrameFlag.More, FrameFlag.Final, FrameFlag.Final | FrameFlag.Back, FrameFlag.Traced, FrameFlag.Routed | FrameFlag.Exact),
        source: idArb,
        dest: idArb,
        conn: fc.oneof(fc.nat(3), fc.integer({ min: 0, max: 2 ** 32 - 1 })),
        seq: fc.oneof(fc.nat(3), fc.integer({ min: 0, max: 2 ** 32 - 1 })),
        body: fc.oneof(fc.uint8Array({ maxLength: 16 }), fc.constantFrom(text('{"s":{"mem":"offer","token":1}}'), text('{"abort":"glare"}'), text('{'), bytes(6, 1), bytes(1), bytes(3))),
        route: fc.array(idArb, { minLength: 1, maxLength: 4 }),
      })
      const frames = fc.sample(frameArb, { numRuns: 3000, seed: 20240606 }).map((f) => {
        const payload = f.flags & FrameFlag.Traced ? writeRoute(f.route.slice(0, -1), f.body) : f.flags & FrameFlag.Routed ? writeSourceRoute(f.route, f.body) : f.body
        return encodeFrame({ ...f, payload })
      })
      // The hostile frames are all well-formed: they test what is behind the router, not the codec.
      expect(frames.every((b) => inspectInbound(b).ok)).toBe(true)
      let hostile = attachHostile()
      for (const [i, b] of frames.entries()) {
        if (!hostile.isOpen) hostile = attachHostile()
        hostile.inbound.next(b)
        if (i % 100 === 99) await ring.run(50)
      }
      await ring.run(30_000)
      victim.channels.close(hostileId)
      expect(unhandled).toEqual([])
      expect(victim.router.stats.dropped.ERROR).toBe(0)
      // Whatever it stirred up settles; lookups and sockets work for everyone.
      expect(ring.net.converge()).toBeGreaterThanOrEqual(0)
      await assertStillServing()
    } finally {
      config.onUnhandledError = previous
    }
  })
})

describe('TTL bounds a frame two peers bounce between them (bare routers over linked channels)', () => {
  /** Two joining peers that only know each other forward every key to each other: a loop only TTL ends. */
  function loop() {
    const A = 100
    const B = 200
    const make = (self: number, other: number) => {
      const channels = new ChannelSet(self, () => 0)
      const channel = new FakeChannel(other)
      channels.add(channel, Math.min(self, other))
      channels.setRoutable(other, true)
      const view: RoutingView = { self, joined: false, predecessor: null, successor: other, alone: false }
      return { router: new Router(channels, () => view), channel }
    }
    const a = make(A, B)
    const b = make(B, A)
    a.channel.peer = b.channel
    b.channel.peer = a.channel
    return { a, b }
  }

  it(`an honest frame is dropped after ${DEFAULT_TTL - 1} hops`, () => {
    const { a, b } = loop()
    a.channel.inbound.next(encodeFrame({ type: FrameType.Data, ttl: DEFAULT_TTL, flags: 0, source: 7, dest: 300, conn: 1, seq: 0, payload: new Uint8Array() }))
    expect(a.router.stats.forwarded + b.router.stats.forwarded).toBe(DEFAULT_TTL - 1)
    expect(a.router.stats.dropped.TTL_EXPIRED + b.router.stats.dropped.TTL_EXPIRED).toBe(1)
  })

  it('a frame with TTL 255 is refused where it arrives instead of bouncing 254 times', () => {
    const { a, b } = loop()
    a.channel.inbound.next(encodeFrame({ type: FrameType.Data, ttl: 255, flags: 0, source: 7, dest: 300, conn: 1, seq: 0, payload: new Uint8Array() }))
    expect(a.router.stats.forwarded + b.router.stats.forwarded).toBe(0)
    expect(a.router.stats.malformed.BAD_TTL).toBe(1)
  })

  it('a source route bouncing between the two ends at its last entry, within MAX_ROUTE_HOPS', () => {
    const { a, b } = loop()
    const route = Array.from({ length: MAX_ROUTE_HOPS }, (_, i) => (i % 2 === 0 ? 100 : 200))
    const delivered: LocalFrame[] = []
    b.router.frames$(FrameType.Data).subscribe((f) => delivered.push(f))
    a.router.frames$(FrameType.Data).subscribe((f) => delivered.push(f))
    a.channel.inbound.next(encodeFrame({ type: FrameType.Data, ttl: DEFAULT_TTL, flags: FrameFlag.Routed | FrameFlag.Exact, source: 7, dest: 200, conn: 1, seq: 0, payload: sourceRoute(route, 0) }))
    expect(a.router.stats.forwarded + b.router.stats.forwarded).toBe(MAX_ROUTE_HOPS - 1)
    expect(delivered).toHaveLength(1)
  })
})

describe('abuse policy (a Router option)', () => {
  function bare(policy: ConstructorParameters<typeof Router>[3]) {
    let now = 0
    const channels = new ChannelSet(1, () => now)
    const channel = new FakeChannel(2)
    channels.add(channel, 1)
    const router = new Router(channels, () => ({ self: 1, joined: true, predecessor: null, successor: null, alone: true }), undefined, policy)
    return { router, channel, channels, advance: (ms: number) => (now += ms) }
  }

  it('closes after maxBadFrames within windowMs (3 per second here)', () => {
    const t = bare({ maxBadFrames: 3, windowMs: 1000 })
    t.channel.inbound.next(bytes(1))
    t.channel.inbound.next(bytes(1))
    t.advance(1000)
    t.channel.inbound.next(bytes(1))
    t.channel.inbound.next(bytes(1))
    expect(t.channels.has(2)).toBe(true)
    t.advance(999)
    t.channel.inbound.next(bytes(1))
    expect(t.channels.has(2)).toBe(false)
    expect(t.router.stats.abusiveChannelsClosed).toBe(1)
  })

  it('maxBadFrames 1: the first malformed frame closes the channel', () => {
    const t = bare({ maxBadFrames: 1 })
    t.channel.inbound.next(bytes(1))
    expect(t.channels.has(2)).toBe(false)
  })

  it.each([{ maxBadFrames: 0 }, { maxBadFrames: 1.5 }, { windowMs: -1 }, { windowMs: Infinity }])('refuses %p with BAD_OPTIONS', (policy) => {
    let error: unknown
    try {
      bare(policy)
    } catch (e) {
      error = e
    }
    expect(isExplorerError(error, 'BAD_OPTIONS')).toBe(true)
  })
})
