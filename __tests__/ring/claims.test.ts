import { RING_SIZE } from '../../src/ids'
import { chooseClaim, claimRefused, type ProvenClaim } from '../../src/ring/claims'

const KEY = 1000
const claim = (owner: number, predecessor: number | null, hops = 3): ProvenClaim<string> => ({
  claim: { key: KEY, owner, predecessor, nonce: 1 }, hops, extra: `${owner}/${hops}`,
})

describe('which proven claim a lookup believes', () => {
  it('the owner closest at or after the key: a proven peer there contradicts every claim farther on', () => {
    expect(chooseClaim([claim(5000, 900), claim(1200, 990), claim(3000, 999)])?.extra).toBe('1200/3')
    // Around the top of the ring: an owner past 0 is closer than one far before the key's end.
    const high = RING_SIZE - 10
    const wrap = (owner: number, predecessor: number): ProvenClaim<string> => ({ claim: { key: high, owner, predecessor, nonce: 1 }, hops: 1, extra: String(owner) })
    expect(chooseClaim([wrap(500, high - 1), wrap(5, high - 1)])?.extra).toBe('5')
    expect(chooseClaim([wrap(high, high - 1), wrap(5, high - 1)])?.extra).toBe(String(high))
  })

  it('between claims naming the same owner, the fewer hops', () => {
    expect(chooseClaim([claim(1200, 990, 5), claim(1200, 990, 2), claim(1200, 990, 4)])?.extra).toBe('1200/2')
  })

  it("refuses a claim whose own predecessor lies at or after the key (its maker says it is not the owner)", () => {
    expect(claimRefused(claim(1200, KEY).claim)).toBe(true)
    expect(claimRefused(claim(1200, 1100).claim)).toBe(true)
    expect(claimRefused(claim(1200, 999).claim)).toBe(false)
    expect(claimRefused(claim(KEY, 999).claim)).toBe(false)
    expect(claimRefused(claim(1200, null).claim)).toBe(false)
    // The closest owner, refused, loses to a farther one that is not.
    expect(chooseClaim([claim(1100, 1050), claim(2000, 999)])?.extra).toBe('2000/3')
  })

  it('believes nothing when every claim is refused, or none came', () => {
    expect(chooseClaim([claim(1100, 1050)])).toBeNull()
    expect(chooseClaim([])).toBeNull()
  })
})
