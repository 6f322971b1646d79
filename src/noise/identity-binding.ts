import { concatBytes, utf8ToBytes } from '@noble/hashes/utils'
import { ExplorerError } from '../errors'
import { idFromPublicKey } from '../identity/identity'
import { formatId } from '../ids'
import { DH_BYTES } from './dh'

/**
 * How a Noise static key is tied to an identity: the identity's Ed25519 key
 * signs STATIC_KEY_CONTEXT ‖ static public key, and the handshake payload
 * carries identity key ‖ signature. The peer holding the static key's secret
 * proves it by completing the handshake (es / se), so a payload copied from
 * someone else is useless without their static secret.
 *
 * The context prefix is the domain separation: the identity key signs other
 * things too (the signalling join, channel offers), and none of those starts
 * with these bytes, so no signature made here can pass for one made there.
 */
export const STATIC_KEY_CONTEXT = utf8ToBytes('webrtc-explorer noise static v1\n')
export const IDENTITY_KEY_BYTES = 32
export const SIGNATURE_BYTES = 64
/** identity key ‖ signature: the handshake payload of both sides. */
export const IDENTITY_PAYLOAD_BYTES = IDENTITY_KEY_BYTES + SIGNATURE_BYTES

/** Signs with the local identity (Ed25519); injected, e.g. `(bytes) => signAs(identity, bytes)`. */
export interface IdentitySigner {
  readonly publicKey: Uint8Array
  sign(message: Uint8Array): Promise<Uint8Array>
}

/** Verifies an Ed25519 signature; injected, e.g. the identity module's `verifySignature`. */
export type VerifySignature = (publicKey: Uint8Array, message: Uint8Array, signature: Uint8Array) => Promise<boolean>

/** What a remote must match: its id (12 hex), and its exact identity key when the caller knows it. */
export interface ExpectedIdentity {
  id?: string
  key?: Uint8Array
}

/** A remote identity that proved itself. */
export interface ProvenIdentity {
  key: Uint8Array
  id: string
}

/** The 48-bit id of an identity key: the first 6 bytes of SHA-256(key), as 12 lowercase hex (DESIGN.md). */
/** The 12-hex id an identity key gives (src/identity: the first 6 bytes of its SHA-256). */
export const idOfIdentityKey = (key: Uint8Array): string => formatId(idFromPublicKey(key))

/** The bytes the identity key signs for a static key. */
export function staticKeyStatement(staticPublicKey: Uint8Array): Uint8Array {
  if (staticPublicKey.byteLength !== DH_BYTES) {
    throw new ExplorerError('BAD_OPTIONS', `a Noise static key has ${DH_BYTES} bytes, got ${staticPublicKey.byteLength}`)
  }
  return concatBytes(STATIC_KEY_CONTEXT, staticPublicKey)
}

const authFailed = (why: string) => new ExplorerError('AUTH_FAILED', why)

const sameBytes = (a: Uint8Array, b: Uint8Array): boolean => a.byteLength === b.byteLength && a.every((byte, i) => byte === b[i])

/**
 * The identity behind a handshake payload, once its signature over the
 * remote's static key verifies and it is the identity expected; AUTH_FAILED otherwise.
 */
export async function proveIdentity(
  payload: Uint8Array,
  remoteStaticKey: Uint8Array,
  verify: VerifySignature,
  expected: ExpectedIdentity,
): Promise<ProvenIdentity> {
  if (payload.byteLength !== IDENTITY_PAYLOAD_BYTES) throw authFailed(`an identity payload has ${IDENTITY_PAYLOAD_BYTES} bytes, got ${payload.byteLength}`)
  const key = Uint8Array.from(payload.subarray(0, IDENTITY_KEY_BYTES))
  const signature = payload.subarray(IDENTITY_KEY_BYTES)
  const id = idOfIdentityKey(key)
  if (expected.id !== undefined && id !== expected.id) throw authFailed(`the remote proved id ${id}, not ${expected.id}`)
  if (expected.key !== undefined && !sameBytes(key, expected.key)) throw authFailed(`the remote's identity key is not the one expected for ${id}`)
  let valid: boolean
  try {
    valid = await verify(key, staticKeyStatement(remoteStaticKey), signature)
  } catch {
    valid = false
  }
  if (!valid) throw authFailed(`the signature of ${id} over its Noise static key does not verify`)
  return { key, id }
}
