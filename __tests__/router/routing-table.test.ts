import { RING_SIZE } from '../../src/ids'
import { NextHop, RoutingTable, RoutingView } from '../../src/router/routing-table'
import { lowerBound } from '../../src/router/sorted-ids'
import { FrameFlag } from '../../src/wire/frame'

/**
 * The routing decision at the ring's edges. Ids are plain numbers on a ring
 * of 2^48; MAX is the last point before it wraps to 0.
 */
const MAX = RING_SIZE - 1
const FINAL = FrameFlag.Final
const BACK = FrameFlag.Final | FrameFlag.Back

const table = (...ids: number[]) => {
  const t = new RoutingTable()
  for (const id of ids) t.add(id)
  return t
}

const view = (over: Partial<RoutingView> & { self: number }): RoutingView => ({
  joined: true,
  predecessor: null,
  successor: null,
  alone: false,
  ...over,
})

const local: NextHop = { kind: 'local' }
const unroutable: NextHop = { kind: 'unroutable' }
const forward = (via: number, flags = 0): NextHop => ({ kind: 'forward', via, flags })

type Case = [name: string, dest: number, flags: number, expected: NextHop]

describe('RoutingTable: the sorted set of routable peers', () => {
  it('keeps ids sorted and unique; has/remove', () => {
    const t = table(MAX, 0, 500, 7, 500, 2 ** 40)
    expect(t.list()).toEqual([0, 7, 500, 2 ** 40, MAX])
    expect(t.size).toBe(5)
    expect(t.has(MAX)).toBe(true)
    expect(t.has(8)).toBe(false)
    t.remove(7)
    t.remove(8)
    expect(t.list()).toEqual([0, 500, 2 ** 40, MAX])
  })

  it('lowerBound finds the first id ≥ x', () => {
    const ids = [0, 10, 20]
    expect([-1, 0, 1, 10, 11, 20, 21].map((x) => lowerBound(ids, x))).toEqual([0, 0, 1, 1, 2, 2, 3])
    expect(lowerBound([], 5)).toBe(0)
  })
})

describe('closestPreceding(self, key): the known peer strictly between self and key, closest to key', () => {
  const t = table(5, 100, 2 ** 47, MAX - 1)
  const cases: [self: number, key: number, expected: number | null][] = [
    [10, 2 ** 47 + 1, 2 ** 47],
    [10, 2 ** 47, 100], // the key's own id does not precede it
    [10, 101, 100],
    [10, 100, null], // only 5 would lie before 100, and it is behind self
    [10, 11, null],
    // Wrap-around: keys past 0 are preceded by the ids near 2^48 − 1.
    [10, 3, MAX - 1],
    [10, 0, MAX - 1],
    [10, MAX, MAX - 1],
    [10, MAX - 1, 2 ** 47],
    [MAX - 1, 3, null], // nothing strictly between MAX−1 and 3
    [MAX - 1, 6, 5],
    [MAX, 0, null],
    // key === self: the whole ring but self is "between": the peer just before self.
    [100, 100, 5],
    [5, 5, MAX - 1],
  ]
  it.each(cases)('self %p, key %p → %p', (self, key, expected) => {
    expect(t.closestPreceding(self, key)).toBe(expected)
  })

  it('is null on an empty table', () => {
    expect(new RoutingTable().closestPreceding(1, 2)).toBeNull()
  })
})

describe('closestFollowing(from, self): the known peer strictly between from and self, closest to from', () => {
  const t = table(5, 100, MAX - 1)
  const cases: [from: number, self: number, expected: number | null][] = [
    [50, 200, 100],
    [5, 200, 100], // from itself is excluded
    [50, 100, null], // self is excluded
    [101, 2 ** 47, null],
    // Wrap-around: after MAX−1 come MAX, 0, ..., 5.
    [MAX - 1, 200, 5],
    [MAX, 200, 5],
    [MAX - 2, 200, MAX - 1],
    [200, 3, MAX - 1],
    [200, 0, MAX - 1],
    [MAX - 1, 5, null],
  ]
  it.each(cases)('from %p, self %p → %p', (from, self, expected) => {
    expect(t.closestFollowing(from, self)).toBe(expected)
  })

  it('is null on an empty table', () => {
    expect(new RoutingTable().closestFollowing(1, 2)).toBeNull()
  })
})

describe('nextHop: a joined peer in the middle of the ring', () => {
  // Ring around self 1000: predecessor 500, successor 2000; fingers further on.
  const t = table(500, 2000, 2 ** 40, 2 ** 47)
  const v = view({ self: 1000, predecessor: 500, successor: 2000 })
  const cases: Case[] = [
    ['its own id is local', 1000, 0, local],
    ['a key just after the predecessor is local', 501, 0, local],
    ['the predecessor’s own id is not ours: routed on, away from it', 500, 0, forward(2 ** 47)],
    ['a key just after self belongs to the successor: handed over Final', 1001, 0, forward(2000, FINAL)],
    ['the successor’s own id: handed over Final', 2000, 0, forward(2000, FINAL)],
    ['past the successor: closest preceding finger, not Final', 2001, 0, forward(2000)],
    ['a far key: the farthest finger before it', 2 ** 47 + 5, 0, forward(2 ** 47)],
    ['a finger’s own id: the finger before it (it is the next hop’s job)', 2 ** 47, 0, forward(2 ** 40)],
    ['a key after 0 is preceded by the top finger (wrap)', 3, 0, forward(2 ** 47)],
    ['Final for a key we own: local, no step back', 700, FINAL, local],
    ['Final for a key we do not own: step back to the predecessor, Back', 400, FINAL, forward(500, BACK)],
    ['Final for the predecessor’s own id: step back', 500, FINAL, forward(500, BACK)],
    ['Final for a key after us: still a step back (the sender skipped us wrongly)', 1500, FINAL, forward(500, BACK)],
    ['a Back frame stepping back again (chained joins): Back again', 400, BACK, forward(500, BACK)],
    ['a Back frame for a key we own: local', 999, BACK, local],
  ]
  it.each(cases)('%s', (_name, dest, flags, expected) => {
    expect(t.nextHop(dest, v, flags)).toEqual(expected)
  })

  it('ignores flags other than Final/Back (Exact, Traced, More)', () => {
    const noise = FrameFlag.Exact | FrameFlag.Traced | FrameFlag.More
    expect(t.nextHop(1001, v, noise)).toEqual(forward(2000, FINAL))
    expect(t.nextHop(2001, v, noise)).toEqual(forward(2000))
    expect(t.nextHop(700, v, noise)).toEqual(local)
  })
})

describe('nextHop: wrap-around at 0 and 2^48 − 1', () => {
  it('self at MAX − 5, successor past 0', () => {
    const t = table(MAX - 100, 3, 2 ** 20)
    const v = view({ self: MAX - 5, predecessor: MAX - 100, successor: 3 })
    const cases: Case[] = [
      ['MAX: owned by the successor', MAX, 0, forward(3, FINAL)],
      ['0: owned by the successor', 0, 0, forward(3, FINAL)],
      ['3: the successor itself', 3, 0, forward(3, FINAL)],
      ['4: past the successor', 4, 0, forward(3)],
      ['2^20 + 1: the finger past 0', 2 ** 20 + 1, 0, forward(2 ** 20)],
      ['MAX − 6: ours', MAX - 6, 0, local],
      ['MAX − 99: ours', MAX - 99, 0, local],
    ]
    for (const [name, dest, flags, expected] of cases) expect([name, t.nextHop(dest, v, flags)]).toEqual([name, expected])
  })

  it('self at 0, predecessor at MAX − 1: MAX and 0 are ours', () => {
    const t = table(MAX - 1, 10)
    const v = view({ self: 0, predecessor: MAX - 1, successor: 10 })
    expect(t.nextHop(MAX, v, 0)).toEqual(local)
    expect(t.nextHop(0, v, 0)).toEqual(local)
    expect(t.nextHop(MAX - 1, v, 0)).toEqual(forward(10))
    expect(t.nextHop(MAX - 1, v, FINAL)).toEqual(forward(MAX - 1, BACK))
    expect(t.nextHop(1, v, 0)).toEqual(forward(10, FINAL))
  })

  it('self at MAX, successor 0, predecessor MAX − 3', () => {
    const t = table(0, MAX - 3)
    const v = view({ self: MAX, predecessor: MAX - 3, successor: 0 })
    expect(t.nextHop(MAX - 1, v, 0)).toEqual(local)
    expect(t.nextHop(MAX, v, 0)).toEqual(local)
    expect(t.nextHop(0, v, 0)).toEqual(forward(0, FINAL))
    expect(t.nextHop(1, v, 0)).toEqual(forward(0))
    expect(t.nextHop(MAX - 3, v, 0)).toEqual(forward(0))
  })

  it('a two-peer ring: each is the other’s predecessor and successor', () => {
    const t = table(MAX)
    const v = view({ self: 1, predecessor: MAX, successor: MAX })
    expect(t.nextHop(0, v, 0)).toEqual(local)
    expect(t.nextHop(1, v, 0)).toEqual(local)
    expect(t.nextHop(2, v, 0)).toEqual(forward(MAX, FINAL))
    expect(t.nextHop(MAX, v, 0)).toEqual(forward(MAX, FINAL))
    // A Final frame for the other peer's own id (a stale sender): step back to it.
    expect(t.nextHop(MAX, v, FINAL)).toEqual(forward(MAX, BACK))
  })
})

describe('nextHop: a peer that knows no predecessor', () => {
  const t = table(2000, 2 ** 40)
  const v = view({ self: 1000, predecessor: null, successor: 2000 })

  it('owns its own id only', () => {
    expect(t.nextHop(1000, v, 0)).toEqual(local)
    expect(t.nextHop(999, v, 0)).toEqual(forward(2 ** 40))
  })

  it('accepts a Final frame it cannot check (Chord’s guess; repair fixes wrong ones)', () => {
    expect(t.nextHop(999, v, FINAL)).toEqual(local)
    expect(t.nextHop(5, v, BACK)).toEqual(local)
  })
})

describe('nextHop: a predecessor we have no routable channel to', () => {
  const t = table(2000, 2 ** 40)
  const v = view({ self: 1000, predecessor: 500, successor: 2000 })

  it('cannot step back: a Final frame is routed on like any other', () => {
    expect(t.nextHop(400, v, FINAL)).toEqual(forward(2 ** 40))
    expect(t.nextHop(1500, v, FINAL)).toEqual(forward(2000, FINAL))
  })

  it('still owns (predecessor, self]', () => {
    expect(t.nextHop(501, v, FINAL)).toEqual(local)
  })
})

describe('nextHop: a lone peer (alone: no successor, no predecessor)', () => {
  const v = view({ self: 1000, alone: true })
  it.each([0, 999, 1000, 1001, MAX])('key %p is local', (dest) => {
    expect(new RoutingTable().nextHop(dest, v, 0)).toEqual(local)
    expect(new RoutingTable().nextHop(dest, v, FINAL)).toEqual(local)
  })

  it('even when some routable channel exists (a peer just joined through it)', () => {
    expect(table(5000).nextHop(4000, v, 0)).toEqual(local)
  })
})

describe('nextHop: a joining peer owns nothing, not even its own id', () => {
  const v = view({ self: 1000, joined: false })
  const t = table(500, 2000)
  const cases: Case[] = [
    ['its own id goes to the peer before it', 1000, 0, forward(500)],
    ['a key after it goes to the closest peer before the key', 2500, 0, forward(2000)],
    ['Final is not honoured and flags are cleared', 1500, FINAL, forward(500)],
    ['with no peer before the key: the lowest known id', 1001, 0, forward(500)],
  ]
  it.each(cases)('%s', (_name, dest, flags, expected) => {
    expect(t.nextHop(dest, v, flags)).toEqual(expected)
  })

  it('with a successor and predecessor set (mid-join), still never local', () => {
    const mid = view({ self: 1000, joined: false, predecessor: 500, successor: 2000 })
    for (const dest of [501, 999, 1000]) expect(t.nextHop(dest, mid, 0).kind).toBe('forward')
  })

  it('with an empty table: unroutable', () => {
    expect(new RoutingTable().nextHop(1000, v, 0)).toEqual(unroutable)
  })
})

describe('nextHop: successor not routable (no channel yet): drops rather than claims', () => {
  const v = view({ self: 1000, predecessor: 500, successor: null })

  it('a key between self and the (unreachable) successor: no peer precedes it, unroutable', () => {
    const t = table(500, 2 ** 40)
    expect(t.nextHop(1500, v, 0)).toEqual(unroutable)
    expect(t.nextHop(1001, v, 0)).toEqual(unroutable)
  })

  it('a key past a known finger: forwarded through it, not Final', () => {
    const t = table(500, 2 ** 40)
    expect(t.nextHop(2 ** 40 + 1, v, 0)).toEqual(forward(2 ** 40))
  })

  it('keys we own are still ours', () => {
    expect(table(500).nextHop(700, v, 0)).toEqual(local)
  })
})

describe('nextHop: empty table, joined, not alone', () => {
  it('keys outside (predecessor, self] are unroutable; ours are local', () => {
    const t = new RoutingTable()
    const v = view({ self: 1000, predecessor: 500, successor: null })
    expect(t.nextHop(2000, v, 0)).toEqual(unroutable)
    expect(t.nextHop(400, v, FINAL)).toEqual(unroutable)
    expect(t.nextHop(1000, v, 0)).toEqual(local)
    expect(t.nextHop(600, v, 0)).toEqual(local)
  })

  it('successor listed but unreachable, no predecessor: a Final frame is accepted, others dropped', () => {
    const t = new RoutingTable()
    const v = view({ self: 1000, predecessor: null, successor: null })
    expect(t.nextHop(2000, v, 0)).toEqual(unroutable)
    expect(t.nextHop(2000, v, FINAL)).toEqual(local)
  })
})
