import { ed25519 } from '@noble/curves/ed25519'
import type { Aead } from '../../src/noise/aead'
import { createNoiseCredentials, type NoiseCredentials } from '../../src/noise/credentials'
import { generateKeyPair } from '../../src/noise/dh'
import { HandshakeState } from '../../src/noise/handshake-state'
import { idOfIdentityKey, type IdentitySigner, type VerifySignature } from '../../src/noise/identity-binding'
import { SecureInitiator } from '../../src/noise/initiator'
import { XX } from '../../src/noise/patterns'
import { SecureResponder } from '../../src/noise/responder'
import type { Variant } from './measure'

/** Ed25519 sign/verify as the identity module would give them: noble, or WebCrypto where it has Ed25519. */
export interface Signatures {
  name: string
  newSigner(): Promise<IdentitySigner>
  verify: VerifySignature
}

export const nobleSignatures: Signatures = {
  name: 'noble ed25519',
  async newSigner() {
    const secret = ed25519.utils.randomSecretKey()
    return { publicKey: ed25519.getPublicKey(secret), sign: async (m) => ed25519.sign(m, secret) }
  },
  verify: async (key, message, signature) => ed25519.verify(signature, message, key),
}

/** Null where WebCrypto has no Ed25519. Verify imports the raw key each time, as a fresh remote's would be. */
export async function webCryptoSignatures(): Promise<Signatures | null> {
  const subtle = globalThis.crypto?.subtle
  try {
    await subtle.generateKey('Ed25519', false, ['sign', 'verify'])
  } catch {
    return null
  }
  return {
    name: 'WebCrypto Ed25519',
    async newSigner() {
      const pair = (await subtle.generateKey('Ed25519', true, ['sign', 'verify'])) as CryptoKeyPair
      const publicKey = new Uint8Array(await subtle.exportKey('raw', pair.publicKey))
      return { publicKey, sign: async (m) => new Uint8Array(await subtle.sign('Ed25519', pair.privateKey, Uint8Array.from(m))) }
    },
    async verify(key, message, signature) {
      const imported = await subtle.importKey('raw', Uint8Array.from(key), 'Ed25519', false, ['verify'])
      return subtle.verify('Ed25519', imported, Uint8Array.from(signature), Uint8Array.from(message))
    },
  }
}

/** Both sides of a plain Noise XX handshake (no identities): the DH and hash cost alone. */
function plainXX(aead: Aead): () => unknown {
  const a = generateKeyPair()
  const b = generateKeyPair()
  const empty = new Uint8Array(0)
  return () => {
    const i = new HandshakeState({ pattern: XX, initiator: true, aead, staticKeyPair: a })
    const r = new HandshakeState({ pattern: XX, initiator: false, aead, staticKeyPair: b })
    r.readMessage(i.writeMessage(empty))
    i.readMessage(r.writeMessage(empty))
    r.readMessage(i.writeMessage(empty))
    return [i.split(), r.split()]
  }
}

async function identityHandshake(a: NoiseCredentials, b: NoiseCredentials, verify: VerifySignature, aead: Aead): Promise<void> {
  const initiator = new SecureInitiator(a, { verify, expectedId: idOfIdentityKey(b.identityKey), aead })
  const responder = new SecureResponder(b, initiator.message1, { verify, aead })
  const { message3 } = await initiator.complete(responder.message2)
  await responder.complete(message3)
}

/**
 * Handshakes, both sides in one thread: plain XX, then XX bound to identities
 * with each signature implementation, with credentials made once ("cached": a
 * peer signs its static key once, then a handshake costs one verify per side)
 * or per handshake ("fresh": one signature per side more).
 */
export async function handshakeVariants(signatureKinds: Signatures[], aead: Aead): Promise<Variant[]> {
  const variants: Variant[] = [{ name: 'plain XX', bytes: 0, op: plainXX(aead) }]
  for (const signatures of signatureKinds) {
    const signerA = await signatures.newSigner()
    const signerB = await signatures.newSigner()
    const onceA = await createNoiseCredentials(signerA)
    const onceB = await createNoiseCredentials(signerB)
    variants.push(
      { name: `identity XX, credentials cached, ${signatures.name}`, bytes: 0, op: () => identityHandshake(onceA, onceB, signatures.verify, aead) },
      {
        name: `identity XX, credentials fresh, ${signatures.name}`,
        bytes: 0,
        op: async () => identityHandshake(await createNoiseCredentials(signerA), await createNoiseCredentials(signerB), signatures.verify, aead),
      },
    )
  }
  return variants
}
