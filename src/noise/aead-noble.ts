import { chacha20poly1305 } from '@noble/ciphers/chacha'
import { encodeNonce, type Aead } from './aead'

/** ChaCha20-Poly1305 from @noble/ciphers (audited, pure JS): runs in every browser and Node. */
export const nobleChaChaPoly: Aead = {
  cipher: 'ChaChaPoly',
  implementation: 'noble',
  encrypt: (key, nonce, ad, plaintext) => chacha20poly1305(key, encodeNonce('ChaChaPoly', nonce), ad).encrypt(plaintext),
  decrypt(key, nonce, ad, ciphertext) {
    try {
      return chacha20poly1305(key, encodeNonce('ChaChaPoly', nonce), ad).decrypt(ciphertext)
    } catch {
      // noble throws on a bad tag (and on a ciphertext shorter than one); either way nothing is released.
      return null
    }
  },
}
