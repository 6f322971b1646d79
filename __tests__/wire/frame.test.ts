import fc from 'fast-check'
import { codeOf } from '../helpers/error-code'
import { ExplorerError } from '../../src/errors'
import { RING_SIZE } from '../../src/ids'
import { MAX_FRAME_BYTES } from '../../src/wire/limits'
import {
  DEFAULT_TTL,
  FRAME_VERSION,
  FrameType,
  HEADER_BYTES,
  MAX_PAYLOAD_BYTES,
  decodeFrame,
  decrementTtl,
  encodeFrame,
  frameDest,
  frameTtl,
  type Frame,
} from '../../src/wire/frame'

const MAX_ID = RING_SIZE - 1
const U32 = 2 ** 32 - 1
const TYPES = Object.values(FrameType).filter((v): v is FrameType => typeof v === 'number')

const sample = (over: Partial<Frame> = {}): Frame => ({
  type: FrameType.Data,
  ttl: DEFAULT_TTL,
  flags: 0,
  source: 0x0123456789ab,
  dest: 0xfedcba987654,
  conn: 0xdeadbeef,
  seq: 7,
  payload: new Uint8Array([1, 2, 3]),
  ...over,
})

/** Payloads: mostly small, sometimes large, sometimes exactly the maximum. */
const payloadArb = fc.oneof(
  { weight: 6, arbitrary: fc.uint8Array({ maxLength: 64 }) },
  { weight: 2, arbitrary: fc.integer({ min: 65, max: MAX_PAYLOAD_BYTES }).map(patterned) },
  { weight: 1, arbitrary: fc.constant(MAX_PAYLOAD_BYTES).map(patterned) },
)

const frameArb: fc.Arbitrary<Frame> = fc.record({
  type: fc.constantFrom(...TYPES),
  ttl: fc.integer({ min: 0, max: 255 }),
  flags: fc.integer({ min: 0, max: 255 }),
  source: fc.oneof(fc.integer({ min: 0, max: MAX_ID }), fc.constantFrom(0, MAX_ID, 2 ** 32 - 1, 2 ** 32)),
  dest: fc.oneof(fc.integer({ min: 0, max: MAX_ID }), fc.constantFrom(0, MAX_ID, 2 ** 47)),
  conn: fc.oneof(fc.integer({ min: 0, max: U32 }), fc.constantFrom(0, U32, 2 ** 31)),
  seq: fc.oneof(fc.integer({ min: 0, max: U32 }), fc.constantFrom(0, U32, 2 ** 31)),
  payload: payloadArb,
})

function patterned(size: number): Uint8Array {
  const bytes = new Uint8Array(size)
  for (let i = 0; i < size; i++) bytes[i] = (i * 31 + size) & 0xff
  return bytes
}

const plain = (f: Frame) => ({ ...f, payload: [...f.payload] })
/** Header fields compared with toEqual, payload bytes with a loop (toEqual on 16K arrays is slow). */
function expectSameFrame(actual: Frame, expected: Frame): void {
  expect({ ...actual, payload: actual.payload.byteLength }).toEqual({ ...expected, payload: expected.payload.byteLength })
  expect(sameBytes(actual.payload, expected.payload)).toBe(true)
}
function sameBytes(x: Uint8Array, y: Uint8Array): boolean {
  if (x.byteLength !== y.byteLength) return false
  for (let i = 0; i < x.byteLength; i++) if (x[i] !== y[i]) return false
  return true
}

describe('frame codec', () => {
  it('lays out the 24-byte header big-endian', () => {
    const bytes = encodeFrame(sample({ ttl: 9, flags: 0x03 }))
    expect(bytes.byteLength).toBe(HEADER_BYTES + 3)
    expect([...bytes.subarray(0, 4)]).toEqual([FRAME_VERSION, FrameType.Data, 9, 0x03])
    expect([...bytes.subarray(4, 10)]).toEqual([0x01, 0x23, 0x45, 0x67, 0x89, 0xab])
    expect([...bytes.subarray(10, 16)]).toEqual([0xfe, 0xdc, 0xba, 0x98, 0x76, 0x54])
    expect([...bytes.subarray(16, 20)]).toEqual([0xde, 0xad, 0xbe, 0xef])
    expect([...bytes.subarray(20, 24)]).toEqual([0, 0, 0, 7])
    expect([...bytes.subarray(24)]).toEqual([1, 2, 3])
  })

  it('round-trips a frame with an empty payload and one with the largest payload', () => {
    expect(plain(decodeFrame(encodeFrame(sample({ payload: new Uint8Array(0) }))))).toEqual(plain(sample({ payload: new Uint8Array(0) })))
    const big = encodeFrame(sample({ payload: patterned(MAX_PAYLOAD_BYTES) }))
    expect(big.byteLength).toBe(MAX_FRAME_BYTES)
    expect(decodeFrame(big).payload.byteLength).toBe(MAX_PAYLOAD_BYTES)
  })

  it('refuses a payload over MAX_PAYLOAD_BYTES with BAD_FRAME', () => {
    expect(codeOf(() => encodeFrame(sample({ payload: new Uint8Array(MAX_PAYLOAD_BYTES + 1) })))).toBe('BAD_FRAME')
  })

  it.each<[string, Partial<Frame>]>([
    ['ttl 256', { ttl: 256 }],
    ['ttl -1', { ttl: -1 }],
    ['flags 256', { flags: 256 }],
    ['source 2^48', { source: RING_SIZE }],
    ['source -1', { source: -1 }],
    ['dest 2^48', { dest: RING_SIZE }],
    ['dest 1.5', { dest: 1.5 }],
    ['conn 2^32', { conn: 2 ** 32 }],
    ['seq -1', { seq: -1 }],
    ['seq NaN', { seq: NaN }],
    ['type 0', { type: 0 as FrameType }],
    ['type 99', { type: 99 as FrameType }],
  ])('encodeFrame refuses %s with BAD_FRAME instead of writing a different frame', (_label, over) => {
    expect(codeOf(() => encodeFrame(sample(over)))).toBe('BAD_FRAME')
  })

  it.each<[string, Uint8Array]>([
    ['empty', new Uint8Array(0)],
    ['shorter than the header', encodeFrame(sample()).subarray(0, HEADER_BYTES - 1)],
    ['over MAX_FRAME_BYTES', (() => {
      const b = new Uint8Array(MAX_FRAME_BYTES + 1)
      b.set(encodeFrame(sample()).subarray(0, HEADER_BYTES))
      return b
    })()],
    ['a wrong version', (() => {
      const b = encodeFrame(sample())
      b[0] = FRAME_VERSION + 1
      return b
    })()],
    ['an unknown type', (() => {
      const b = encodeFrame(sample())
      b[1] = 0
      return b
    })()],
  ])('decodeFrame refuses %s with BAD_FRAME', (_label, bytes) => {
    expect(codeOf(() => decodeFrame(bytes))).toBe('BAD_FRAME')
  })

  it('decodes a frame that is a view into a larger buffer; the payload is a view', () => {
    const encoded = encodeFrame(sample())
    const big = new Uint8Array(encoded.byteLength + 10)
    big.set(encoded, 5)
    const frame = decodeFrame(big.subarray(5, 5 + encoded.byteLength))
    expect(plain(frame)).toEqual(plain(sample()))
    big[5 + HEADER_BYTES] = 99
    expect(frame.payload[0]).toBe(99)
  })

  it('frameDest / frameTtl read the header without decoding; decrementTtl spends one hop in place', () => {
    const bytes = encodeFrame(sample({ ttl: 2, dest: MAX_ID }))
    expect(frameDest(bytes)).toBe(MAX_ID)
    expect(frameTtl(bytes)).toBe(2)
    decrementTtl(bytes)
    expect(frameTtl(bytes)).toBe(1)
    expect(decodeFrame(bytes).ttl).toBe(1)
  })

  it('decrementTtl never wraps an expired frame back to 255', () => {
    const bytes = encodeFrame(sample({ ttl: 0 }))
    decrementTtl(bytes)
    expect(frameTtl(bytes)).toBe(0)
  })
})

describe('frame codec properties (10,000 runs each)', () => {
  it('decode(encode(f)) equals f for every valid frame', () => {
    fc.assert(
      fc.property(frameArb, (f) => {
        const bytes = encodeFrame(f)
        expect(bytes.byteLength).toBe(HEADER_BYTES + f.payload.byteLength)
        expectSameFrame(decodeFrame(bytes), f)
        expect(frameDest(bytes)).toBe(f.dest)
        expect(frameTtl(bytes)).toBe(f.ttl)
      }),
      { numRuns: 10_000 },
    )
  })

  it('encode copies the payload: later changes to it do not alter the frame', () => {
    fc.assert(
      fc.property(frameArb, (f) => {
        fc.pre(f.payload.byteLength > 0)
        const bytes = encodeFrame(f)
        const before = bytes.slice()
        f.payload[0] ^= 0xff
        expect(sameBytes(bytes, before)).toBe(true)
      }),
      { numRuns: 10_000 },
    )
  })

  /** Arbitrary bytes, with a bias towards almost-valid frames, where bugs hide. */
  const bytesArb: fc.Arbitrary<Uint8Array> = fc.oneof(
    fc.uint8Array({ maxLength: 64 }),
    // forged: a valid header with random bytes in it
    fc.tuple(frameArb, fc.uint8Array({ minLength: HEADER_BYTES, maxLength: HEADER_BYTES })).map(([f, junk]) => {
      const b = encodeFrame(f)
      b.set(junk.subarray(0, 4 + (junk[0] % 20)), 0)
      return b
    }),
    // truncated: a valid frame cut anywhere
    fc.tuple(frameArb, fc.nat()).map(([f, cut]) => {
      const b = encodeFrame(f)
      return b.subarray(0, cut % (b.byteLength + 1))
    }),
    // oversize: a valid header followed by too many bytes
    fc.tuple(frameArb, fc.integer({ min: 1, max: 100 })).map(([f, extra]) => {
      const b = new Uint8Array(MAX_FRAME_BYTES + extra)
      b.set(encodeFrame(f).subarray(0, HEADER_BYTES))
      return b
    }),
    // a valid version and type byte, the rest random
    fc.tuple(fc.constantFrom(...TYPES), fc.uint8Array({ minLength: 0, maxLength: 200 })).map(([type, rest]) =>
      Uint8Array.from([FRAME_VERSION, type, ...rest]),
    ),
  )

  it('decodeFrame of any bytes returns a frame or throws BAD_FRAME, nothing else', () => {
    fc.assert(
      fc.property(bytesArb, (bytes) => {
        let frame: Frame
        try {
          frame = decodeFrame(bytes)
        } catch (e) {
          expect(e).toBeInstanceOf(ExplorerError)
          expect((e as ExplorerError).code).toBe('BAD_FRAME')
          return
        }
        // Whatever it accepts is a well-formed frame that encodes back to the same bytes.
        expect(bytes.byteLength).toBeGreaterThanOrEqual(HEADER_BYTES)
        expect(bytes.byteLength).toBeLessThanOrEqual(MAX_FRAME_BYTES)
        expect(sameBytes(encodeFrame(frame), bytes)).toBe(true)
      }),
      { numRuns: 10_000 },
    )
  })
})
