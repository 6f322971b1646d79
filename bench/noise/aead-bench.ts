import type { Aead } from '../../src/noise/aead'
import { FrameOpener, FrameSealer } from '../../src/noise/frame-box'
import type { Variant } from './measure'

const AAD_BYTES = 24 // the overlay frame header

function randomBytes(length: number): Uint8Array<ArrayBuffer> {
  const bytes = new Uint8Array(length)
  for (let i = 0; i < length; i += 65536) globalThis.crypto.getRandomValues(bytes.subarray(i, i + 65536))
  return bytes
}

/** Frame boxes over `aead` on frames of `bytes`: seal (a fresh counter each time) and open. */
export function boxVariants(label: string, aead: Aead, bytes: number): Variant[] {
  const key = randomBytes(32)
  const sealer = new FrameSealer(aead, key)
  const opener = new FrameOpener(aead, key)
  const aad = randomBytes(AAD_BYTES)
  const plaintext = randomBytes(bytes)
  const sealed = sealer.seal(0, aad, plaintext)
  return [
    { name: `${label} seal`, bytes, op: () => sealer.seal(sealer.nextCounter, aad, plaintext) },
    { name: `${label} open`, bytes, op: () => opener.open(0, aad, sealed) },
  ]
}

/**
 * WebCrypto AES-256-GCM on the same frames. Its encrypt/decrypt return
 * Promises, so a socket would await each frame ("await each") or keep
 * several in flight (`inFlight` at once).
 */
export async function webCryptoAesGcmVariants(bytes: number, inFlight = 32): Promise<Variant[]> {
  const subtle = globalThis.crypto.subtle
  const key = await subtle.importKey('raw', randomBytes(32), 'AES-GCM', false, ['encrypt', 'decrypt'])
  const aad = randomBytes(AAD_BYTES)
  const plaintext = randomBytes(bytes)
  let counter = 0
  const params = (n: number): AesGcmParams => {
    const iv = new Uint8Array(12)
    new DataView(iv.buffer).setUint32(8, n)
    return { name: 'AES-GCM', iv, additionalData: aad, tagLength: 128 }
  }
  const sealed = await subtle.encrypt(params(0), key, plaintext)
  const seal = () => subtle.encrypt(params(++counter), key, plaintext)
  const open = () => subtle.decrypt(params(0), key, sealed)
  const many = (op: () => Promise<ArrayBuffer>) => () => Promise.all(Array.from({ length: inFlight }, op))
  return [
    { name: 'WebCrypto AES-GCM seal (await each)', bytes, offThread: true, op: seal },
    { name: 'WebCrypto AES-GCM open (await each)', bytes, offThread: true, op: open },
    { name: `WebCrypto AES-GCM seal (${inFlight} in flight)`, bytes: bytes * inFlight, offThread: true, op: many(seal) },
    { name: `WebCrypto AES-GCM open (${inFlight} in flight)`, bytes: bytes * inFlight, offThread: true, op: many(open) },
  ]
}
