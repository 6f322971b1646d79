import { isExplorerError, type Explorer } from '../../src'
import type { Diagnostic } from '../../src/diagnostics'
import { ringCorrect } from '../explorer/helpers'
import { URL, natWorld } from './nat-world'

/** The explorer's defaults (docs/api.md): listen()'s bound is measured with them. */
const DEFAULT_TIMING = { stabilizeMs: 1000, fixFingersMs: 1000, rpcTimeoutMs: 4000, connectTimeoutMs: 15_000 }

/**
 * Joining when the peers the server lists first cannot be reached: the NAT
 * lab's reachability (nat-world.ts) in virtual time, the joiner added last.
 */
describe('join through any reachable peer', () => {
  let w = natWorld()
  let explorers: Explorer[] = []
  afterEach(async () => {
    await w.settle(Promise.all(explorers.map((e) => e.close())), 120_000)
    explorers = []
  })

  const record = (explorer: Explorer): Diagnostic[] => {
    const seen: Diagnostic[] = []
    explorer.diagnostics$.subscribe((d) => seen.push(d))
    return seen
  }

  it('a joiner with no direct path to its successor nor its predecessor joins through another peer: ring right, dials echo both ways', async () => {
    // symmetric-1 (3) joins last: its successor (4) and predecessor (2) are the two it cannot connect to.
    w = natWorld(1)
    w.signal.serve(URL)
    explorers = [0, 1, 2, 3, 4].map((i) => w.explorer(i))
    for (const i of [0, 1, 2, 4]) await w.settle(explorers[i].listen())
    await w.until(() => ringCorrect([0, 1, 2, 4].map((i) => explorers[i])), 30_000, 'the ring of four')
    await w.settle(explorers[3].listen(), 30_000)
    await w.until(() => ringCorrect(explorers), 30_000, 'the ring with the joiner')
    // Its ring neighbours are relayed links; the server's channel went to a peer it can reach.
    for (const j of [2, 4]) expect(w.channel(explorers, 3, j)?.relayed).toBe(true)
    for (const e of explorers) e.incoming$.subscribe((s) => s.data$.subscribe((d) => s.send(d)))
    for (const j of [0, 1, 2, 4]) {
      expect(await w.echo(explorers, 3, j)).toBe(`ping 3→${j}`)
      expect(await w.echo(explorers, j, 3)).toBe(`ping ${j}→3`)
    }
  })

  it('listen() fails with JOIN_FAILED within joinTimeoutMs (default 30 s) when no listed peer can be reached, reporting each', async () => {
    // Peer 3 reaches none of the three in the ring.
    w = natWorld(2, 4, [[3, 0], [3, 1], [3, 2]])
    w.signal.serve(URL)
    explorers = [0, 1, 2, 3].map((i) => w.explorer(i, DEFAULT_TIMING))
    for (const i of [0, 1, 2]) await w.settle(explorers[i].listen())
    const seen = record(explorers[3])
    const start = w.scheduler.now()
    const error = await w.settle(explorers[3].listen(), 120_000).catch((e: unknown) => e)
    const took = w.scheduler.now() - start
    expect(isExplorerError(error, 'JOIN_FAILED')).toBe(true)
    expect(took).toBeLessThanOrEqual(30_000 + 10)
    // Progress on the way: every listed peer reported as it failed, with the peer named.
    const failed = new Set(seen.filter((d) => d.code === 'JOIN_CANDIDATE_FAILED').map((d) => d.peer))
    expect(failed).toEqual(new Set([0, 1, 2].map((i) => explorers[i].id)))
  })
})
