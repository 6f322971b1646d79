import { firstValueFrom } from 'rxjs'
import { fingerStart } from '../../src/ids'
import { RingOp } from '../../src/ring/messages'
import type { RingNode } from '../../src/ring/node'
import { createTestnet } from '../../src/testnet'
import { FrameType, decodeFrame } from '../../src/wire/frame'
import { ringMessageOf } from './helpers'

/**
 * A finger lookup carries the transport's offer; the owner answers inside its
 * Found. The channel to a new finger then opens with two traversals of the
 * ring (request, reply) and no Signal frame at all.
 */
describe('a finger lookup carries the channel offer', () => {
  type Seen = { type: FrameType; op?: RingOp; offer?: boolean; answer?: boolean }

  function setup(carriedOffers = true) {
    const seen: Seen[] = []
    // Few fingers and successors: many rows' owners have no channel to the peer yet.
    const net = createTestnet(64, {
      seed: 5,
      carriedOffers,
      maxFingers: 3,
      successors: 3,
      frameTap: (_from, _to, bytes) => {
        const frame = decodeFrame(bytes)
        if (frame.type === FrameType.Signal) return void seen.push({ type: frame.type })
        if (frame.type !== FrameType.Ring) return
        const message = ringMessageOf(frame)
        if (message?.op === RingOp.FindSuccessor) seen.push({ type: frame.type, op: message.op, offer: message.offer !== undefined })
        if (message?.op === RingOp.Found) seen.push({ type: frame.type, op: message.op, answer: message.answer !== undefined })
      },
    })
    expect(net.converge()).toBeGreaterThanOrEqual(0)
    return { net, seen, oracle: net.oracle() }
  }

  /** A peer and a row (outside its successor list's span) whose owner it has no channel to. */
  function unconnectedRow(net: ReturnType<typeof setup>['net'], oracle: ReturnType<typeof setup>['oracle']): { a: RingNode; b: RingNode; row: number } {
    for (const a of net.nodes.values()) {
      const lastSuccessor = a.successors[a.successors.length - 1]
      for (let row = 47; row >= 30; row--) {
        const owner = oracle.owner(fingerStart(a.id, row))
        if (owner === a.id || a.channels.has(owner) || a.successors.includes(owner) || owner === lastSuccessor) continue
        return { a, b: net.nodes.get(owner)!, row }
      }
    }
    throw new Error('every row owner already has a channel')
  }

  /** Peer a points a row at b, a peer it had no channel to; both ends then hold the channel. `seen` has that update's frames only. */
  async function newFinger(carriedOffers: boolean) {
    const { net, seen, oracle } = setup(carriedOffers)
    const { a, b, row } = unconnectedRow(net, oracle)
    seen.length = 0
    const update = firstValueFrom(a.updateFinger$(row))
    net.scheduler.advanceBy(100)
    await expect(update).resolves.toMatchObject({ row })
    expect(a.fingerTable.get(row)).toBe(b.id)
    expect(a.channels.has(b.id) && b.channels.has(a.id)).toBe(true)
    return { net, seen, a, b }
  }

  it('opens the channel to a new finger with no Signal frame: the offer rides on FindSuccessor, the answer on Found', async () => {
    const { net, seen, a, b } = await newFinger(true)
    // Introduced by the signals: both already route through it.
    expect(a.channels.isRoutable(b.id) && b.channels.isRoutable(a.id)).toBe(true)
    expect(seen.filter((s) => s.type === FrameType.Signal)).toEqual([])
    expect(seen.some((s) => s.op === RingOp.FindSuccessor && s.offer)).toBe(true)
    expect(seen.some((s) => s.op === RingOp.Found && s.answer)).toBe(true)
    expect(a.signalling.sessionCount).toBe(0)
    expect(b.signalling.sessionCount).toBe(0)
    net.close()
  })

  it('over a transport whose offers are not cheap (WebRTC), the lookup carries none: the channel is signalled after it', async () => {
    const { net, seen } = await newFinger(false)
    expect(seen.some((s) => s.op === RingOp.FindSuccessor)).toBe(true)
    expect(seen.filter((s) => s.offer || s.answer)).toEqual([])
    // Offer and answer, each along the lookup's path.
    expect(seen.filter((s) => s.type === FrameType.Signal).length).toBeGreaterThanOrEqual(2)
    net.close()
  })

  it('an owner that already has a channel to the asker declines: a plain Found, the offer is dropped, nothing leaks', async () => {
    const { net, seen, oracle } = setup()
    const { a, b, row } = unconnectedRow(net, oracle)
    await openChannel(net, a, b)
    const channelsBefore = net.network.channelCount()
    seen.length = 0
    const update = firstValueFrom(a.updateFinger$(row))
    net.scheduler.advanceBy(100)
    await expect(update).resolves.toMatchObject({ row })
    expect(a.fingerTable.get(row)).toBe(b.id)
    expect(seen.some((s) => s.op === RingOp.FindSuccessor && s.offer)).toBe(true)
    // Every route's Found is plain (only route 0 carries the offer, and it was declined).
    const founds = seen.filter((s) => s.op === RingOp.Found)
    expect(founds.length).toBeGreaterThan(0)
    expect(founds.every((s) => s.answer === false)).toBe(true)
    expect(net.network.channelCount()).toBe(channelsBefore)
    expect(a.signalling.sessionCount).toBe(0)
    expect(b.signalling.sessionCount).toBe(0)
    net.close()
  })

  it('a lookup that fails drops its offer: no session or half-open channel stays behind', async () => {
    const { net, oracle } = setup()
    const { a, b, row } = unconnectedRow(net, oracle)
    const channelsBefore = net.network.channelCount()
    // The owner vanishes before the lookup reaches it; the request times out.
    net.crash([b.id])
    const update = firstValueFrom(a.updateFinger$(row)).catch((e: unknown) => e)
    expect(a.signalling.sessionCount).toBe(1)
    net.scheduler.advanceBy(30_000)
    await update
    expect(a.signalling.sessionCount).toBe(0)
    for (const node of net.nodes.values()) expect(node.signalling.sessionCount).toBe(0)
    // Only the crashed peer's channels are gone.
    expect(net.network.channelCount()).toBeLessThanOrEqual(channelsBefore)
    net.close()
  })

  async function openChannel(net: ReturnType<typeof setup>['net'], a: RingNode, b: RingNode): Promise<void> {
    const open = firstValueFrom(b.signalling.ensureChannel$(a.id), { defaultValue: undefined })
    net.scheduler.advanceBy(100)
    await open
    expect(a.channels.has(b.id)).toBe(true)
  }
})
