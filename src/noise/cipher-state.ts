import { ExplorerError } from '../errors'
import { MAX_NONCE, type Aead } from './aead'

/**
 * Noise's CipherState (section 5.1): a key and an implicit nonce that counts
 * the messages encrypted under it. Used during the handshake only; the
 * transport phase uses explicit nonces (src/noise/frame-box.ts).
 */
export class CipherState {
  private key: Uint8Array | null = null
  private nonce = 0

  constructor(private readonly aead: Aead) {}

  initializeKey(key: Uint8Array): void {
    this.key = key
    this.nonce = 0
  }

  hasKey(): boolean {
    return this.key !== null
  }

  encryptWithAd(ad: Uint8Array, plaintext: Uint8Array): Uint8Array {
    if (this.key === null) return plaintext
    return this.aead.encrypt(this.key, this.takeNonce(), ad, plaintext)
  }

  /** Throws AUTH_FAILED when the tag does not verify; the nonce advances only on success (as the spec says). */
  decryptWithAd(ad: Uint8Array, ciphertext: Uint8Array): Uint8Array {
    if (this.key === null) return ciphertext
    const plaintext = this.aead.decrypt(this.key, this.nonce, ad, ciphertext)
    if (plaintext === null) throw new ExplorerError('AUTH_FAILED', 'a handshake message failed its authentication tag')
    this.takeNonce()
    return plaintext
  }

  private takeNonce(): number {
    if (this.nonce >= MAX_NONCE) throw new ExplorerError('NONCE_REUSED', 'this cipher state has used every nonce')
    return this.nonce++
  }
}
