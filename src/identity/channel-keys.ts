import type { Channel } from '../transport/types'

/**
 * The key each channel's far end proved when the channel was set up (its
 * offer or answer was signed by it: src/identity/signal-gate.ts). Whatever
 * later claims to speak for that channel (an ICE restart) must be signed by
 * this very key, not merely by one whose id matches. Weak: a closed channel
 * takes its entry with it.
 */
const provenKeys = new WeakMap<Channel, Uint8Array>()

export function recordProvenKey(channel: Channel, key: Uint8Array | null): void {
  // Only a channel that can renew its path is ever asked for it (memory channels are not: a simulation's
  // hundreds of thousands of channels would each hold an entry).
  if (key !== null && channel.restartIce !== undefined) provenKeys.set(channel, key)
}

/** Null for a channel set up without proofs (none is, outside hand-made test channels). */
export const provenKeyOf = (channel: Channel): Uint8Array | null => provenKeys.get(channel) ?? null

export function sameKey(a: Uint8Array, b: Uint8Array): boolean {
  if (a.byteLength !== b.byteLength) return false
  let diff = 0
  for (let i = 0; i < a.byteLength; i++) diff |= a[i] ^ b[i]
  return diff === 0
}
