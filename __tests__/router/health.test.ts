import { ChannelSet } from '../../src/router/channel-set'
import { Router } from '../../src/router/router'
import type { RoutingView } from '../../src/router/routing-table'
import { DEFAULT_TTL, FrameFlag, FrameType, encodeFrame, type Frame } from '../../src/wire/frame'
import { FakeChannel } from './fake-channel'

/** Channel health (Channel.health$: a WebRTC link whose ICE is down, or whose remote went quiet) as the router sees it. */

const SELF = 1000
const PRED = 500
const SUCC = 2000
const FINGER = 2 ** 40

function setup() {
  const channels = new ChannelSet(SELF, () => 0)
  const links = new Map<number, FakeChannel>()
  for (const id of [PRED, SUCC, FINGER]) {
    const channel = new FakeChannel(id)
    links.set(id, channel)
    channels.add(channel, SELF)
    channels.setRoutable(id, true)
  }
  const view: RoutingView = { self: SELF, joined: true, predecessor: PRED, successor: SUCC, alone: false }
  const router = new Router(channels, () => view)
  const link = (id: number) => links.get(id)!
  const inject = (frame: Partial<Frame>) =>
    link(PRED).inbound.next(encodeFrame({ type: FrameType.Data, ttl: DEFAULT_TTL, flags: 0, source: PRED, dest: SELF, conn: 1, seq: 0, payload: new Uint8Array(), ...frame }))
  return { channels, router, link, inject }
}

describe('ChannelSet and Router: unhealthy channels are routed around', () => {
  it('an unhealthy finger leaves the routing table at once (frames take the next best hop) and comes back when healthy', () => {
    const t = setup()
    const key = FINGER + 5
    t.inject({ dest: key })
    expect(t.link(FINGER).frames()).toHaveLength(1)
    t.link(FINGER).health.next(false)
    expect(t.channels.isRoutable(FINGER)).toBe(false)
    expect(t.channels.routing.has(FINGER)).toBe(false)
    t.inject({ dest: key })
    expect(t.link(FINGER).frames()).toHaveLength(1) // not into the unhealthy channel...
    expect(t.link(SUCC).frames()).toHaveLength(1) // ...but on along the ring
    expect(t.router.stats.dropped.SEND_FAILED).toBe(0)
    t.link(FINGER).health.next(true)
    t.inject({ dest: key })
    expect(t.link(FINGER).frames()).toHaveLength(2)
  })

  it('an Exact frame for a neighbour whose channel is unhealthy takes the ring route instead of that channel', () => {
    const t = setup()
    t.link(FINGER).health.next(false)
    expect(t.channels.carries(FINGER)).toBe(false)
    t.inject({ dest: FINGER, flags: FrameFlag.Exact })
    expect(t.link(FINGER).frames()).toHaveLength(0)
    expect(t.link(SUCC).frames()).toHaveLength(1)
  })

  it('a remote that joins the ring while its channel is unhealthy becomes routable only once it is healthy', () => {
    const t = setup()
    const late = new FakeChannel(3000)
    late.health.next(false)
    t.channels.add(late, SELF)
    t.channels.setRoutable(3000, true)
    expect(t.channels.routing.has(3000)).toBe(false)
    late.health.next(true)
    expect(t.channels.routing.has(3000)).toBe(true)
    expect(t.channels.isRoutable(3000)).toBe(true)
    // The ring's own choice stands: not routable stays out, healthy or not.
    t.channels.setRoutable(3000, false)
    late.health.next(false)
    late.health.next(true)
    expect(t.channels.routing.has(3000)).toBe(false)
  })
})
