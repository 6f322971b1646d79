import { ringInternals } from '../../src/ring/internals'
import { RingOp, decodeRingMessage } from '../../src/ring/messages'
import type { RingNode } from '../../src/ring/node'
import { createTestnet } from '../../src/testnet'
import { FrameFlag, FrameType, decodeFrame } from '../../src/wire/frame'

/**
 * A channel opened through overlay signalling is introduced: each end's
 * signals said whether it is in the ring, so neither sends the Hello that
 * would say it again, and each end may route through the other at once.
 */
describe('overlay signalling introduces the ends of a new channel', () => {
  function setup() {
    const hellos: { from: number; to: number; joined: boolean }[] = []
    const net = createTestnet(8, {
      seed: 3,
      frameTap: (from, to, bytes) => {
        const frame = decodeFrame(bytes)
        if (frame.type !== FrameType.Ring || frame.flags & (FrameFlag.Traced | FrameFlag.Routed)) return
        const message = decodeRingMessage(frame.payload)
        if (message.op === RingOp.Hello) hellos.push({ from, to, joined: message.joined })
      },
    })
    expect(net.converge()).toBeGreaterThanOrEqual(0)
    const nodes = [...net.nodes.values()]
    // Two peers with no channel between them yet.
    let pair: [RingNode, RingNode] | null = null
    for (const a of nodes) for (const b of nodes) if (pair === null && a !== b && !a.channels.has(b.id)) pair = [a, b]
    if (pair === null) throw new Error('every pair already has a channel')
    return { net, hellos, a: pair[0], b: pair[1] }
  }

  const between = (hellos: { from: number; to: number }[], a: RingNode, b: RingNode) =>
    hellos.filter((h) => (h.from === a.id && h.to === b.id) || (h.from === b.id && h.to === a.id))

  it('both ends in the ring: no Hello either way, and both route through the channel at once', () => {
    const { net, hellos, a, b } = setup()
    let opened = false
    a.signalling.ensureChannel$(b.id).subscribe({ complete: () => (opened = true) })
    net.scheduler.advanceBy(200)
    expect(opened).toBe(true)
    expect(a.channels.isRoutable(b.id)).toBe(true)
    expect(b.channels.isRoutable(a.id)).toBe(true)
    expect(between(hellos, a, b)).toEqual([])
    net.close()
  })

  it('a peer whose ring state changed during the set-up says Hello on the new channel after all', () => {
    const { net, hellos, a, b } = setup()
    a.signalling.ensureChannel$(b.id).subscribe({ error: () => undefined })
    // A told "joined" in its offer, then leaves the ring before the answer is back (no message does that: the test helper does).
    ringInternals(a).state.joined = false
    net.scheduler.advanceBy(200)
    expect(a.channels.has(b.id)).toBe(true)
    expect(between(hellos, a, b)).toEqual([{ from: a.id, to: b.id, joined: false }])
    // B believed the offer until the Hello corrected it.
    expect(b.channels.isRoutable(a.id)).toBe(false)
    net.close()
  })
})
