import type { Explorer } from '../../src'
import { ringCorrect, ringOf } from '../explorer/helpers'
import { HOSTS, UNPUNCHABLE, URL, natWorld } from './nat-world'

/**
 * The NAT lab's reachability (three pairs that signal but never connect:
 * port-restricted↔symmetric-1, port-restricted↔symmetric-2,
 * symmetric-1↔symmetric-2), in virtual time on the memory transport. The
 * hard pairs are ring neighbours, as in the lab.
 */
describe('relayed links: a ring over pairs that cannot connect', () => {
  let w = natWorld()
  let explorers: Explorer[] = []
  afterEach(async () => {
    await w.settle(Promise.all(explorers.map((e) => e.close())))
    explorers = []
  })

  const joinInOrder = async (extra = {}) => {
    w.signal.serve(URL)
    explorers = HOSTS.map((_, i) => w.explorer(i, extra))
    for (const explorer of explorers) await w.settle(explorer.listen(), 60_000)
  }

  it('every peer listens, the ring is right, and the neighbours with no direct path hold relayed links', async () => {
    w = natWorld(1)
    await joinInOrder()
    await w.until(() => ringCorrect(explorers), 30_000, 'the ring')
    for (const [i, j] of [[2, 3], [3, 4]]) {
      expect(w.channel(explorers, i, j)?.relayed).toBe(true)
      expect(w.channel(explorers, j, i)?.relayed).toBe(true)
    }
    // Pairs that can connect hold direct channels.
    expect(w.channel(explorers, 0, 1)?.relayed).toBeUndefined()
  })

  it('every ordered pair dials and echoes, both ways between the peers with no direct path', async () => {
    w = natWorld(2)
    await joinInOrder()
    await w.until(() => ringCorrect(explorers), 30_000, 'the ring')
    for (const e of explorers) e.incoming$.subscribe((s) => s.data$.subscribe((d) => s.send(d)))
    for (let i = 0; i < explorers.length; i++) {
      for (let j = 0; j < explorers.length; j++) if (i !== j) expect(await w.echo(explorers, i, j)).toBe(`ping ${i}→${j}`)
    }
    const carried = explorers.reduce((n, e) => n + ringOf(e).links.stats.framesReceived, 0)
    expect(carried).toBeGreaterThan(0)
  })

  it('without relayed links the ring stays wrong (the test above fails without them)', async () => {
    w = natWorld(1)
    await joinInOrder({ relayedLinks: false })
    await expect(w.until(() => ringCorrect(explorers), 30_000, 'the ring')).rejects.toThrow(/did not happen/)
  })

  it('a pair with no direct path is not tried again while backed off: a few handshakes in ten minutes', async () => {
    w = natWorld(3)
    await joinInOrder({ relayedLinks: false })
    const before = new Map(w.handshakes)
    await w.until(() => false, 600_000).catch(() => undefined)
    for (const [a, b] of UNPUNCHABLE) {
      const more = (w.handshakes.get(`${a}-${b}`) ?? 0) - (before.get(`${a}-${b}`) ?? 0) + (w.handshakes.get(`${b}-${a}`) ?? 0) - (before.get(`${b}-${a}`) ?? 0)
      // Back-off from 30 s, doubling: at most about 5 attempts in 10 minutes (per side); without it, one per stabilize round that wants the peer.
      expect(more).toBeLessThanOrEqual(10)
    }
  })
})
