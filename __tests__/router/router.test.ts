import { ChannelSet } from '../../src/router/channel-set'
import { LocalFrame, Router } from '../../src/router/router'
import type { RoutingView } from '../../src/router/routing-table'
import { DEFAULT_TTL, Frame, FrameFlag, FrameType, encodeFrame } from '../../src/wire/frame'
import { readRoute, readSourceRoute, writeRoute, writeSourceRoute } from '../../src/wire/route-record'
import { FakeChannel } from './fake-channel'

/**
 * The router over hand-driven channels: frames are pushed in as bytes and
 * what leaves is read back, so each rule (ownership, Exact, Final/Back,
 * traced requests, source-routed replies, TTL) is seen on the wire.
 */

const SELF = 1000
const PRED = 500
const SUCC = 2000
const FINGER = 2 ** 40
const STRANGER = 3000 // a direct channel that is not routable (a peer still joining)

function setup(over: Partial<RoutingView> = {}) {
  const channels = new ChannelSet(SELF, () => 0)
  const links = new Map<number, FakeChannel>()
  for (const id of [PRED, SUCC, FINGER, STRANGER]) {
    const channel = new FakeChannel(id)
    links.set(id, channel)
    channels.add(channel, SELF)
    if (id !== STRANGER) channels.setRoutable(id, true)
  }
  const v: RoutingView = { self: SELF, joined: true, predecessor: PRED, successor: SUCC, alone: false, ...over }
  const stale: number[] = []
  const router = new Router(channels, () => v, (neighbour) => stale.push(neighbour))
  const delivered: LocalFrame[] = []
  router.frames$(FrameType.Data).subscribe((frame) => delivered.push({ ...frame, payload: new Uint8Array(frame.payload) }))
  const link = (id: number) => links.get(id)!
  const inject = (from: number, frame: Partial<Frame>) =>
    link(from).inbound.next(encodeFrame({ type: FrameType.Data, ttl: DEFAULT_TTL, flags: 0, source: from, dest: SELF, conn: 1, seq: 0, payload: new Uint8Array(), ...frame }))
  const allSent = () => [...links.values()].reduce((n, c) => n + c.sent.length, 0)
  return { channels, router, link, inject, delivered, stale, allSent }
}

const bytes = (...values: number[]) => Uint8Array.from(values)

/** A source route as it arrives: the previous hop has already moved the cursor to `next`. */
const sourceRoute = (ids: number[], next: number, rest: Uint8Array) => {
  const payload = writeSourceRoute(ids, rest)
  payload[1] = next
  return payload
}

describe('Router: deliver or forward', () => {
  it('delivers a key it owns, with the hop count and the neighbour it came from', () => {
    const t = setup()
    t.inject(PRED, { dest: 700, ttl: DEFAULT_TTL - 3, source: 42, payload: bytes(9) })
    expect(t.delivered).toHaveLength(1)
    expect(t.delivered[0]).toMatchObject({ dest: 700, from: PRED, source: 42, hops: 3, unreachable: false, path: null })
    expect([...t.delivered[0].payload]).toEqual([9])
    expect(t.router.stats.delivered).toBe(1)
  })

  it('forwards a key past its successor to the closest preceding finger, one TTL spent, payload intact', () => {
    const t = setup()
    t.inject(PRED, { dest: FINGER + 1, ttl: 10, payload: bytes(1, 2, 3) })
    expect(t.delivered).toHaveLength(0)
    const [out] = t.link(FINGER).frames()
    expect(out).toMatchObject({ dest: FINGER + 1, ttl: 9, flags: 0, source: PRED })
    expect([...out.payload]).toEqual([1, 2, 3])
    expect(t.router.stats.forwarded).toBe(1)
  })

  it('hands a key in (self, successor] to the successor marked Final', () => {
    const t = setup()
    t.inject(PRED, { dest: 1500 })
    expect(t.link(SUCC).frames()[0].flags).toBe(FrameFlag.Final)
  })

  it('a Final frame for a key it does not own: steps back to the predecessor (Back) and reports the sender’s stale successor', () => {
    const t = setup()
    t.inject(FINGER, { dest: 400, flags: FrameFlag.Final })
    expect(t.link(PRED).frames()[0].flags).toBe(FrameFlag.Final | FrameFlag.Back)
    expect(t.stale).toEqual([FINGER])
  })

  it('a frame already stepping back does not report again (only the first step names the stale peer)', () => {
    const t = setup()
    t.inject(FINGER, { dest: 400, flags: FrameFlag.Final | FrameFlag.Back })
    expect(t.link(PRED).frames()[0].flags).toBe(FrameFlag.Final | FrameFlag.Back)
    expect(t.stale).toEqual([])
  })

  it('clears a stale Final/Back when forwarding on by finger', () => {
    const t = setup({ predecessor: null })
    t.inject(PRED, { dest: FINGER + 5, flags: FrameFlag.Back })
    expect(t.link(FINGER).frames()[0].flags).toBe(0)
  })

  it('drops a frame whose TTL would run out instead of forwarding it', () => {
    const t = setup()
    t.inject(PRED, { dest: FINGER + 1, ttl: 1 })
    expect(t.allSent()).toBe(0)
    expect(t.router.stats.dropped.TTL_EXPIRED).toBe(1)
    // A frame for us with ttl 1 still arrives: only forwarding spends TTL.
    t.inject(PRED, { dest: 700, ttl: 1 })
    expect(t.delivered).toHaveLength(1)
  })

  it('counts unroutable frames and send() says it could not leave', () => {
    const t = setup({ successor: null })
    t.channels.setRoutable(FINGER, false)
    expect(t.router.send({ type: FrameType.Data, dest: 1500, flags: 0, conn: 1, seq: 0, payload: bytes() })).toBe(false)
    expect(t.router.stats.dropped.UNROUTABLE).toBe(1)
    expect(t.allSent()).toBe(0)
  })

  it('closes a channel that keeps sending malformed frames (16 strikes)', () => {
    const t = setup()
    for (let i = 0; i < 15; i++) t.link(FINGER).inbound.next(bytes(1, 2, 3))
    expect(t.channels.has(FINGER)).toBe(true)
    t.link(FINGER).inbound.next(bytes(1, 2, 3))
    expect(t.channels.has(FINGER)).toBe(false)
    expect(t.router.stats.dropped.BAD_FRAME).toBe(16)
  })
})

describe('Router: the Exact rule', () => {
  it('a joining peer owns no key, not even its own id: a plain frame for it is passed on', () => {
    const t = setup({ joined: false })
    t.inject(SUCC, { dest: SELF })
    expect(t.delivered).toHaveLength(0)
    expect(t.link(PRED).frames()).toHaveLength(1)
  })

  it('a joining peer does receive frames addressed to it by name (Exact)', () => {
    const t = setup({ joined: false })
    t.inject(SUCC, { dest: SELF, flags: FrameFlag.Exact })
    expect(t.delivered).toHaveLength(1)
    expect(t.delivered[0].unreachable).toBe(false)
  })

  it('an Exact frame for a direct neighbour goes straight to it, routable or not', () => {
    const t = setup()
    t.inject(PRED, { dest: STRANGER, flags: FrameFlag.Exact })
    expect(t.link(STRANGER).frames()).toHaveLength(1)
    // Not Exact: the stranger is not routable, so its id is routed as a key (to the successor, the closest peer before it).
    t.inject(PRED, { dest: STRANGER })
    expect(t.link(STRANGER).frames()).toHaveLength(1)
    expect(t.link(SUCC).frames()).toHaveLength(1)
  })

  it('an Exact frame for an id nobody has, reaching the key’s owner: delivered marked unreachable', () => {
    const t = setup()
    t.inject(SUCC, { dest: 700, flags: FrameFlag.Exact })
    expect(t.delivered).toHaveLength(1)
    expect(t.delivered[0].unreachable).toBe(true)
    expect(t.router.stats.dropped.UNREACHABLE).toBe(1)
  })
})

describe('Router: traced requests and source-routed replies', () => {
  it('a traced frame records every forwarding peer; the owner sees the path, source first', () => {
    const t = setup()
    t.router.send({ type: FrameType.Data, dest: FINGER + 1, flags: 0, conn: 7, seq: 0, payload: bytes(5) }, true)
    const [out] = t.link(FINGER).frames()
    expect(out.flags & FrameFlag.Traced).toBeTruthy()
    const record = readRoute(out.payload)
    expect(record.ids).toEqual([SELF])
    expect([...record.rest]).toEqual([5])

    // Arriving here after two hops (source 42 → 43 → PRED → us).
    t.inject(PRED, { dest: 700, source: 42, flags: FrameFlag.Traced, ttl: DEFAULT_TTL - 2, payload: writeRoute([42, PRED], bytes(6)) })
    expect(t.delivered[0].path).toEqual([42, PRED])
    expect([...t.delivered[0].payload]).toEqual([6])
  })

  it('reply() answers a traced frame back along its path: source-routed, Exact, addressed to the source', () => {
    const t = setup()
    t.inject(PRED, { dest: 700, source: 42, flags: FrameFlag.Traced, payload: writeRoute([42, 43, PRED], bytes()) })
    t.router.reply(t.delivered[0], { type: FrameType.Data, conn: 9, seq: 0, payload: bytes(8) })
    const [out] = t.link(PRED).frames()
    expect(out).toMatchObject({ dest: 42, conn: 9, flags: FrameFlag.Exact | FrameFlag.Routed, ttl: DEFAULT_TTL - 1 })
    const route = readSourceRoute(out.payload)
    expect(route.ids).toEqual([PRED, 43, 42])
    expect(route.next).toBe(1) // the cursor already points past PRED, the hop it went to
    expect([...route.rest]).toEqual([8])
  })

  it('reply() to an untraced frame routes by id, Exact', () => {
    const t = setup()
    t.inject(PRED, { dest: 700, source: FINGER + 9 })
    t.router.reply(t.delivered[0], { type: FrameType.Data, conn: 9, seq: 0, payload: bytes() })
    expect(t.link(FINGER).frames()[0]).toMatchObject({ dest: FINGER + 9, flags: FrameFlag.Exact })
  })

  it('a source-routed frame follows its list, not the ring: our hop, then the next listed', () => {
    const t = setup()
    // The route names the stranger (not routable) as next: source routes use any direct channel.
    t.inject(PRED, { dest: 77, flags: FrameFlag.Exact | FrameFlag.Routed, source: PRED, payload: sourceRoute([SELF, STRANGER, 77], 1, bytes(4)) })
    const [out] = t.link(STRANGER).frames()
    expect(readSourceRoute(out.payload)).toMatchObject({ ids: [SELF, STRANGER, 77], next: 2 })
    expect(t.delivered).toHaveLength(0)
  })

  it('a source-routed frame at its last hop is delivered with the way back as its path', () => {
    const t = setup()
    t.inject(SUCC, { dest: SELF, source: 42, flags: FrameFlag.Exact | FrameFlag.Routed, payload: sourceRoute([43, SUCC, SELF], 2, bytes(3)) })
    expect(t.delivered).toHaveLength(1)
    expect(t.delivered[0]).toMatchObject({ path: [42, 43, SUCC], unreachable: false })
    expect([...t.delivered[0].payload]).toEqual([3])
  })

  it('a source route through a peer we have no channel to is dropped (UNREACHABLE), never re-routed', () => {
    const t = setup()
    t.inject(PRED, { dest: 77, flags: FrameFlag.Exact | FrameFlag.Routed, payload: sourceRoute([SELF, 4444, 77], 1, bytes()) })
    expect(t.allSent()).toBe(0)
    expect(t.router.stats.dropped.UNREACHABLE).toBe(1)
  })

  it('a source-routed frame with a malformed route is dropped as BAD_FRAME', () => {
    const t = setup()
    t.inject(PRED, { dest: 77, flags: FrameFlag.Routed, payload: bytes(3, 0, 1) })
    expect(t.allSent()).toBe(0)
    expect(t.delivered).toHaveLength(0)
    expect(t.router.stats.dropped.BAD_FRAME).toBe(1)
  })
})
