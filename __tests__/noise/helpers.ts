import { ed25519 } from '@noble/curves/ed25519'
import { ExplorerError } from '../../src/errors'
import { createNoiseCredentials, type NoiseCredentials } from '../../src/noise/credentials'
import type { IdentitySigner, VerifySignature } from '../../src/noise/identity-binding'
import { idOfIdentityKey } from '../../src/noise/identity-binding'
import { SecureInitiator, type InitiatorOptions } from '../../src/noise/initiator'
import { SecureResponder, type ResponderOptions } from '../../src/noise/responder'
import type { SecureSession } from '../../src/noise/session'

/** A real Ed25519 identity (what src/identity provides on the lead's branch), from @noble/curves. */
export interface TestIdentity extends IdentitySigner {
  readonly id: string
}

export function testIdentity(): TestIdentity {
  const secret = ed25519.utils.randomSecretKey()
  const publicKey = ed25519.getPublicKey(secret)
  return { publicKey, id: idOfIdentityKey(publicKey), sign: async (message) => ed25519.sign(message, secret) }
}

export const verifyEd25519: VerifySignature = async (publicKey, message, signature) => ed25519.verify(signature, message, publicKey)

export interface Party {
  identity: TestIdentity
  credentials: NoiseCredentials
}

export async function party(identity: TestIdentity = testIdentity()): Promise<Party> {
  return { identity, credentials: await createNoiseCredentials(identity) }
}

export interface HandshakeResult {
  initiator: SecureSession
  responder: SecureSession
}

/** One whole XX handshake: initiator dials `expectedId` (default: the responder's real id). */
export async function runHandshake(
  a: NoiseCredentials,
  b: NoiseCredentials,
  initiatorOptions: Partial<InitiatorOptions> = {},
  responderOptions: Partial<ResponderOptions> = {},
): Promise<HandshakeResult> {
  const initiator = new SecureInitiator(a, { verify: verifyEd25519, expectedId: idOfIdentityKey(b.identityKey), ...initiatorOptions })
  const responder = new SecureResponder(b, initiator.message1, { verify: verifyEd25519, ...responderOptions })
  const { message3, session } = await initiator.complete(responder.message2)
  return { initiator: session, responder: await responder.complete(message3) }
}

/** The code of the ExplorerError a promise (or function) fails with; a test fails if it succeeds. */
export async function failureCode(attempt: () => unknown): Promise<string> {
  try {
    await attempt()
  } catch (err) {
    if (err instanceof ExplorerError) return err.code
    throw err
  }
  throw new Error('expected a failure, but it succeeded')
}

export function flipBit(bytes: Uint8Array, bit: number): Uint8Array {
  const copy = Uint8Array.from(bytes)
  copy[bit >> 3] ^= 1 << (bit & 7)
  return copy
}
