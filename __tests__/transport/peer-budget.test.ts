import { PeerBudget } from '../../src/transport/webrtc/peer-budget'

describe('PeerBudget: RTCPeerConnections per minute', () => {
  const taken = (budget: PeerBudget, tries: number) => Array.from({ length: tries }, () => budget.take()).filter(Boolean).length

  it('gives a burst of half the minute’s budget, then one per 60/perMinute seconds', () => {
    let now = 0
    const budget = new PeerBudget(60, () => now)
    expect(taken(budget, 100)).toBe(30)
    now += 999
    expect(budget.take()).toBe(false)
    now += 1
    expect(budget.take()).toBe(true)
    expect(budget.take()).toBe(false)
    // A minute later: 60 more earned, but never more than the burst at once.
    now += 60_000
    expect(taken(budget, 100)).toBe(30)
  })

  it('a budget of 1 a minute still allows one', () => {
    let now = 0
    const budget = new PeerBudget(1, () => now)
    expect(taken(budget, 5)).toBe(1)
    now += 59_999
    expect(budget.take()).toBe(false)
    now += 1
    expect(budget.take()).toBe(true)
  })

  it('a clock that goes back earns nothing', () => {
    let now = 10_000
    const budget = new PeerBudget(60, () => now)
    taken(budget, 30)
    now = 0
    expect(budget.take()).toBe(false)
    now = 10_000
    expect(budget.take()).toBe(false)
  })
})
