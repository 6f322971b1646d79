/**
 * Byte buffers for frames, carved from shared pools.
 *
 * V8 keeps a Uint8Array of up to 64 bytes on the JS heap (tens of ns), but
 * each larger one gets its own off-heap backing store: a malloc, an
 * ArrayBuffer extension the garbage collector must sweep, ~1 µs each. Most
 * frames are over 64 bytes (a route record, a successor list), and a hop
 * makes two or three of them. So, as Node's Buffer does for small
 * allocations, buffers of 65 bytes to POOLED_MAX come from a pool: one
 * ArrayBuffer, handed out as consecutive views, replaced when full and freed
 * when no view of it is left.
 *
 * A view pins its pool (POOL_BYTES) for as long as it lives: fine for frames,
 * which live for a hop, not for data kept long (copy that with `new Uint8Array`).
 * Views start zeroed (a pool's bytes are never handed out twice), and their
 * `.buffer` is the pool: mind `byteOffset`.
 */
const IN_HEAP_MAX = 64
const POOLED_MAX = 4096
const POOL_BYTES = 64 * 1024

let pool = new ArrayBuffer(POOL_BYTES)
let used = 0

/** A zeroed buffer of `length` bytes (pooled when that is cheaper). */
export function allocBytes(length: number): Uint8Array {
  if (length <= IN_HEAP_MAX || length > POOLED_MAX) return new Uint8Array(length)
  if (used + length > POOL_BYTES) {
    pool = new ArrayBuffer(POOL_BYTES)
    used = 0
  }
  const bytes = new Uint8Array(pool, used, length)
  // 8-byte aligned, so a DataView or a wider typed array over a view stays aligned.
  used += (length + 7) & ~7
  return bytes
}

/** A copy of `bytes` that shares nothing with it. */
export function copyBytes(bytes: Uint8Array): Uint8Array {
  const copy = allocBytes(bytes.byteLength)
  copy.set(bytes)
  return copy
}
