import { allocBytes, copyBytes } from '../../src/wire/bytes'

describe('pooled frame buffers', () => {
  it('hands out zeroed, non-overlapping, 8-byte aligned views of one pool until it is full', () => {
    const views = [65, 100, 1000, 4096, 77].map((n) => allocBytes(n))
    expect(views.map((v) => v.byteLength)).toEqual([65, 100, 1000, 4096, 77])
    for (const v of views) {
      expect(v.every((b) => b === 0)).toBe(true)
      expect(v.byteOffset % 8).toBe(0)
    }
    // Writing every byte of each view leaves the others untouched.
    views.forEach((v, i) => v.fill(i + 1))
    views.forEach((v, i) => expect(v.every((b) => b === i + 1)).toBe(true))
    const pools = new Set(views.map((v) => v.buffer))
    expect(pools.size).toBeLessThanOrEqual(2)
  })

  it('starts a new pool when the current one cannot hold the request; old views keep their bytes', () => {
    const first = allocBytes(4000)
    first.fill(7)
    let last = first
    // 64 KiB pools: twenty 4000-byte views cannot all fit in the pool `first` came from.
    for (let i = 0; i < 20; i++) last = allocBytes(4000)
    expect(last.buffer).not.toBe(first.buffer)
    expect(last.every((b) => b === 0)).toBe(true)
    expect(first.every((b) => b === 7)).toBe(true)
  })

  it('keeps small (≤ 64 bytes, on the JS heap anyway) and large (> 4 KiB) buffers to themselves', () => {
    for (const n of [0, 1, 64, 4097, 16 * 1024]) {
      const bytes = allocBytes(n)
      expect(bytes.byteLength).toBe(n)
      expect(bytes.byteOffset).toBe(0)
      expect(bytes.buffer.byteLength).toBe(n)
    }
  })

  it('copyBytes copies a view (offset honoured) into storage it does not share', () => {
    const backing = Uint8Array.from({ length: 300 }, (_, i) => i % 251)
    const view = backing.subarray(50, 250)
    const copy = copyBytes(view)
    expect([...copy]).toEqual([...view])
    backing.fill(0)
    expect(copy[0]).toBe(50)
    expect(copy.buffer).not.toBe(backing.buffer)
  })
})
