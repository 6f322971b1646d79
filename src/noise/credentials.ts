import { concatBytes } from '@noble/hashes/utils'
import { ExplorerError } from '../errors'
import { generateKeyPair, type KeyPair } from './dh'
import { IDENTITY_KEY_BYTES, SIGNATURE_BYTES, staticKeyStatement, type IdentitySigner } from './identity-binding'

/**
 * A Noise static key pair and the identity's signature over it: made once
 * (one signature) and used for every handshake, which then costs a verify
 * per side and no signing.
 */
export interface NoiseCredentials {
  readonly staticKeyPair: KeyPair
  readonly identityKey: Uint8Array
  /** identity key ‖ signature, the payload this side sends in the handshake. */
  readonly payload: Uint8Array
}

export async function createNoiseCredentials(signer: IdentitySigner, staticKeyPair: KeyPair = generateKeyPair()): Promise<NoiseCredentials> {
  if (signer.publicKey.byteLength !== IDENTITY_KEY_BYTES) {
    throw new ExplorerError('BAD_OPTIONS', `an identity key has ${IDENTITY_KEY_BYTES} bytes, got ${signer.publicKey.byteLength}`)
  }
  const signature = await signer.sign(staticKeyStatement(staticKeyPair.publicKey))
  if (signature.byteLength !== SIGNATURE_BYTES) {
    throw new ExplorerError('BAD_OPTIONS', `an Ed25519 signature has ${SIGNATURE_BYTES} bytes, got ${signature.byteLength}`)
  }
  const identityKey = Uint8Array.from(signer.publicKey)
  return { staticKeyPair, identityKey, payload: concatBytes(identityKey, signature) }
}
