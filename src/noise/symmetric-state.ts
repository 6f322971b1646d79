import { hkdf } from '@noble/hashes/hkdf'
import { sha256 } from '@noble/hashes/sha2'
import { concatBytes, utf8ToBytes } from '@noble/hashes/utils'
import type { Aead } from './aead'
import { CipherState } from './cipher-state'

/** HASHLEN of SHA256. */
export const HASH_BYTES = 32

/**
 * Noise's HKDF(chaining_key, input_key_material, 2) (section 4.3) is RFC 5869
 * HKDF with salt = chaining_key, empty info and 2·HASHLEN bytes of output:
 * extract is HMAC(ck, ikm), expand is HMAC(temp, 0x01) then HMAC(temp, out1 ‖ 0x02).
 */
function hkdf2(chainingKey: Uint8Array, inputKeyMaterial: Uint8Array): [Uint8Array, Uint8Array] {
  const out = hkdf(sha256, inputKeyMaterial, chainingKey, new Uint8Array(0), 2 * HASH_BYTES)
  return [out.slice(0, HASH_BYTES), out.slice(HASH_BYTES)]
}

/** Noise's SymmetricState (section 5.2) with SHA256: the chaining key, the handshake hash and a CipherState. */
export class SymmetricState {
  private chainingKey: Uint8Array
  private hash: Uint8Array
  private readonly cipher: CipherState

  constructor(protocolName: string, aead: Aead) {
    const name = utf8ToBytes(protocolName)
    // A name of at most HASHLEN bytes is zero-padded; a longer one is hashed.
    this.hash = name.byteLength <= HASH_BYTES ? concatBytes(name, new Uint8Array(HASH_BYTES - name.byteLength)) : sha256(name)
    this.chainingKey = this.hash
    this.cipher = new CipherState(aead)
  }

  /** h: binds everything said so far (channel binding). */
  get handshakeHash(): Uint8Array {
    return this.hash
  }

  mixKey(inputKeyMaterial: Uint8Array): void {
    const [chainingKey, tempKey] = hkdf2(this.chainingKey, inputKeyMaterial)
    this.chainingKey = chainingKey
    this.cipher.initializeKey(tempKey)
  }

  mixHash(data: Uint8Array): void {
    this.hash = sha256(concatBytes(this.hash, data))
  }

  hasKey(): boolean {
    return this.cipher.hasKey()
  }

  encryptAndHash(plaintext: Uint8Array): Uint8Array {
    const ciphertext = this.cipher.encryptWithAd(this.hash, plaintext)
    this.mixHash(ciphertext)
    return ciphertext
  }

  decryptAndHash(ciphertext: Uint8Array): Uint8Array {
    const plaintext = this.cipher.decryptWithAd(this.hash, ciphertext)
    this.mixHash(ciphertext)
    return plaintext
  }

  /** The two transport keys: the first for initiator → responder, the second for the way back. */
  split(): [Uint8Array, Uint8Array] {
    return hkdf2(this.chainingKey, new Uint8Array(0))
  }
}
