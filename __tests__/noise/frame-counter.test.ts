import fc from 'fast-check'
import { counterFromWireSeq } from '../../src/noise/frame-counter'

const SPAN = 2 ** 32

describe('counterFromWireSeq', () => {
  test('recovers the counter across the u32 wrap, early and late frames alike', () => {
    expect(counterFromWireSeq(5, 0)).toBe(5)
    expect(counterFromWireSeq(1, SPAN - 2)).toBe(SPAN + 1) // the sender wrapped first
    expect(counterFromWireSeq(SPAN - 1, SPAN + 3)).toBe(SPAN - 1) // a late frame from before the wrap
    expect(counterFromWireSeq(7, 3 * SPAN + 5)).toBe(3 * SPAN + 7)
    expect(counterFromWireSeq(SPAN - 1, 0)).toBe(SPAN - 1) // no counter below 0
  })

  test('is exact for any frame within 2^31 of the expected counter', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 2 ** 50 }), fc.integer({ min: -(2 ** 31) + 1, max: 2 ** 31 }), (expected, offset) => {
        const counter = expected + offset
        fc.pre(counter >= 0)
        return counterFromWireSeq(counter % SPAN, expected) === counter
      }),
      { numRuns: 2000 },
    )
  })
})
