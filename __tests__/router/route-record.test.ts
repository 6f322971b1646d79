import fc from 'fast-check'
import { ExplorerError, isExplorerError } from '../../src/errors'
import { RING_SIZE } from '../../src/ids'
import { DEFAULT_TTL, FrameFlag, FrameType, decodeFrame, encodeFrame } from '../../src/wire/frame'
import { MAX_ROUTE_HOPS, readRoute, readSourceRoute, withHop, writeRoute, writeSourceRoute } from '../../src/wire/route-record'

const MAX = RING_SIZE - 1
const idArb = fc.oneof(fc.integer({ min: 0, max: MAX }), fc.constantFrom(0, MAX, 2 ** 32 - 1, 2 ** 32))
const restArb = fc.uint8Array({ maxLength: 32 })
const ids = (n: number) => Array.from({ length: n }, (_, i) => MAX - i)

function badFrame(run: () => unknown): ExplorerError {
  try {
    run()
  } catch (error) {
    if (isExplorerError(error, 'BAD_FRAME')) return error
    throw error
  }
  throw new Error('expected BAD_FRAME, nothing was thrown')
}

describe('route record (traced frames): [count][ids][rest]', () => {
  it.each([
    ['empty, no rest', [], []],
    ['empty, with rest', [], [1, 2, 3]],
    ['ring edges', [0, MAX, 2 ** 32 - 1, 2 ** 32], [9]],
    ['MAX_ROUTE_HOPS ids', ids(MAX_ROUTE_HOPS), [7, 7]],
  ])('round trip: %s', (_name, list, rest) => {
    const bytes = writeRoute(list, Uint8Array.from(rest))
    expect(bytes).toHaveLength(1 + 6 * list.length + rest.length)
    const record = readRoute(bytes)
    expect(record.ids).toEqual(list)
    expect([...record.rest]).toEqual(rest)
  })

  it('the rest is a view into the payload, not a copy', () => {
    const bytes = writeRoute([5], Uint8Array.of(1, 2))
    readRoute(bytes).rest[0] = 42
    expect(bytes[7]).toBe(42)
  })

  it('refuses to write more than MAX_ROUTE_HOPS ids', () => {
    expect(badFrame(() => writeRoute(ids(MAX_ROUTE_HOPS + 1), new Uint8Array())).message).toMatch(/exceeds/)
  })

  it.each([
    ['an empty payload', []],
    ['a count past the end', [2, 0, 0, 0, 0, 0, 1]],
    ['an id cut short', [1, 0, 0, 0]],
    ['a count over MAX_ROUTE_HOPS', [MAX_ROUTE_HOPS + 1, ...new Array(6 * (MAX_ROUTE_HOPS + 1)).fill(0)]],
  ])('reading refuses %s', (_name, bytes) => {
    badFrame(() => readRoute(Uint8Array.from(bytes)))
  })

  it('any ids and rest round-trip (fast-check)', () => {
    fc.assert(
      fc.property(fc.array(idArb, { maxLength: MAX_ROUTE_HOPS }), restArb, (list, rest) => {
        const record = readRoute(writeRoute(list, rest))
        expect(record.ids).toEqual(list)
        expect(record.rest).toEqual(rest)
      }),
      { numRuns: 1000 },
    )
  })
})

describe('withHop: a forwarder appends itself to a traced frame as bytes', () => {
  it('any record and rest: the same frame with the id appended and the header ttl and flags set (fast-check)', () => {
    fc.assert(
      fc.property(fc.array(idArb, { maxLength: MAX_ROUTE_HOPS - 1 }), restArb, idArb, (path, rest, self) => {
        const frame = { type: FrameType.Ring, ttl: DEFAULT_TTL, flags: FrameFlag.Traced, source: 7, dest: 9, conn: 3, seq: 0, payload: writeRoute(path, rest) }
        const forwarded = decodeFrame(withHop(encodeFrame(frame), self, DEFAULT_TTL - 1, FrameFlag.Traced | FrameFlag.Final))
        expect({ ...forwarded, payload: undefined }).toEqual({ ...frame, ttl: DEFAULT_TTL - 1, flags: FrameFlag.Traced | FrameFlag.Final, payload: undefined })
        const record = readRoute(forwarded.payload)
        expect(record.ids).toEqual([...path, self])
        expect([...record.rest]).toEqual([...rest])
      }),
    )
  })
})

describe('source route (replies): [count][next][ids][rest]', () => {
  it.each([
    ['one hop', [42], []],
    ['ring edges, with rest', [0, MAX, 2 ** 32], [1, 2]],
    ['MAX_ROUTE_HOPS hops', ids(MAX_ROUTE_HOPS), [3]],
  ])('round trip: %s, cursor at 0', (_name, list, rest) => {
    const bytes = writeSourceRoute(list, Uint8Array.from(rest))
    expect(bytes).toHaveLength(2 + 6 * list.length + rest.length)
    const route = readSourceRoute(bytes)
    expect(route).toMatchObject({ ids: list, next: 0 })
    expect([...route.rest]).toEqual(rest)
  })

  it('the cursor may stand anywhere from 0 to count (count: arrived)', () => {
    const bytes = writeSourceRoute([1, 2, 3], new Uint8Array())
    for (const next of [0, 1, 2, 3]) {
      bytes[1] = next
      expect(readSourceRoute(bytes).next).toBe(next)
    }
    bytes[1] = 4
    badFrame(() => readSourceRoute(bytes))
  })

  it('refuses to write an empty route or one over MAX_ROUTE_HOPS', () => {
    badFrame(() => writeSourceRoute([], new Uint8Array()))
    badFrame(() => writeSourceRoute(ids(MAX_ROUTE_HOPS + 1), new Uint8Array()))
  })

  it.each([
    ['an empty payload', []],
    ['a payload of one byte', [1]],
    ['a zero count', [0, 0]],
    ['a count past the end', [2, 0, 0, 0, 0, 0, 0, 1]],
    ['a count over MAX_ROUTE_HOPS', [MAX_ROUTE_HOPS + 1, 0, ...new Array(6 * (MAX_ROUTE_HOPS + 1)).fill(0)]],
  ])('reading refuses %s', (_name, bytes) => {
    badFrame(() => readSourceRoute(Uint8Array.from(bytes)))
  })

  it('any route and rest round-trip (fast-check)', () => {
    fc.assert(
      fc.property(fc.array(idArb, { minLength: 1, maxLength: MAX_ROUTE_HOPS }), restArb, (list, rest) => {
        const route = readSourceRoute(writeSourceRoute(list, rest))
        expect(route.ids).toEqual(list)
        expect(route.next).toBe(0)
        expect(route.rest).toEqual(rest)
      }),
      { numRuns: 1000 },
    )
  })
})

describe('route records from arbitrary bytes (fast-check, 10,000 runs each)', () => {
  // Small counts in the first bytes, so that valid records are common too.
  const bytesArb = fc.oneof(
    fc.uint8Array({ maxLength: 64 }),
    fc.tuple(fc.integer({ min: 0, max: 60 }), fc.integer({ min: 0, max: 60 }), fc.uint8Array({ maxLength: 400 })).map(([a, b, rest]) => Uint8Array.of(a, b, ...rest)),
  )

  it('readRoute decodes or throws BAD_FRAME; what it decodes fits the bytes', () => {
    fc.assert(
      fc.property(bytesArb, (bytes) => {
        try {
          const record = readRoute(bytes)
          expect(record.ids).toHaveLength(bytes[0])
          expect(record.ids.length).toBeLessThanOrEqual(MAX_ROUTE_HOPS)
          expect(1 + 6 * record.ids.length + record.rest.length).toBe(bytes.length)
          for (const id of record.ids) expect(id >= 0 && id <= MAX).toBe(true)
          expect(writeRoute(record.ids, record.rest)).toEqual(bytes)
        } catch (error) {
          if (!isExplorerError(error, 'BAD_FRAME')) throw error
        }
      }),
      { numRuns: 10_000 },
    )
  })

  it('readSourceRoute decodes or throws BAD_FRAME; what it decodes fits the bytes', () => {
    fc.assert(
      fc.property(bytesArb, (bytes) => {
        try {
          const route = readSourceRoute(bytes)
          expect(route.ids.length).toBe(bytes[0])
          expect(route.ids.length).toBeGreaterThanOrEqual(1)
          expect(route.ids.length).toBeLessThanOrEqual(MAX_ROUTE_HOPS)
          expect(route.next).toBeLessThanOrEqual(route.ids.length)
          expect(2 + 6 * route.ids.length + route.rest.length).toBe(bytes.length)
        } catch (error) {
          if (!isExplorerError(error, 'BAD_FRAME')) throw error
        }
      }),
      { numRuns: 10_000 },
    )
  })
})
