import { modelledClaimProver } from '../../src/identity/claim-proof'
import type { LookupOptions } from '../../src/ring/lookup'
import type { RingNode } from '../../src/ring/node'
import { createTestnet, randomRingId, type Testnet } from '../../src/testnet'
import type { AdversaryOptions } from '../../src/testnet/adversary'

/**
 * Peers that lie on lookups (src/testnet/adversary.ts: our own ring code,
 * whose channels hand lookup requests to the coalition first) against the
 * lookups of honest peers, in virtual time over the memory transport.
 */
const PEERS = 64
const LOOKUPS = 120

/** A converged ring with its coalition attacking, and the honest peers. */
function attackedRing(adversary: AdversaryOptions, seed = 3): { net: Testnet; honest: RingNode[] } {
  const net = createTestnet(PEERS, { seed, adversary })
  expect(net.converge()).toBeGreaterThanOrEqual(0)
  const coalition = net.coalition!
  expect(coalition.members.size).toBeGreaterThan(0)
  coalition.active = true
  const honest = [...net.nodes.values()].filter((node) => !coalition.members.has(node.id))
  return { net, honest }
}

interface Outcome {
  from: RingNode
  key: number
  /** The owner the lookup named, or null when it failed. */
  owner: number | null
}

/** Lookups of `keys` from `froms`, all at once, settled in virtual time. */
function lookups(net: Testnet, asks: { from: RingNode; key: number }[], options: LookupOptions = {}): Outcome[] {
  const outcomes = asks.map(({ from, key }) => {
    const outcome: Outcome = { from, key, owner: null }
    from.lookup$(key, options).subscribe({ next: ({ owner }) => (outcome.owner = owner), error: () => undefined })
    return outcome
  })
  net.scheduler.advanceBy(4001)
  return outcomes
}

function asks(net: Testnet, honest: RingNode[]): { from: RingNode; key: number }[] {
  return Array.from({ length: LOOKUPS }, () => ({ from: honest[Math.floor(net.random() * honest.length)], key: randomRingId(net.random) }))
}

describe('lookups against peers that answer for keys they do not own', () => {
  it.each(['self', 'accomplice'] as const)('%s: one route believes the liars; the default lookup names the true owner', (attack) => {
    const { net, honest } = attackedRing({ fraction: 0.15, attack })
    const oracle = net.oracle()
    const asked = asks(net, honest)
    // Plain values only: a failing expectation prints them (a RingNode is far too big to print).
    const wrong = (outcomes: Outcome[]) => outcomes.filter((o) => o.owner !== null && o.owner !== oracle.owner(o.key)).map(({ key, owner }) => ({ key, owner }))
    // The attack bites: over a single route, many answers name a coalition member that does not own the key.
    const lied = wrong(lookups(net, asked, { routes: 1 }))
    expect(lied.length).toBeGreaterThan(LOOKUPS / 10)
    for (const o of lied) expect(net.coalition!.members.has(o.owner!)).toBe(true)
    // The same lookups over several routes, believing the proven claim closest after the key.
    const outcomes = lookups(net, asked)
    expect(wrong(outcomes)).toEqual([])
    expect(outcomes.filter((o) => o.owner === null).length).toBeLessThan(LOOKUPS / 20)
    net.close()
  })
})

describe('lookups against forged owner confirmations', () => {
  it('a Found naming a member, signed by a key that is not its, is refused: the lookup never names that member', () => {
    // The liars cannot sign as the member they name: each signs with a key whose id is the next one.
    const forge = (named: number) => modelledClaimProver(named + 1)
    const { net, honest } = attackedRing({ fraction: 0.15, attack: 'accomplice', proverFor: forge })
    const oracle = net.oracle()
    // One route: only the proof check stands between the lie and the answer.
    const outcomes = lookups(net, asks(net, honest), { routes: 1 })
    const answered = outcomes.filter((o) => o.owner !== null)
    expect(answered.length).toBeGreaterThan(0)
    expect(answered.filter((o) => o.owner !== oracle.owner(o.key)).map(({ key, owner }) => ({ key, owner }))).toEqual([])
    // The liars were on the way: the lookups they answered got no owner at all (retried, then timed out).
    expect(outcomes.length - answered.length).toBeGreaterThan(0)
    net.close()
  })
})

describe('the number of routes is checked', () => {
  it('a lookup or a ring asking for 0, 17 or 1.5 routes throws BAD_OPTIONS at once', () => {
    const net = createTestnet(2, { seed: 1 })
    const node = [...net.nodes.values()][0]
    for (const routes of [0, 17, 1.5]) {
      expect(() => node.lookup$(5, { routes })).toThrow(expect.objectContaining({ code: 'BAD_OPTIONS' }))
      expect(() => createTestnet(2, { seed: 1, lookupRoutes: routes })).toThrow(expect.objectContaining({ code: 'BAD_OPTIONS' }))
    }
    net.close()
  })
})
