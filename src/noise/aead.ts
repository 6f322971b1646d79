/**
 * The AEAD a Noise cipher suite names, behind one synchronous interface so the
 * handshake and the frame boxes do not care which library computes it.
 * Implementations: noble (src/noise/aead-noble.ts, everywhere) and Node's
 * OpenSSL (src/noise/aead-node.ts, faster where it exists). Both produce the
 * same bytes for the same inputs (a test checks it).
 */
export type NoiseCipher = 'ChaChaPoly' | 'AESGCM'

export const KEY_BYTES = 32
export const TAG_BYTES = 16
/** Nonces are 64-bit counters; JS numbers hold them exactly below 2^53, which no socket reaches. */
export const MAX_NONCE = Number.MAX_SAFE_INTEGER

export interface Aead {
  readonly cipher: NoiseCipher
  /** Which library computes it ('noble', 'node'): for benchmarks and diagnostics. */
  readonly implementation: string
  /** ciphertext ‖ 16-byte tag. */
  encrypt(key: Uint8Array, nonce: number, ad: Uint8Array, plaintext: Uint8Array): Uint8Array
  /** The plaintext, or null when the tag does not verify (nothing of it is ever returned then). */
  decrypt(key: Uint8Array, nonce: number, ad: Uint8Array, ciphertext: Uint8Array): Uint8Array | null
}

/**
 * The 12-byte nonce of Noise's cipher functions (section 12): 32 zero bits,
 * then the 64-bit counter, little-endian for ChaChaPoly, big-endian for AESGCM.
 */
export function encodeNonce(cipher: NoiseCipher, counter: number): Uint8Array {
  const nonce = new Uint8Array(12)
  const view = new DataView(nonce.buffer)
  const low = counter % 2 ** 32
  const high = Math.floor(counter / 2 ** 32)
  if (cipher === 'ChaChaPoly') {
    view.setUint32(4, low, true)
    view.setUint32(8, high, true)
  } else {
    view.setUint32(4, high)
    view.setUint32(8, low)
  }
  return nonce
}
