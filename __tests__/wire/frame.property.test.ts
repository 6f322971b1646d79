import fc from 'fast-check'
import { ExplorerError } from '../../src/errors'
import { RING_SIZE } from '../../src/ids'
import { MAX_FRAME_BYTES } from '../../src/wire/limits'
import {
  DEFAULT_TTL,
  FRAME_VERSION,
  FrameFlag,
  FrameType,
  HEADER_BYTES,
  KNOWN_FLAGS,
  MAX_PAYLOAD_BYTES,
  decodeFrame,
  encodeFrame,
  tryDecodeFrame,
  type Frame,
  type FrameRejection,
} from '../../src/wire/frame'
import { MALFORMED_REASONS, inspectInbound } from '../../src/wire/inbound'
import {
  MAX_ROUTE_HOPS,
  readRoute,
  readSourceRoute,
  routeProblem,
  sourceRouteProblem,
  writeRoute,
  writeSourceRoute,
} from '../../src/wire/route-record'

/**
 * Properties of the frame codec and of what a router accepts from a channel,
 * 10,000 cases each: encode/decode round trips, any bytes are decoded or
 * rejected with a code (never a throw), truncated and mutated frames are
 * rejected or decode to exactly what their bytes say.
 */
const RUNS = { numRuns: 10_000 }
const MAX_ID = RING_SIZE - 1
const U32 = 2 ** 32 - 1
const TYPES = Object.values(FrameType).filter((v): v is FrameType => typeof v === 'number')
const REJECTIONS: readonly FrameRejection[] = ['TOO_SHORT', 'TOO_LONG', 'BAD_VERSION', 'BAD_TYPE']

const idArb = fc.oneof(fc.integer({ min: 0, max: MAX_ID }), fc.constantFrom(0, MAX_ID, 2 ** 32 - 1, 2 ** 32, 2 ** 47))
const u32Arb = fc.oneof(fc.integer({ min: 0, max: U32 }), fc.constantFrom(0, U32, 2 ** 31))
/** Mostly small payloads (where structure bugs hide), sometimes up to the maximum. */
const payloadArb = fc.oneof(
  { weight: 20, arbitrary: fc.uint8Array({ maxLength: 80 }) },
  { weight: 1, arbitrary: fc.integer({ min: 81, max: MAX_PAYLOAD_BYTES }).map((n) => new Uint8Array(n).fill(n & 0xff)) },
)

/** Any frame the codec can carry: every type, any u8 ttl and flags. */
const frameArb: fc.Arbitrary<Frame> = fc.record({
  type: fc.constantFrom(...TYPES),
  ttl: fc.integer({ min: 0, max: 255 }),
  flags: fc.integer({ min: 0, max: 255 }),
  source: idArb,
  dest: idArb,
  conn: u32Arb,
  seq: u32Arb,
  payload: payloadArb,
})

/** Frames an honest router sends: TTL 1..64, known flags, and the route its flags announce. */
const honestFrameArb: fc.Arbitrary<Frame> = fc
  .record({
    frame: frameArb,
    ttl: fc.integer({ min: 1, max: DEFAULT_TTL }),
    kind: fc.constantFrom('plain', 'traced', 'routed'),
    otherFlags: fc.integer({ min: 0, max: KNOWN_FLAGS }).map((f) => f & ~(FrameFlag.Traced | FrameFlag.Routed)),
    route: fc.array(idArb, { minLength: 1, maxLength: MAX_ROUTE_HOPS }),
    cursor: fc.nat(),
    body: fc.uint8Array({ maxLength: 64 }),
  })
  .map(({ frame, ttl, kind, otherFlags, route, cursor, body }) => {
    if (kind === 'plain') return { ...frame, ttl, flags: otherFlags }
    if (kind === 'traced') return { ...frame, ttl, flags: otherFlags | FrameFlag.Traced, payload: writeRoute(route.slice(1), body) }
    const payload = writeSourceRoute(route, body)
    payload[1] = cursor % (route.length + 1)
    return { ...frame, ttl, flags: otherFlags | FrameFlag.Routed, payload }
  })

/** Arbitrary bytes, biased towards almost-frames. */
const bytesArb: fc.Arbitrary<Uint8Array> = fc.oneof(
  fc.uint8Array({ maxLength: 64 }),
  fc.uint8Array({ minLength: HEADER_BYTES, maxLength: 120 }).map((b) => ((b[0] = FRAME_VERSION), b)),
  fc.tuple(fc.constantFrom(...TYPES), fc.uint8Array({ minLength: HEADER_BYTES - 2, maxLength: 200 })).map(([type, rest]) => Uint8Array.from([FRAME_VERSION, type, ...rest])),
  honestFrameArb.map(encodeFrame),
  fc.integer({ min: MAX_FRAME_BYTES + 1, max: MAX_FRAME_BYTES + 64 }).map((n) => {
    const b = new Uint8Array(n)
    b[0] = FRAME_VERSION
    b[1] = FrameType.Data
    return b
  }),
)

function sameBytes(x: Uint8Array, y: Uint8Array): boolean {
  if (x.byteLength !== y.byteLength) return false
  for (let i = 0; i < x.byteLength; i++) if (x[i] !== y[i]) return false
  return true
}

const HEADER_FIELDS = ['type', 'ttl', 'flags', 'source', 'dest', 'conn', 'seq'] as const

/** Header fields of two frames equal, and payload bytes equal. (Plain checks: jest's matchers cost more than the codec.) */
function sameFrame(actual: Frame, expected: Frame): boolean {
  return HEADER_FIELDS.every((k) => actual[k] === expected[k]) && sameBytes(actual.payload, expected.payload)
}

const sameIds = (a: readonly number[], b: readonly number[]) => a.length === b.length && a.every((x, i) => x === b[i])

/** What the codec must say about `bytes`, from the layout alone. */
function expectedRejection(bytes: Uint8Array): FrameRejection | null {
  if (bytes.byteLength < HEADER_BYTES) return 'TOO_SHORT'
  if (bytes.byteLength > MAX_FRAME_BYTES) return 'TOO_LONG'
  if (bytes[0] !== FRAME_VERSION) return 'BAD_VERSION'
  if (!TYPES.includes(bytes[1])) return 'BAD_TYPE'
  return null
}

describe('frame codec properties (10,000 cases each)', () => {
  it('tryDecodeFrame(encodeFrame(f)) is f for every frame the codec can carry', () => {
    fc.assert(
      fc.property(frameArb, (f) => {
        const result = tryDecodeFrame(encodeFrame(f))
        return result.ok && sameFrame(result.frame, f)
      }),
      RUNS,
    )
  })

  it('tryDecodeFrame of any bytes never throws: a frame that re-encodes to the same bytes, or the coded reason; decodeFrame agrees', () => {
    fc.assert(
      fc.property(bytesArb, (bytes) => {
        const result = tryDecodeFrame(bytes)
        const expected = expectedRejection(bytes)
        let thrown: unknown = null
        try {
          decodeFrame(bytes)
        } catch (e) {
          thrown = e
        }
        if (result.ok) return expected === null && thrown === null && sameBytes(encodeFrame(result.frame), bytes)
        return (
          result.reason === expected &&
          REJECTIONS.includes(result.reason) &&
          typeof result.message === 'string' &&
          thrown instanceof ExplorerError &&
          thrown.code === 'BAD_FRAME' &&
          thrown.message === result.message
        )
      }),
      RUNS,
    )
  })

  it('a frame cut anywhere: TOO_SHORT inside the header, else the same header with a prefix of the payload', () => {
    fc.assert(
      fc.property(frameArb, fc.nat(), (f, at) => {
        const bytes = encodeFrame(f)
        const cut = bytes.subarray(0, at % (bytes.byteLength + 1))
        const result = tryDecodeFrame(cut)
        if (cut.byteLength < HEADER_BYTES) return !result.ok && result.reason === 'TOO_SHORT'
        return result.ok && sameFrame(result.frame, { ...f, payload: f.payload.subarray(0, cut.byteLength - HEADER_BYTES) })
      }),
      RUNS,
    )
  })

  it('one byte of a frame changed: rejected for that byte, or decoded with exactly that field changed', () => {
    /** The header field a byte offset belongs to. */
    const fieldAt = (offset: number): keyof Frame | 'version' =>
      offset === 0 ? 'version' : offset === 1 ? 'type' : offset === 2 ? 'ttl' : offset === 3 ? 'flags' : offset < 10 ? 'source' : offset < 16 ? 'dest' : offset < 20 ? 'conn' : offset < 24 ? 'seq' : 'payload'
    fc.assert(
      fc.property(frameArb, fc.nat(), fc.integer({ min: 1, max: 255 }), (f, where, xor) => {
        const bytes = encodeFrame(f)
        const offset = where % bytes.byteLength
        bytes[offset] ^= xor
        const result = tryDecodeFrame(bytes)
        const field = fieldAt(offset)
        if (field === 'version') return !result.ok && result.reason === 'BAD_VERSION'
        if (field === 'type' && !TYPES.includes(bytes[1])) return !result.ok && result.reason === 'BAD_TYPE'
        if (!result.ok) return false
        const changed = [...HEADER_FIELDS.filter((k) => result.frame[k] !== f[k]), ...(sameBytes(result.frame.payload, f.payload) ? [] : ['payload'])]
        return changed.length === 1 && changed[0] === field
      }),
      RUNS,
    )
  })
})

describe('what a router accepts from a channel (inspectInbound), 10,000 cases each', () => {
  it('accepts every frame an honest router sends, unchanged', () => {
    fc.assert(
      fc.property(honestFrameArb, (f) => {
        const result = inspectInbound(encodeFrame(f))
        return result.ok && sameFrame(result.frame, f)
      }),
      RUNS,
    )
  })

  it('never throws; what it accepts has a TTL in 1..64, known flags, and routes that parse within the payload', () => {
    fc.assert(
      fc.property(fc.oneof(bytesArb, frameArb.map(encodeFrame)), (bytes) => {
        const result = inspectInbound(bytes)
        // The router never looks into payloads: BAD_PAYLOAD is for the layers above.
        if (!result.ok) return MALFORMED_REASONS.includes(result.reason) && result.reason !== 'BAD_PAYLOAD'
        const f = result.frame
        const routed = (f.flags & FrameFlag.Routed) !== 0
        const traced = (f.flags & FrameFlag.Traced) !== 0
        if (f.ttl < 1 || f.ttl > DEFAULT_TTL || (f.flags & ~KNOWN_FLAGS) !== 0 || (routed && traced)) return false
        if (traced) {
          const record = readRoute(f.payload)
          return 1 + 6 * record.ids.length + record.rest.byteLength === f.payload.byteLength
        }
        if (routed) {
          const route = readSourceRoute(f.payload)
          return route.next <= route.ids.length && 2 + 6 * route.ids.length + route.rest.byteLength === f.payload.byteLength
        }
        return true
      }),
      RUNS,
    )
  })

  it('an honest frame cut inside its route, with its route count raised past the bytes (a forged length), or its cursor past the route, is BAD_ROUTE', () => {
    const routedArb = honestFrameArb.filter((f) => (f.flags & (FrameFlag.Traced | FrameFlag.Routed)) !== 0)
    fc.assert(
      fc.property(routedArb, fc.nat(), fc.constantFrom('cut', 'forge', 'cursor'), (f, n, how) => {
        const traced = (f.flags & FrameFlag.Traced) !== 0
        const routeBytes = traced ? 1 + 6 * f.payload[0] : 2 + 6 * f.payload[0]
        let bytes = encodeFrame(f)
        if (how === 'forge') {
          // Claim more ids than the payload holds (at most MAX_ROUTE_HOPS, so only the length is wrong).
          const claimed = Math.floor((f.payload.byteLength - (traced ? 1 : 2)) / 6) + 1
          fc.pre(claimed <= MAX_ROUTE_HOPS)
          bytes[HEADER_BYTES] = claimed
        } else if (how === 'cursor') {
          fc.pre(!traced)
          bytes[HEADER_BYTES + 1] = f.payload[0] + 1 + (n % (255 - f.payload[0]))
        } else {
          bytes = bytes.subarray(0, HEADER_BYTES + (n % routeBytes))
        }
        const result = inspectInbound(bytes)
        return !result.ok && result.reason === 'BAD_ROUTE'
      }),
      RUNS,
    )
  })

  it('TTL outside 1..64 is BAD_TTL and flag bits outside KNOWN_FLAGS are BAD_FLAGS, whatever else the frame holds', () => {
    fc.assert(
      fc.property(honestFrameArb, fc.oneof(fc.constant(0), fc.integer({ min: DEFAULT_TTL + 1, max: 255 })), fc.integer({ min: 1, max: 3 }), (f, ttl, bad) => {
        const badTtl = inspectInbound(encodeFrame({ ...f, ttl }))
        const badFlags = inspectInbound(encodeFrame({ ...f, flags: f.flags | (bad << 6) }))
        return !badTtl.ok && badTtl.reason === 'BAD_TTL' && !badFlags.ok && badFlags.reason === 'BAD_FLAGS'
      }),
      RUNS,
    )
  })
})

describe('route records (10,000 cases each)', () => {
  const idsArb = fc.array(idArb, { maxLength: MAX_ROUTE_HOPS })
  const restArb = fc.uint8Array({ maxLength: 32 })

  it('readRoute(writeRoute(ids, rest)) and readSourceRoute(writeSourceRoute(ids, rest)) give them back', () => {
    fc.assert(
      fc.property(idsArb, restArb, (ids, rest) => {
        const record = readRoute(writeRoute(ids, rest))
        if (!sameIds(record.ids, ids) || !sameBytes(record.rest, rest)) return false
        if (ids.length === 0) return true
        const route = readSourceRoute(writeSourceRoute(ids, rest))
        return sameIds(route.ids, ids) && route.next === 0 && sameBytes(route.rest, rest)
      }),
      RUNS,
    )
  })

  it('on any bytes: routeProblem/sourceRouteProblem never throw and are null exactly when the reader succeeds', () => {
    const anyBytes = fc.oneof(
      fc.uint8Array({ maxLength: 40 }),
      fc.tuple(fc.integer({ min: 0, max: 255 }), fc.integer({ min: 0, max: 255 }), fc.uint8Array({ maxLength: 320 })).map(([a, b, r]) => Uint8Array.from([a, b, ...r])),
      fc.tuple(idsArb, restArb, fc.nat()).map(([ids, rest, cut]) => {
        const b = writeRoute(ids, rest)
        return b.subarray(0, cut % (b.byteLength + 1))
      }),
    )
    /** 'ok', or the code of the ExplorerError it threw (anything else thrown fails the property). */
    const outcome = (read: () => unknown): string => {
      try {
        read()
        return 'ok'
      } catch (e) {
        if (!(e instanceof ExplorerError)) throw e
        return e.code
      }
    }
    fc.assert(
      fc.property(anyBytes, (bytes) =>
        outcome(() => readRoute(bytes)) === (routeProblem(bytes) === null ? 'ok' : 'BAD_FRAME') &&
        outcome(() => readSourceRoute(bytes)) === (sourceRouteProblem(bytes) === null ? 'ok' : 'BAD_FRAME'),
      ),
      RUNS,
    )
  })
})
