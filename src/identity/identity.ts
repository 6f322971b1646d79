import { sha256 } from '@noble/hashes/sha256'
import { ExplorerError } from '../errors'
import { bytesToId, formatId } from '../ids'
import { PUBLIC_KEY_BYTES, SEED_BYTES, publicKeyFromSeed, randomSeed, signSync, signerFor, type Signer } from './ed25519'

/**
 * Who a peer is: an Ed25519 key pair. Its id is derived from the public key,
 * never chosen: the first 6 bytes of SHA-256(public key), as 12 lowercase hex.
 * Persist `export()` (the 32-byte seed) to keep the same id across restarts;
 * `importIdentity` takes it back (docs/api.md shows IndexedDB and a file).
 */
export interface Identity {
  /** The peer id this key gives, 12 lowercase hex characters. */
  readonly id: string
  /** The raw 32-byte Ed25519 public key (a copy). */
  readonly publicKey: Uint8Array
  /** The 32-byte Ed25519 seed (the private key): keep it secret. */
  export(): Uint8Array
}

/** The numeric ring id of a public key: its SHA-256's first 6 bytes. */
export function idFromPublicKey(publicKey: Uint8Array): number {
  return bytesToId(sha256(publicKey), 0)
}

const signers = new WeakMap<Identity, Signer>()
const seeds = new WeakMap<Identity, Uint8Array>()

class Ed25519Identity implements Identity {
  readonly id: string
  readonly #seed: Uint8Array
  readonly #publicKey: Uint8Array

  constructor(seed: Uint8Array) {
    this.#seed = seed.slice()
    this.#publicKey = publicKeyFromSeed(this.#seed)
    this.id = formatId(idFromPublicKey(this.#publicKey))
    signers.set(this, signerFor(this.#seed))
    seeds.set(this, this.#seed)
  }

  get publicKey(): Uint8Array {
    return this.#publicKey.slice()
  }

  export(): Uint8Array {
    return this.#seed.slice()
  }

  /** Never prints the seed (console.log, JSON.stringify). */
  toJSON(): { id: string } {
    return { id: this.id }
  }
}

/** A fresh identity from the platform's CSPRNG. */
export async function createIdentity(): Promise<Identity> {
  return newIdentity()
}

/** The identity whose `export()` gave `seed`. Throws BAD_IDENTITY for anything but 32 bytes. */
export async function importIdentity(seed: Uint8Array): Promise<Identity> {
  return identityFromSeed(seed)
}

/** createIdentity without the promise: createExplorer needs its id at once when the app gives no identity. */
export const newIdentity = (): Identity => new Ed25519Identity(randomSeed())

export function identityFromSeed(seed: Uint8Array): Identity {
  if (!(seed instanceof Uint8Array) || seed.length !== SEED_BYTES) {
    throw new ExplorerError('BAD_IDENTITY', `an identity is the ${SEED_BYTES}-byte seed that identity.export() gave, got ${describe(seed)}`)
  }
  return new Ed25519Identity(seed)
}

/** Whether `value` is an identity made by this library (one that can sign). */
export const isIdentity = (value: unknown): value is Identity => typeof value === 'object' && value !== null && signers.has(value as Identity)

/** Signs with an identity's key (library-internal: apps never get a signing oracle for the overlay's key). */
export function signAs(identity: Identity, message: Uint8Array): Promise<Uint8Array> {
  const signer = signers.get(identity)
  if (signer === undefined) throw new ExplorerError('BAD_IDENTITY', 'not an identity made by createIdentity() or importIdentity()')
  return signer.sign(message)
}

/** signAs without a promise (@noble/curves): for code in virtual time (see verifySignatureSync). */
export function signAsSync(identity: Identity, message: Uint8Array): Uint8Array {
  const seed = seeds.get(identity)
  if (seed === undefined) throw new ExplorerError('BAD_IDENTITY', 'not an identity made by createIdentity() or importIdentity()')
  return signSync(seed, message)
}

export { PUBLIC_KEY_BYTES }

function describe(value: unknown): string {
  if (value instanceof Uint8Array) return `${value.length} bytes`
  return value === null ? 'null' : typeof value
}
