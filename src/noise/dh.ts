import { x25519 } from '@noble/curves/ed25519'
import { ExplorerError } from '../errors'

/** Noise's DH function 25519 (X25519, RFC 7748), from @noble/curves. */
export const DH_BYTES = 32

export interface KeyPair {
  readonly publicKey: Uint8Array
  readonly secretKey: Uint8Array
}

export function generateKeyPair(): KeyPair {
  return keyPairFromSecret(x25519.utils.randomSecretKey())
}

/** A key pair from a known 32-byte secret (test vectors; a persisted static key). */
export function keyPairFromSecret(secretKey: Uint8Array): KeyPair {
  if (secretKey.byteLength !== DH_BYTES) {
    throw new ExplorerError('BAD_OPTIONS', `an X25519 secret key has ${DH_BYTES} bytes, got ${secretKey.byteLength}`)
  }
  return { secretKey: Uint8Array.from(secretKey), publicKey: x25519.getPublicKey(secretKey) }
}

/**
 * X25519(secret, public). A low-order public key (the all-zero shared secret,
 * which noble refuses) would let its sender fix the result: the handshake fails.
 */
export function dh(secretKey: Uint8Array, publicKey: Uint8Array): Uint8Array {
  try {
    return x25519.getSharedSecret(secretKey, publicKey)
  } catch {
    throw new ExplorerError('AUTH_FAILED', 'the remote sent a low-order or malformed X25519 key')
  }
}
