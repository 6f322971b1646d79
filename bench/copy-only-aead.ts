import type { Aead } from '../src/noise'

/**
 * An AEAD that only copies and appends a zero tag: the sockets' frames and
 * their sizes stay those of the shipped ones, the cipher goes. Plaintext
 * sockets no longer exist; this is their stand-in when a benchmark measures
 * what sealing costs.
 */
export const copyOnlyAead: Aead = {
  cipher: 'ChaChaPoly',
  implementation: 'none (plaintext stand-in)',
  encrypt: (_key, _nonce, _ad, plaintext) => {
    const out = new Uint8Array(plaintext.byteLength + 16)
    out.set(plaintext)
    return out
  },
  decrypt: (_key, _nonce, _ad, sealed) => (sealed.byteLength < 16 ? null : sealed.slice(0, sealed.byteLength - 16)),
}
