import fc from 'fast-check'
import { ExplorerError, isExplorerError } from '../../src/errors'
import { RING_SIZE } from '../../src/ids'
import { MAX_LISTED_SUCCESSORS, RingMessage, RingOp, decodeRingMessage, encodeRingMessage } from '../../src/ring/messages'

const MAX = RING_SIZE - 1
const idArb = fc.oneof(fc.integer({ min: 0, max: MAX }), fc.constantFrom(0, 1, MAX, 2 ** 32 - 1, 2 ** 32))
const idsArb = fc.array(idArb, { maxLength: MAX_LISTED_SUCCESSORS })

const signalArb = fc.uint8Array({ minLength: 1, maxLength: 300 })

const proofArb = fc.record({ key: fc.uint8Array({ minLength: 32, maxLength: 32 }), signature: fc.uint8Array({ minLength: 64, maxLength: 64 }) })
const foundFields = { op: fc.constant(RingOp.Found as const), hops: fc.integer({ min: 0, max: 255 }), owner: idArb, predecessor: fc.option(idArb), proof: proofArb, path: idsArb }

const messageArb: fc.Arbitrary<RingMessage> = fc.oneof(
  fc.record({ op: fc.constant(RingOp.FindSuccessor as const), key: idArb, nonce: idArb }),
  fc.record({ op: fc.constant(RingOp.FindSuccessor as const), key: idArb, nonce: idArb, offer: fc.record({ session: fc.integer({ min: 0, max: 2 ** 32 - 1 }), envelope: signalArb }) }),
  fc.record(foundFields),
  fc.record({ ...foundFields, answer: signalArb }),
  fc.constant<RingMessage>({ op: RingOp.GetState }),
  fc.record({ op: fc.constant(RingOp.State as const), predecessor: fc.option(idArb), successors: idsArb }),
  fc.constant<RingMessage>({ op: RingOp.Notify }),
  fc.record({ op: fc.constant(RingOp.Hello as const), joined: fc.boolean() }),
  fc.record({ op: fc.constant(RingOp.Hint as const), candidate: idArb }),
)

const roundTrip = (message: RingMessage) => decodeRingMessage(encodeRingMessage(message))

function expectBadFrame(bytes: Uint8Array, reason?: RegExp): void {
  let thrown: unknown
  try {
    decodeRingMessage(bytes)
  } catch (error) {
    thrown = error
  }
  expect(thrown).toBeInstanceOf(ExplorerError)
  expect((thrown as ExplorerError).code).toBe('BAD_FRAME')
  if (reason) expect((thrown as ExplorerError).message).toMatch(reason)
}

/** A proof whose bytes show where each field landed. */
const proof = { key: new Uint8Array(32).fill(0xaa), signature: new Uint8Array(64).fill(0x55) }

describe('ring messages: round trips for every op', () => {
  const cases: [string, RingMessage][] = [
    ['FindSuccessor', { op: RingOp.FindSuccessor, key: 5, nonce: MAX }],
    ['FindSuccessor carrying an offer', { op: RingOp.FindSuccessor, key: MAX, nonce: 0, offer: { session: 2 ** 32 - 1, envelope: new TextEncoder().encode('{"s":{"mem":"offer","token":7},"j":1}') } }],
    ['Found carrying an answer', { op: RingOp.Found, hops: 3, owner: 10, predecessor: 9, proof, path: [1, 2], answer: Uint8Array.of(123, 125) }],
    ['Found (all fields)', { op: RingOp.Found, hops: 7, owner: 0, predecessor: MAX, proof, path: [0x0123456789ab, 5] }],
    ['Found (no predecessor, empty path)', { op: RingOp.Found, hops: 0, owner: MAX, predecessor: null, proof, path: [] }],
    ['Found (255 hops)', { op: RingOp.Found, hops: 255, owner: 2 ** 47, predecessor: 0, proof, path: [] }],
    ['GetState', { op: RingOp.GetState }],
    ['State', { op: RingOp.State, predecessor: 2 ** 32, successors: [2 ** 32 - 1, 2 ** 32, 2 ** 32 + 1] }],
    ['State (no predecessor)', { op: RingOp.State, predecessor: null, successors: [42] }],
    ['Notify', { op: RingOp.Notify }],
    ['Hello (joined)', { op: RingOp.Hello, joined: true }],
    ['Hello (joining)', { op: RingOp.Hello, joined: false }],
    ['Hint', { op: RingOp.Hint, candidate: 0 }],
    ['Hint (top of the ring)', { op: RingOp.Hint, candidate: MAX }],
  ]
  it.each(cases)('%s', (_name, message) => {
    expect(roundTrip(message)).toEqual(message)
  })

  it('covers every op of RingOp', () => {
    const ops = Object.values(RingOp).filter((v): v is RingOp => typeof v === 'number')
    expect(new Set(cases.map(([, m]) => m.op))).toEqual(new Set(ops))
  })

  it('is tiny: one byte for the bare requests, 8 for a hint', () => {
    expect(encodeRingMessage({ op: RingOp.GetState })).toHaveLength(1)
    expect(encodeRingMessage({ op: RingOp.Hello, joined: true })).toHaveLength(2)
    expect(encodeRingMessage({ op: RingOp.Hint, candidate: 5 })).toHaveLength(8)
    expect(encodeRingMessage({ op: RingOp.State, predecessor: 1, successors: [2, 3] })).toHaveLength(1 + 7 + 1 + 12)
  })

  it('any message round-trips (fast-check)', () => {
    fc.assert(fc.property(messageArb, (message) => expect(roundTrip(message)).toEqual(message)), { numRuns: 2000 })
  })
})

describe('ring messages: id lists are bounded by MAX_LISTED_SUCCESSORS', () => {
  const ids = (n: number) => Array.from({ length: n }, (_, i) => i * 1000 + 1)

  it('a list of exactly MAX_LISTED_SUCCESSORS passes', () => {
    const message: RingMessage = { op: RingOp.State, predecessor: null, successors: ids(MAX_LISTED_SUCCESSORS) }
    expect(roundTrip(message)).toEqual(message)
  })

  it('decoding refuses a list one longer (a hostile peer cannot make us store more)', () => {
    const n = MAX_LISTED_SUCCESSORS + 1
    const bytes = new Uint8Array(1 + 1 + 1 + 6 * n)
    bytes[0] = RingOp.State
    bytes[1] = 0 // no predecessor
    bytes[2] = n
    expectBadFrame(bytes, /exceeds/)
    // Same for a Found's path (after op, hops, owner, no predecessor, the 96-byte proof).
    const found = new Uint8Array(1 + 1 + 6 + 1 + 96 + 1 + 6 * n)
    found.set([RingOp.Found, 3])
    found[1 + 1 + 6 + 1 + 96] = n
    expectBadFrame(found, /exceeds/)
  })

  it('a count of 255 is refused before reading the ids', () => {
    expectBadFrame(Uint8Array.of(RingOp.State, 0, 255), /exceeds/)
  })

  it('encoding keeps only the first MAX_LISTED_SUCCESSORS ids of a longer list', () => {
    const decoded = roundTrip({ op: RingOp.Found, hops: 1, owner: 1, predecessor: null, proof, path: ids(70) })
    expect(decoded).toEqual({ op: RingOp.Found, hops: 1, owner: 1, predecessor: null, proof, path: ids(MAX_LISTED_SUCCESSORS) })
  })
})

describe('ring messages: malformed input is BAD_FRAME', () => {
  const cases: [string, number[], RegExp][] = [
    ['empty', [], /truncated/],
    ['unknown op 0', [0], /unknown ring op 0/],
    ['unknown op 8', [8], /unknown ring op 8/],
    ['unknown op 255', [255], /unknown ring op/],
    ['trailing byte after a bare request', [RingOp.GetState, 0], /trailing/],
    ['Hello without its flag', [RingOp.Hello], /truncated/],
    ['Hint without a candidate', [RingOp.Hint, 0], /without a candidate/],
    ['Hint cut inside the id', [RingOp.Hint, 1, 1, 2, 3], /inside an id/],
    ['bad optional-id marker', [RingOp.State, 2, 0], /marker/],
    ['State without its list', [RingOp.State, 0], /truncated/],
    ['State list shorter than its count', [RingOp.State, 0, 2, 0, 0, 0, 0, 0, 1], /inside an id/],
    ['Found cut inside its proof', [RingOp.Found, 1, 0, 0, 0, 0, 0, 9, 0, ...new Array(95).fill(7)], /inside a proof/],
    ['Found without its path', [RingOp.Found, 1, 0, 0, 0, 0, 0, 9, 0, ...new Array(96).fill(7)], /truncated/],
    ['FindSuccessor without its nonce', [RingOp.FindSuccessor, 0, 0, 0, 0, 0, 1], /inside an id/],
    ['FindSuccessor cut inside its offer session', [RingOp.FindSuccessor, ...new Array(12).fill(0), 0, 1], /inside a u32/],
    ['FindSuccessor offer without a signal', [RingOp.FindSuccessor, ...new Array(12).fill(0), 0, 0, 0, 1], /without a signal/],
  ]
  it.each(cases)('%s', (_name, bytes, reason) => {
    expectBadFrame(Uint8Array.from(bytes), reason)
  })

  it('arbitrary bytes either decode or throw BAD_FRAME, nothing else (fast-check, 10,000 runs)', () => {
    const bytesArb = fc.oneof(
      fc.uint8Array({ maxLength: 64 }),
      // Start with a valid op so the interesting decoders are reached most of the time.
      fc.tuple(fc.integer({ min: 1, max: 7 }), fc.uint8Array({ maxLength: 400 })).map(([op, rest]) => Uint8Array.of(op, ...rest)),
      // Valid messages, mutated: one byte changed, or cut short.
      fc.tuple(messageArb, fc.nat(), fc.integer({ min: 0, max: 255 }), fc.boolean()).map(([message, at, value, cut]) => {
        const bytes = encodeRingMessage(message)
        const i = at % bytes.length
        if (cut) return bytes.subarray(0, i)
        bytes[i] = value
        return bytes
      }),
    )
    fc.assert(
      fc.property(bytesArb, (bytes) => {
        let decoded: RingMessage
        try {
          decoded = decodeRingMessage(bytes)
        } catch (error) {
          if (!isExplorerError(error, 'BAD_FRAME')) throw error
          return
        }
        // Whatever decodes is canonical: it encodes back to the same bytes, except Hello's flag byte (any non-1 reads as "joining").
        if (decoded.op !== RingOp.Hello) expect(encodeRingMessage(decoded)).toEqual(bytes)
      }),
      { numRuns: 10_000 },
    )
  })
})
