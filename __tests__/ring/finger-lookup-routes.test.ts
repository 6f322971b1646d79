import { RingOp, decodeRingMessage } from '../../src/ring/messages'
import { createTestnet, randomRingId, type TestnetOptions } from '../../src/testnet'
import { FrameFlag, FrameType, tryDecodeFrame } from '../../src/wire/frame'
import { readRoute } from '../../src/wire/route-record'

/**
 * The ring's own finger lookups take `fingerLookupRoutes` routes (default 1),
 * users' lookups `lookupRoutes` (default 6): fix-fingers is most of a ring's
 * lookups, and six routes each would multiply its traffic (docs/reliability.md,
 * "Lookups under attack").
 */
const PEERS = 48

/** Lookup requests as their askers send them (one per route attempt), each with its destination. */
function countRequests(): { tap: NonNullable<TestnetOptions['frameTap']>; sent: { source: number; dest: number }[] } {
  const sent: { source: number; dest: number }[] = []
  const tap = (from: number, _to: number, bytes: Uint8Array) => {
    const decoded = tryDecodeFrame(bytes)
    if (!decoded.ok) return
    const frame = decoded.frame
    if (frame.type !== FrameType.Ring || frame.source !== from || !(frame.flags & FrameFlag.Traced)) return
    try {
      if (decodeRingMessage(readRoute(frame.payload).rest).op === RingOp.FindSuccessor) sent.push({ source: frame.source, dest: frame.dest })
    } catch {
      // Not a lookup request.
    }
  }
  return { tap, sent }
}

/** Lookup requests a ring of PEERS sends while forming and converging (joins, self-checks, fix-fingers). */
function requestsWhileConverging(options: TestnetOptions): number {
  const { tap, sent } = countRequests()
  const net = createTestnet(PEERS, { seed: 5, frameTap: tap, ...options })
  expect(net.converge()).toBeGreaterThanOrEqual(0)
  net.close()
  return sent.length
}

describe('fingerLookupRoutes', () => {
  it('fix-fingers asks over one route by default: a ring forming sends far fewer lookup requests than with six', () => {
    const single = requestsWhileConverging({})
    const six = requestsWhileConverging({ fingerLookupRoutes: 6 })
    expect(single).toBeGreaterThan(0)
    // Joins and self-checks take one route either way (and a small ring answers many rows from its successor
    // lists); fix-fingers' lookups are the difference: seed 5 gave 224 against 475. The same count would mean
    // fix-fingers took the six routes of a user's lookup.
    expect(six).toBeGreaterThan(1.5 * single)
  })

  it("a user's lookup still asks over lookupRoutes (6) routes, each to its own destination", () => {
    const { tap, sent } = countRequests()
    const net = createTestnet(PEERS, { seed: 5, frameTap: tap })
    expect(net.converge()).toBeGreaterThanOrEqual(0)
    const asker = [...net.nodes.values()][7]
    const key = randomRingId(net.random)
    sent.length = 0
    let owner: number | null = null
    asker.lookup$(key).subscribe({ next: (found) => (owner = found.owner) })
    net.scheduler.advanceBy(50)
    expect(owner).toBe(net.oracle().owner(key))
    const mine = sent.filter((request) => request.source === asker.id)
    expect(new Set(mine.map((request) => request.dest)).size).toBe(6)
    net.close()
  })

  it.each([0, 17, 1.5])('%p is BAD_OPTIONS when the node is built', (fingerLookupRoutes) => {
    expect(() => createTestnet(2, { fingerLookupRoutes })).toThrow(expect.objectContaining({ code: 'BAD_OPTIONS', message: expect.stringContaining('fingerLookupRoutes') }))
  })
})
