import fc from 'fast-check'
import { codeOf } from './helpers/error-code'
import {
  ID_BITS,
  RING_SIZE,
  betweenOpen,
  betweenRightInclusive,
  bytesToId,
  distance,
  fingerStart,
  formatId,
  isIdString,
  parseId,
  randomId,
  randomIdNumber,
  writeId,
} from '../src/ids'

const MAX = RING_SIZE - 1
const anyId = fc.integer({ min: 0, max: MAX })

describe('parseId / formatId', () => {
  it('round-trips the extremes', () => {
    expect(formatId(0)).toBe('000000000000')
    expect(formatId(MAX)).toBe('ffffffffffff')
    expect(parseId('000000000000')).toBe(0)
    expect(parseId('ffffffffffff')).toBe(MAX)
    expect(parseId('000000000001')).toBe(1)
    expect(parseId('800000000000')).toBe(2 ** 47)
  })

  it.each([
    ['uppercase', 'FFFFFFFFFFFF'],
    ['too short', 'fffffffffff'],
    ['too long', '0000000000000'],
    ['non-hex', '00000000000g'],
    ['0x prefix', '0x0000000000'],
    ['whitespace', ' 00000000000'],
    ['empty', ''],
    ['a number', 42],
    ['null', null],
    ['undefined', undefined],
  ])('parseId rejects %s with BAD_ID', (_label, value) => {
    expect(codeOf(() => parseId(value))).toBe('BAD_ID')
    expect(isIdString(value)).toBe(false)
  })

  it.each([[-1], [RING_SIZE], [1.5], [NaN], [Infinity]])('formatId rejects %p with BAD_ID', (n) => {
    expect(codeOf(() => formatId(n))).toBe('BAD_ID')
  })

  it('explains what was wrong', () => {
    expect(() => parseId('xyz')).toThrow(/12 lowercase hex/)
    expect(() => parseId(7)).toThrow(/number/)
  })

  it('round-trips every id (property)', () => {
    fc.assert(fc.property(anyId, (n) => parseId(formatId(n)) === n && isIdString(formatId(n))), { numRuns: 10_000 })
  })
})

describe('random ids', () => {
  it('are valid, in range and not constant', () => {
    const seen = new Set<number>()
    for (let i = 0; i < 200; i++) {
      const n = randomIdNumber()
      expect(Number.isInteger(n) && n >= 0 && n <= MAX).toBe(true)
      seen.add(n)
      expect(isIdString(randomId())).toBe(true)
    }
    expect(seen.size).toBeGreaterThan(190)
  })

  it('use the high bits too', () => {
    // 200 draws all below 2^47 would happen with probability 2^-200.
    expect(Array.from({ length: 200 }, randomIdNumber).some((n) => n >= 2 ** 47)).toBe(true)
  })
})

describe('bytesToId / writeId', () => {
  it.each([[0], [1], [0xff], [2 ** 32 - 1], [2 ** 32], [2 ** 47], [MAX - 1], [MAX]])('round-trips %p at an offset', (n) => {
    const bytes = new Uint8Array(10).fill(0xaa)
    writeId(bytes, 3, n)
    expect(bytesToId(bytes, 3)).toBe(n)
    expect([...bytes.subarray(0, 3), ...bytes.subarray(9)]).toEqual([0xaa, 0xaa, 0xaa, 0xaa]) // neighbours untouched
  })

  it('is big-endian', () => {
    const bytes = new Uint8Array(6)
    writeId(bytes, 0, 0x0102030405ff)
    expect([...bytes]).toEqual([1, 2, 3, 4, 5, 0xff])
    writeId(bytes, 0, MAX)
    expect([...bytes]).toEqual([255, 255, 255, 255, 255, 255])
    expect(bytesToId(new Uint8Array([0x80, 0, 0, 0, 0, 0]), 0)).toBe(2 ** 47)
  })

  it('round-trips every id (property)', () => {
    const bytes = new Uint8Array(6)
    fc.assert(fc.property(anyId, (n) => (writeId(bytes, 0, n), bytesToId(bytes, 0) === n)), { numRuns: 10_000 })
  })
})

describe('ring arithmetic', () => {
  it('distance wraps', () => {
    expect(distance(0, 0)).toBe(0)
    expect(distance(MAX, 0)).toBe(1)
    expect(distance(0, MAX)).toBe(MAX)
    expect(distance(5, 3)).toBe(RING_SIZE - 2)
    expect(distance(MAX, MAX)).toBe(0)
  })

  it('betweenOpen (a, b) across the wrap', () => {
    expect(betweenOpen(0, MAX, 1)).toBe(true)
    expect(betweenOpen(MAX, MAX - 1, 0)).toBe(true)
    expect(betweenOpen(MAX, MAX, 0)).toBe(false) // endpoints excluded
    expect(betweenOpen(0, MAX, 0)).toBe(false)
    expect(betweenOpen(1, MAX, 0)).toBe(false)
    expect(betweenOpen(5, 1, 10)).toBe(true)
    expect(betweenOpen(10, 1, 10)).toBe(false)
    expect(betweenOpen(11, 1, 10)).toBe(false)
  })

  it('betweenOpen with a === b is the whole ring but a', () => {
    for (const a of [0, 1, 2 ** 47, MAX]) {
      expect(betweenOpen(a, a, a)).toBe(false)
      expect(betweenOpen((a + 1) % RING_SIZE, a, a)).toBe(true)
      expect(betweenOpen((a + MAX) % RING_SIZE, a, a)).toBe(true)
    }
  })

  it('betweenRightInclusive (a, b] across the wrap', () => {
    expect(betweenRightInclusive(0, MAX, 0)).toBe(true)
    expect(betweenRightInclusive(MAX, MAX, 0)).toBe(false)
    expect(betweenRightInclusive(1, MAX, 0)).toBe(false)
    expect(betweenRightInclusive(MAX, 0, MAX)).toBe(true)
    expect(betweenRightInclusive(0, 0, MAX)).toBe(false)
  })

  it('betweenRightInclusive with a === b is the whole ring (a lone peer owns every key)', () => {
    for (const a of [0, 2 ** 47, MAX]) {
      expect(betweenRightInclusive(a, a, a)).toBe(true)
      expect(betweenRightInclusive((a + 1) % RING_SIZE, a, a)).toBe(true)
      expect(betweenRightInclusive((a + MAX) % RING_SIZE, a, a)).toBe(true)
    }
  })

  it('(a, b] is (a, b) plus b, and every key has exactly one owner (properties)', () => {
    fc.assert(
      fc.property(anyId, anyId, anyId, (x, a, b) => {
        fc.pre(a !== b)
        const open = betweenOpen(x, a, b)
        const right = betweenRightInclusive(x, a, b)
        // (a, b] and (b, a] split the ring.
        const other = betweenRightInclusive(x, b, a)
        return right === (open || x === b) && right !== other
      }),
      { numRuns: 10_000 },
    )
  })

  it('fingerStart at the edges, including row 47 wrapping', () => {
    expect(fingerStart(0, 0)).toBe(1)
    expect(fingerStart(MAX, 0)).toBe(0)
    expect(fingerStart(0, 47)).toBe(2 ** 47)
    expect(fingerStart(2 ** 47, 47)).toBe(0)
    expect(fingerStart(MAX, 47)).toBe(2 ** 47 - 1)
    expect(fingerStart(2 ** 47 + 5, 47)).toBe(5)
    for (let row = 0; row < ID_BITS; row++) expect(distance(12345, fingerStart(12345, row))).toBe(2 ** row)
  })

  it.each([[-1], [48], [1.5], [NaN]])('fingerStart rejects row %p with BAD_ID', (row) => {
    expect(codeOf(() => fingerStart(0, row))).toBe('BAD_ID')
  })
})
