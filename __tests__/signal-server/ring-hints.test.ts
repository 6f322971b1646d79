import { SortedRegistry } from '../../signal-server/registry'
import { successorHint } from '../../signal-server/ring-hints'

const id = (n: number): string => n.toString(16).padStart(12, '0')

function registryOf(ids: number[]): SortedRegistry<unknown> {
  const registry = new SortedRegistry<unknown>()
  ids.forEach((n) => registry.add(id(n), {}))
  return registry
}

describe('successorHint', () => {
  const all = () => true

  it('names the closest registered peer in the ring when the reported successor skips it', () => {
    const registry = registryOf([10, 20, 30, 40])
    expect(successorHint(registry, all, id(10), id(30))).toBe(id(20))
  })

  it('says nothing when the report agrees with the registry', () => {
    const registry = registryOf([10, 20, 30, 40])
    expect(successorHint(registry, all, id(10), id(20))).toBeNull()
  })

  it('wraps around the top of the id space', () => {
    const registry = registryOf([10, 20, 0xfffffffffff0])
    expect(successorHint(registry, all, id(0xfffffffffff0), id(20))).toBe(id(10))
    expect(successorHint(registry, all, id(20), id(20))).toBe(id(0xfffffffffff0))
  })

  it('skips peers not in a ring yet (no report), and hints a peer that reported none', () => {
    const registry = registryOf([10, 20, 30, 40])
    const inRing = (peer: string) => peer !== id(20)
    expect(successorHint(registry, inRing, id(10), id(40))).toBe(id(30))
    expect(successorHint(registry, inRing, id(10), undefined)).toBe(id(30))
  })

  it('never hints a successor farther than the reported one (a stale or unregistered successor is left to stabilize)', () => {
    const registry = registryOf([10, 30, 40])
    expect(successorHint(registry, all, id(10), id(20))).toBeNull()
    expect(successorHint(registry, all, id(10), id(10))).toBe(id(30))
  })
})
