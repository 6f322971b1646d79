import { ed25519 } from '@noble/curves/ed25519'

/**
 * Ed25519 as the platform has it: WebCrypto where it supports the curve
 * (Node 20, Chromium 137+, in a secure context), else @noble/curves (pages
 * served over plain http on a LAN address have no `crypto.subtle`). Both give
 * the same signatures (Ed25519 is deterministic); WebCrypto is 3–10× faster.
 * Deriving a public key from a seed has no WebCrypto call: noble does it, synchronously.
 */

export const SEED_BYTES = 32
export const PUBLIC_KEY_BYTES = 32
export const SIGNATURE_BYTES = 64

/** The 16-byte PKCS#8 prefix of an Ed25519 private key (RFC 8410): the seed follows. */
const PKCS8_PREFIX = Uint8Array.of(0x30, 0x2e, 0x02, 0x01, 0x00, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x70, 0x04, 0x22, 0x04, 0x20)

export const publicKeyFromSeed = (seed: Uint8Array): Uint8Array => ed25519.getPublicKey(seed)

export function randomSeed(): Uint8Array {
  const seed = new Uint8Array(SEED_BYTES)
  globalThis.crypto.getRandomValues(seed)
  return seed
}

type Subtle = SubtleCrypto

/**
 * WebCrypto operations under way. A test that runs the library in virtual
 * time advances the clock only once they have finished (cryptoSettled), so
 * a signature that takes 0.1 ms of real time never races a virtual timeout.
 */
let inFlight = 0
const settledWaiters: Array<() => void> = []

function tracked<T>(work: Promise<T>): Promise<T> {
  inFlight++
  const done = () => {
    if (--inFlight === 0) for (const resolve of settledWaiters.splice(0)) resolve()
  }
  work.then(done, done)
  return work
}

/** Resolves once no Ed25519 operation of this module is under way. */
export function cryptoSettled(): Promise<void> {
  return inFlight === 0 ? Promise.resolve() : new Promise((resolve) => settledWaiters.push(resolve))
}

let subtleReady: Promise<Subtle | null> | null = null

/** WebCrypto's SubtleCrypto when it does Ed25519 here, else null (checked once, with a real sign and verify). */
function webCryptoEd25519(): Promise<Subtle | null> {
  subtleReady ??= (async () => {
    const subtle = globalThis.crypto?.subtle
    if (subtle === undefined) return null
    try {
      const seed = new Uint8Array(SEED_BYTES)
      const key = await subtle.importKey('pkcs8', pkcs8(seed), 'Ed25519', false, ['sign'])
      const message = Uint8Array.of(1, 2, 3)
      const signature = new Uint8Array(await subtle.sign('Ed25519', key, message))
      return ed25519.verify(signature, message, publicKeyFromSeed(seed)) ? subtle : null
    } catch {
      return null
    }
  })()
  return subtleReady
}

const pkcs8 = (seed: Uint8Array): Uint8Array<ArrayBuffer> => {
  const out = new Uint8Array(PKCS8_PREFIX.length + SEED_BYTES)
  out.set(PKCS8_PREFIX)
  out.set(seed, PKCS8_PREFIX.length)
  return out
}

/** A signing key made once per identity: importing the seed costs as much as a signature. */
export interface Signer {
  sign(message: Uint8Array): Promise<Uint8Array>
}

export function signerFor(seed: Uint8Array): Signer {
  let key: Promise<CryptoKey | null> | null = null
  return {
    sign(message) {
      return tracked(
        (async () => {
          key ??= webCryptoEd25519().then((subtle) => subtle?.importKey('pkcs8', pkcs8(seed), 'Ed25519', false, ['sign']) ?? null)
          const k = await key
          if (k === null) return ed25519.sign(message, seed)
          return new Uint8Array(await globalThis.crypto.subtle.sign('Ed25519', k, bufferSource(message)))
        })(),
      )
    },
  }
}

/**
 * The same checks without a promise, through @noble/curves (no WebCrypto:
 * its calls are all asynchronous). For code that runs in virtual time, where
 * nothing may wait on the event loop: the testnet with real keys.
 */
export function verifySignatureSync(publicKey: Uint8Array, message: Uint8Array, signature: Uint8Array): boolean {
  if (publicKey.length !== PUBLIC_KEY_BYTES || signature.length !== SIGNATURE_BYTES) return false
  try {
    return ed25519.verify(signature, message, publicKey, { zip215: false })
  } catch {
    return false
  }
}

export const signSync = (seed: Uint8Array, message: Uint8Array): Uint8Array => ed25519.sign(message, seed)

/** Recently used verification keys (a peer verifies the same few neighbours again and again). */
const verifyKeys = new Map<string, Promise<CryptoKey>>()
const VERIFY_KEYS_KEPT = 256

/** Whether `signature` is `publicKey`'s signature of `message`. Never throws: malformed input is false. */
export function verifySignature(publicKey: Uint8Array, message: Uint8Array, signature: Uint8Array): Promise<boolean> {
  return tracked(verify(publicKey, message, signature))
}

async function verify(publicKey: Uint8Array, message: Uint8Array, signature: Uint8Array): Promise<boolean> {
  if (publicKey.length !== PUBLIC_KEY_BYTES || signature.length !== SIGNATURE_BYTES) return false
  const subtle = await webCryptoEd25519()
  try {
    if (subtle === null) return ed25519.verify(signature, message, publicKey, { zip215: false })
    const cacheKey = String.fromCharCode(...publicKey)
    let key = verifyKeys.get(cacheKey)
    if (key === undefined) {
      key = subtle.importKey('raw', bufferSource(publicKey), 'Ed25519', false, ['verify'])
      if (verifyKeys.size >= VERIFY_KEYS_KEPT) verifyKeys.delete(verifyKeys.keys().next().value!)
      verifyKeys.set(cacheKey, key)
    }
    return await subtle.verify('Ed25519', await key, bufferSource(signature), bufferSource(message))
  } catch {
    return false
  }
}

/** TypeScript's DOM types want ArrayBuffer-backed views; ours never sit on a SharedArrayBuffer. */
const bufferSource = (bytes: Uint8Array): Uint8Array<ArrayBuffer> => bytes as Uint8Array<ArrayBuffer>
