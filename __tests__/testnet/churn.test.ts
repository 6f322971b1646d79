import { RING_DEFAULTS } from '../../src/ring/options'
import { seededRandom } from '../../src/testnet'
import { lifetime } from '../../bench/churn/lifetimes'
import { runChurn, type ChurnAuditView, type ChurnOptions, type ChurnResult } from '../../bench/churn/run'

/**
 * Churn in virtual time (bench/churn): peers crash when their session ends
 * and new ones join, while lookups run. These runs are small (64 peers, a
 * few virtual minutes, a few seconds of wall time); the 1000-peer figures are
 * in docs/simulation.md.
 */

const sum = (xs: number[]) => xs.reduce((a, b) => a + b, 0)
const sorted = (xs: number[]) => [...xs].sort((a, b) => a - b)

describe('session lengths', () => {
  const draws = (f: (r: () => number) => number, count = 20_000) => {
    const random = seededRandom(3)
    return sorted(Array.from({ length: count }, () => f(random)))
  }
  const median = (xs: number[]) => xs[Math.floor(xs.length / 2)]

  it.each(['exp', 'pareto'] as const)('%s: the median session is the one asked for', (kind) => {
    const life = lifetime(kind, 60_000)
    const xs = draws(life.sample)
    expect(median(xs) / 60_000).toBeGreaterThan(0.96)
    expect(median(xs) / 60_000).toBeLessThan(1.04)
    expect(xs[0]).toBeGreaterThanOrEqual(0)
  })

  it('exp: mean M/ln 2; pareto (α = 1.5): mean 3.4·M and a heavy tail', () => {
    const exp = lifetime('exp', 60_000)
    expect(exp.meanMs).toBeCloseTo(60_000 / Math.LN2, 6)
    const expDraws = draws(exp.sample)
    expect(sum(expDraws) / expDraws.length / exp.meanMs).toBeGreaterThan(0.97)
    expect(sum(expDraws) / expDraws.length / exp.meanMs).toBeLessThan(1.03)
    const pareto = lifetime('pareto', 60_000)
    expect(pareto.meanMs / 60_000).toBeCloseTo(1 / (2 ** (2 / 3) - 1) / 0.5, 6)
    // P(S > 20·M): e^(−20 ln 2) ≈ 1e-6 for exp, (1 + 20/1.70)^(−1.5) ≈ 2 % for this Pareto.
    const tail = draws(pareto.sample).filter((x) => x > 20 * 60_000).length / 20_000
    expect(tail).toBeGreaterThan(0.015)
    expect(tail).toBeLessThan(0.03)
  })

  it('stationary start: a peer up at a random instant stays longer than a fresh session under Pareto, alike under exp', () => {
    const exp = lifetime('exp', 60_000)
    const pareto = lifetime('pareto', 60_000)
    const ratio = (l: typeof exp) => median(draws(l.residual)) / median(draws(l.sample))
    expect(ratio(exp)).toBeGreaterThan(0.95)
    expect(ratio(exp)).toBeLessThan(1.05)
    // Lomax(α − 1 = 0.5, β): median β·(2² − 1) = 3β, against β·(2^(2/3) − 1) ≈ 0.587β fresh.
    expect(ratio(pareto)).toBeGreaterThan(4.5)
  })

  it('refuses what it cannot model', () => {
    expect(() => lifetime('pareto', 60_000, 1)).toThrow(/shape/)
    expect(() => lifetime('exp', 0)).toThrow(/median/)
  })
})

describe('churn simulation (64 peers)', () => {
  const base: ChurnOptions = { peers: 64, seed: 5, lifetime: 'exp', medianMinutes: 1.4, durationMinutes: 3, lookupRate: 0.2 }
  let run: ChurnResult
  const audits: { owners: number[]; joinedLive: number[]; crashedOwners: number; spotChecks: number }[] = []

  beforeAll(() => {
    run = runChurn({
      ...base,
      // Every minute, compare the run's truth with the testnet itself: the owners are exactly the live, joined peers.
      audit: ({ net, owners, ownerOf }: ChurnAuditView) => {
        const joinedLive = sorted([...net.nodes.values()].filter((node) => node.joined).map((node) => node.id))
        let spotChecks = 0
        for (const id of joinedLive) if (ownerOf(id) === id && ownerOf((id + 1) % 2 ** 48) !== id) spotChecks++
        audits.push({ owners: [...owners], joinedLive, crashedOwners: owners.filter((id) => !net.nodes.has(id)).length, spotChecks })
      },
    })
  })

  it('churns as asked: sessions end, peers crash and are replaced, the population stays N', () => {
    // 64 peers × 3 min × ln 2 / 1.4 min ≈ 95 sessions end.
    expect(run.peersLeft).toBeGreaterThan(50)
    expect(run.peersLeft).toBeLessThan(150)
    expect(run.peersJoined).toBe(run.peersLeft)
    expect(run.livePeersEnd).toBe(64)
    expect(run.meanLivePeers).toBe(64)
    // Every newcomer finished joining, left before it did, or is still joining.
    expect(run.joinsCompleted + run.leftBeforeJoining + (run.livePeersEnd - run.joinedPeersEnd)).toBe(run.peersJoined)
    expect(run.joinsCompleted).toBeGreaterThan(0.9 * run.peersJoined)
    expect(sum(run.timeline.map((m) => m.joinsStarted))).toBe(run.peersJoined)
    expect(sum(run.timeline.map((m) => m.left))).toBe(run.peersLeft)
  })

  it('judges lookups against the live, joined peers only', () => {
    expect(audits).toHaveLength(3)
    for (const audit of audits) {
      expect(audit.crashedOwners).toBe(0)
      expect(audit.owners).toEqual(audit.joinedLive)
      expect(audit.spotChecks).toBe(audit.owners.length)
    }
  })

  it('counts every lookup once, and most reach the live responsible peer', () => {
    // Poisson arrivals: 64 × 0.2/s × 180 s ≈ 2304 lookups.
    const expected = 64 * 0.2 * 180
    expect(run.lookups + run.abandonedLookups).toBeGreaterThan(expected - 5 * Math.sqrt(expected))
    expect(run.lookups + run.abandonedLookups).toBeLessThan(expected + 5 * Math.sqrt(expected))
    expect(run.consistent + run.wrongOwner + run.failedLookups).toBe(run.lookups)
    expect(sum(run.timeline.map((m) => m.lookups))).toBe(run.lookups)
    expect(sum(run.timeline.map((m) => m.consistent))).toBe(run.consistent)
    expect(sum(Object.values(run.failuresByCode))).toBe(run.failedLookups)
    expect(sum(Object.values(run.failuresByCause))).toBe(run.failedLookups)
    expect(sum(Object.values(run.wrongByAnswerer))).toBe(run.wrongOwner)
    expect(run.consistentLookups).toBeCloseTo(run.consistent / run.lookups, 5)
    // Heavy churn (a session median of 1.4 min): still most lookups are right.
    expect(run.consistentLookups).toBeGreaterThan(0.9)
    expect(run.meanHops).toBeGreaterThan(1)
    expect(run.meanHops).toBeLessThan(Math.log2(64) + 2)
  })

  it('sees every frame: maintenance plus lookup frames are all the frames the network carried', () => {
    expect(run.maintenanceFrames + run.lookupFrames).toBe(run.framesSent)
    expect(run.maintenanceMsgsPerPeerPerSec).toBeCloseTo(run.maintenanceFrames / (64 * run.virtualSeconds), 2)
    // Each of a lookup's routes costs its hops there and back (a waypoint's route a few more): 2 to 5 × mean hops frames a route.
    const routes = RING_DEFAULTS.lookupRoutes
    expect(run.lookupFrames / run.lookups).toBeGreaterThan(2 * run.meanHops * routes)
    expect(run.lookupFrames / run.lookups).toBeLessThan(5 * run.meanHops * routes)
    // Stabilize alone is getState + state + notify once a second.
    expect(run.maintenanceByKind.getState).toBeGreaterThan(0.8)
    expect(run.maintenanceMsgsPerPeerPerSec).toBeGreaterThan(3)
  })

  it('is deterministic for a seed', () => {
    const small: ChurnOptions = { ...base, peers: 24, durationMinutes: 1 }
    const strip = ({ wallMs, convergeWallMs, peakRssMB, heapMB, timeline, ...rest }: ChurnResult) => ({ ...rest, timeline: timeline.map(({ wallMs, ...m }) => m) })
    const first = strip(runChurn(small))
    expect(strip(runChurn(small))).toEqual(first)
    expect(strip(runChurn({ ...small, seed: 6 }))).not.toEqual(first)
  })

  it('fewer, longer sessions (Pareto, median 10 min): almost every lookup is right', () => {
    const calm = runChurn({ ...base, lifetime: 'pareto', medianMinutes: 10, durationMinutes: 2, seed: 7 })
    expect(calm.peersLeft).toBeGreaterThan(0)
    expect(calm.consistentLookups).toBeGreaterThan(0.97)
    expect(calm.consistentLookups).toBeGreaterThanOrEqual(run.consistentLookups)
  })
})
