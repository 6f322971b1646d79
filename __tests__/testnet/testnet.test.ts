import { modelledProver } from '../../src/identity/signal-proof'
import { isExplorerError } from '../../src/errors'
import { ringInternals } from '../../src/ring/internals'
import { RingNode } from '../../src/ring/node'
import { RING_DEFAULTS } from '../../src/ring/options'
import { Testnet, createTestnet, randomRingId } from '../../src/testnet'
import { bootstrapChannel } from '../ring/helpers'

/**
 * Whole rings on the memory transport, in virtual time. A 64-peer ring
 * converges in about a second of wall time; every testnet is closed.
 */
const N = 64
const MAX_HOPS = Math.log2(N) + 2

interface LookupRun {
  /** Lookups that did not reach the live peer responsible for the key (wrong owner or no answer). */
  failed: { key: number; from: number; got: number | string }[]
  hops: number[]
}

/** `count` lookups of random keys from random live peers, all at once, in virtual time. */
function lookups(net: Testnet, count: number, keys: () => number = () => randomRingId(net.random)): LookupRun {
  const oracle = net.oracle()
  const live = [...net.nodes.values()]
  const run: LookupRun = { failed: [], hops: [] }
  let settled = 0
  for (let i = 0; i < count; i++) {
    const from = live[Math.floor(net.random() * live.length)]
    const key = keys()
    from.lookup$(key).subscribe({
      next: ({ owner, hops }) => {
        if (owner === oracle.owner(key)) run.hops.push(hops)
        else run.failed.push({ key, from: from.id, got: owner })
      },
      error: (e) => {
        run.failed.push({ key, from: from.id, got: isExplorerError(e) ? e.code : String(e) })
        settled++
      },
      complete: () => settled++,
    })
  }
  // Timeouts bound every lookup: all have settled by then.
  net.scheduler.runUntil(() => settled === count, net.scheduler.now() + RING_DEFAULTS.rpcTimeoutMs + 1)
  expect(run.hops.length + run.failed.length).toBe(count)
  return run
}

const histogram = (hops: number[]) => hops.reduce<Record<number, number>>((h, n) => ((h[n] = (h[n] ?? 0) + 1), h), {})

function expectConverged(net: Testnet) {
  const oracle = net.oracle()
  expect(oracle.ringCorrect(net.nodes.values())).toBe(true)
  expect(oracle.fingersCorrect(net.nodes.values())).toBe(1)
  for (const node of net.nodes.values()) expect(node.joined).toBe(true)
}

describe(`testnet: a ${N}-peer ring`, () => {
  let net: Testnet
  afterEach(() => net?.close())

  it('the oracle finds a wrong finger wherever its scan starts, and counts it', () => {
    net = createTestnet(N, { seed: 11 })
    expect(net.converge()).toBeGreaterThanOrEqual(0)
    const nodes = [...net.nodes.values()]
    const oracle = net.oracle()
    expect(oracle.firstWrongFinger(nodes)).toBe(-1)
    expect(oracle.fingersAllCorrect(nodes)).toBe(true)
    // Point one row of peer 40 at a peer that is not its owner.
    const bad = nodes[40]
    const row = bad.fingerTable.rows()[0]
    const wrongPeer = nodes.find((n) => n.id !== bad.fingerTable.get(row) && n.id !== bad.id)!.id
    ringInternals(bad).fingerTable.set(row, wrongPeer)
    expect(oracle.firstWrongFinger(nodes)).toBe(40)
    expect(oracle.firstWrongFinger(nodes, 40)).toBe(40)
    expect(oracle.firstWrongFinger(nodes, 41)).toBe(40) // wraps around
    expect(oracle.fingersAllCorrect(nodes)).toBe(false)
    const { right, total } = oracle.fingerCounts(nodes)
    expect(total - right).toBe(1)
  })

  it(`converges; 200 lookups from random peers reach the owner in ≤ log2(N) + 2 = ${MAX_HOPS} hops`, () => {
    net = createTestnet(N, { seed: 1 })
    expect(net.nodes.size).toBe(N)
    const rounds = net.converge()
    expect(rounds).toBeGreaterThanOrEqual(0)
    expectConverged(net)
    const run = lookups(net, 200)
    expect(run.failed).toEqual([])
    expect(Math.max(...run.hops)).toBeLessThanOrEqual(MAX_HOPS)
    // Chord's anchor: a mean near ½·log2 N (greedy routing with 16 fingers, counted to the owner).
    const mean = run.hops.reduce((a, b) => a + b, 0) / run.hops.length
    expect(mean).toBeLessThanOrEqual(0.5 * Math.log2(N) + 1)
  })

  it('is deterministic: the same seed gives the same rounds, ids and hop histogram', () => {
    const replay = (seed: number) => {
      const t = createTestnet(N, { seed })
      try {
        const rounds = t.converge()
        const ids = [...t.nodes.keys()].sort((a, b) => a - b)
        const run = lookups(t, 200)
        return { rounds, ids, histogram: histogram(run.hops), failed: run.failed.length, time: t.scheduler.now(), actions: t.scheduler.actionsRun }
      } finally {
        t.close()
      }
    }
    const first = replay(7)
    const second = replay(7)
    expect(second).toEqual(first)
    expect(first.rounds).toBeGreaterThanOrEqual(0)
    // Not vacuous: another seed makes another ring.
    expect(replay(8).ids).not.toEqual(first.ids)
  })

  it('25 % of peers crash at once: the ring converges again and every lookup reaches a live owner', () => {
    net = createTestnet(N, { seed: 2 })
    expect(net.converge()).toBeGreaterThanOrEqual(0)
    const ids = [...net.nodes.keys()]
    const victims = ids.filter((_, i) => i % 4 === 1) // a quarter, spread over the ring by join order
    expect(victims).toHaveLength(N / 4)
    net.crash(victims)
    expect(net.nodes.size).toBe(N - N / 4)
    for (const id of victims) expect(net.nodes.has(id)).toBe(false)
    // Right after the crash the ring is wrong: successors and fingers point at the dead.
    expect(net.oracle().ringCorrect(net.nodes.values())).toBe(false)
    const rounds = net.converge()
    expect(rounds).toBeGreaterThanOrEqual(0)
    expectConverged(net)
    const run = lookups(net, 200)
    expect(run.failed).toEqual([])
    // The keys the dead owned now belong to their live successors.
    const deadKeys = lookups(net, victims.length, (() => {
      let i = 0
      return () => victims[i++]
    })())
    expect(deadKeys.failed).toEqual([])
  })

  it('peers joining a converged ring: correct again, and the keys they now own are routed to them', () => {
    net = createTestnet(N, { seed: 3 })
    expect(net.converge()).toBeGreaterThanOrEqual(0)
    const added: RingNode[] = []
    for (let i = 0; i < 8; i++) added.push(net.addPeer())
    expect(net.nodes.size).toBe(N + 8)
    expect(net.converge()).toBeGreaterThanOrEqual(0)
    expectConverged(net)
    for (const node of added) expect(node.joined).toBe(true)
    const ownIds = lookups(net, added.length, (() => {
      let i = 0
      return () => added[i++].id
    })())
    expect(ownIds.failed).toEqual([])
    expect(lookups(net, 200).failed).toEqual([])
  })

  it('close() leaves no pending timer and no open channel', () => {
    net = createTestnet(16, { seed: 4 })
    expect(net.converge()).toBeGreaterThanOrEqual(0)
    expect(net.network.channelCount()).toBeGreaterThan(0)
    net.close()
    expect(net.nodes.size).toBe(0)
    expect(net.scheduler.pending).toBe(0)
    expect(net.network.channelCount()).toBe(0)
  })
})

describe('testnet: a duplicate id', () => {
  let net: Testnet
  afterEach(() => net?.close())

  it('joining the ring with a live peer’s id fails with JOIN_FAILED ("already in the ring"), without retries', () => {
    net = createTestnet(32, { seed: 5 })
    expect(net.converge()).toBeGreaterThanOrEqual(0)
    const taken = [...net.nodes.keys()][3]
    // A bootstrap with no channel to the holder of the id, so the newcomer's channel is not mistaken for it.
    const host = [...net.nodes.values()].find((n) => n.id !== taken && !n.channels.has(taken))
    expect(host).toBeDefined()
    // The memory network knows one peer per id: the impostor shares the holder's transport (it only dials).
    const impostor = new RingNode({ id: taken, transport: net.network.transport(taken), scheduler: net.scheduler, random: net.random, prover: modelledProver(taken) })
    let error: unknown
    const start = net.scheduler.now()
    let failedAt = -1
    bootstrapChannel(net.network, taken, host!).subscribe((ch) =>
      impostor.join$(ch).subscribe({ error: (e) => ((error = e), (failedAt = net.scheduler.now())) }),
    )
    net.scheduler.runUntil(() => error !== undefined, start + 60_000)
    expect(isExplorerError(error, 'JOIN_FAILED')).toBe(true)
    expect((error as Error).message).toMatch(/already in the ring/)
    expect(failedAt - start).toBeLessThan(RING_DEFAULTS.rpcTimeoutMs) // refused on the first answer, not retried
    expect(impostor.joined).toBe(false)
    expect(impostor.channels.size).toBe(0)
    impostor.close()
    // The ring is undisturbed.
    expect(net.converge()).toBe(0)
    expectConverged(net)
  })

  it('addPeer with a live id refuses at once and leaves the live peer in place', () => {
    net = createTestnet(8, { seed: 6 })
    expect(net.converge()).toBeGreaterThanOrEqual(0)
    const taken = [...net.nodes.keys()][2]
    const holder = net.nodes.get(taken)
    let error: unknown
    try {
      net.addPeer(taken)
    } catch (e) {
      error = e
    }
    expect(isExplorerError(error, 'JOIN_FAILED')).toBe(true)
    expect(net.nodes.get(taken)).toBe(holder)
    expect(net.nodes.size).toBe(8)
    expect(net.converge()).toBe(0)
    expectConverged(net)
  })
})
