import { SortedRegistry } from '../../signal-server/registry'

const hex = (n: number) => n.toString(16).padStart(12, '0')

describe('SortedRegistry', () => {
  it('gives clockwise successors and the predecessor, wrapping around the ring', () => {
    const r = new SortedRegistry<string>()
    for (const n of [0x50, 0x10, 0x30, 0xfffffffffff0, 0x20]) r.add(hex(n), `v${n}`)
    expect(r.ids()).toEqual([hex(0x10), hex(0x20), hex(0x30), hex(0x50), hex(0xfffffffffff0)])
    expect(r.successors(hex(0x30), 3)).toEqual([hex(0x50), hex(0xfffffffffff0), hex(0x10)])
    expect(r.successors(hex(0xfffffffffff0), 2)).toEqual([hex(0x10), hex(0x20)])
    expect(r.predecessor(hex(0x10))).toBe(hex(0xfffffffffff0))
    expect(r.predecessor(hex(0x30))).toBe(hex(0x20))
    // never the id itself, and never more than the others
    expect(r.successors(hex(0x20), 99)).toEqual([hex(0x30), hex(0x50), hex(0xfffffffffff0), hex(0x10)])
    // an id that is not registered still has neighbours
    expect(r.successors(hex(0x31), 1)).toEqual([hex(0x50)])
    expect(r.predecessor(hex(0x31))).toBe(hex(0x30))
  })

  it('is empty-safe and alone-safe', () => {
    const r = new SortedRegistry<number>()
    expect(r.successors(hex(1), 4)).toEqual([])
    expect(r.predecessor(hex(1))).toBeNull()
    r.add(hex(1), 1)
    expect(r.successors(hex(1), 4)).toEqual([])
    expect(r.predecessor(hex(1))).toBeNull()
  })

  it('refuses a taken id and only removes an id for the value that holds it', () => {
    const r = new SortedRegistry<object>()
    const first = {}
    const second = {}
    expect(r.add(hex(7), first)).toBe(true)
    expect(r.add(hex(7), second)).toBe(false)
    expect(r.get(hex(7))).toBe(first)
    expect(r.remove(hex(7), second)).toBe(false)
    expect(r.size).toBe(1)
    expect(r.remove(hex(7), first)).toBe(true)
    expect(r.size).toBe(0)
    expect(r.ids()).toEqual([])
  })

  it('keeps 10,000 random ids sorted through adds and removes', () => {
    const r = new SortedRegistry<number>()
    const ids = new Set<string>()
    // distinct 48-bit ids spread over most of the ring (products stay below 2^53: exact)
    for (let i = 1; ids.size < 10_000; i++) ids.add(hex((i * 2654435761 * 100) % 2 ** 48))
    for (const id of ids) r.add(id, 0)
    const all = [...ids].sort()
    expect(r.ids()).toEqual(all)
    const removed = all.filter((_, i) => i % 3 === 0)
    for (const id of removed) expect(r.remove(id, 0)).toBe(true)
    const kept = all.filter((_, i) => i % 3 !== 0)
    expect(r.ids()).toEqual(kept)
    expect(r.successors(kept[kept.length - 1], 2)).toEqual([kept[0], kept[1]])
  })
})
