import type * as NodeCrypto from 'node:crypto'
import { encodeNonce, TAG_BYTES, type Aead, type NoiseCipher } from './aead'
import { nobleChaChaPoly } from './aead-noble'

const OPENSSL_NAMES: Record<NoiseCipher, 'chacha20-poly1305' | 'aes-256-gcm'> = {
  ChaChaPoly: 'chacha20-poly1305',
  AESGCM: 'aes-256-gcm',
}

/**
 * Node's crypto module, reached without a static import (process.getBuiltinModule,
 * Node ≥ 20.16), so a browser bundle neither includes nor shims it. Null elsewhere.
 */
function nodeCrypto(): typeof NodeCrypto | null {
  const proc = (globalThis as { process?: { getBuiltinModule?: (id: string) => unknown } }).process
  if (typeof proc?.getBuiltinModule !== 'function') return null
  return (proc.getBuiltinModule('node:crypto') as typeof NodeCrypto | undefined) ?? null
}

/** The cipher computed by Node's OpenSSL; null outside Node or when its OpenSSL lacks the cipher. */
export function nodeAead(cipher: NoiseCipher): Aead | null {
  const crypto = nodeCrypto()
  // Typed as the GCM overload: @types/node's ChaCha20-Poly1305 overload has the same AEAD methods.
  const algorithm = OPENSSL_NAMES[cipher] as NodeCrypto.CipherGCMTypes
  if (crypto === null || !crypto.getCiphers().includes(algorithm)) return null
  return {
    cipher,
    implementation: 'node',
    encrypt(key, nonce, ad, plaintext) {
      const c = crypto.createCipheriv(algorithm, key, encodeNonce(cipher, nonce), { authTagLength: TAG_BYTES })
      c.setAAD(ad, { plaintextLength: plaintext.byteLength })
      const body = c.update(plaintext)
      c.final()
      const out = new Uint8Array(plaintext.byteLength + TAG_BYTES)
      out.set(body)
      out.set(c.getAuthTag(), plaintext.byteLength)
      return out
    },
    decrypt(key, nonce, ad, ciphertext) {
      if (ciphertext.byteLength < TAG_BYTES) return null
      const bodyLength = ciphertext.byteLength - TAG_BYTES
      const d = crypto.createDecipheriv(algorithm, key, encodeNonce(cipher, nonce), { authTagLength: TAG_BYTES })
      d.setAuthTag(ciphertext.subarray(bodyLength))
      d.setAAD(ad, { plaintextLength: bodyLength })
      const body = d.update(ciphertext.subarray(0, bodyLength))
      try {
        // final() checks the tag; until it passes, `body` is never released.
        d.final()
      } catch {
        return null
      }
      return new Uint8Array(body.buffer, body.byteOffset, body.byteLength)
    },
  }
}

let chosen: Aead | null = null

/**
 * ChaChaPoly computed by the fastest implementation here: Node's OpenSSL when
 * present, noble otherwise (browsers). Same bytes either way.
 */
export function defaultAead(): Aead {
  chosen ??= nodeAead('ChaChaPoly') ?? nobleChaChaPoly
  return chosen
}
