import { createHash } from 'node:crypto'
import { ed25519 } from '@noble/curves/ed25519'
import { concatBytes } from '@noble/hashes/utils'
import { createNoiseCredentials, type NoiseCredentials } from '../../src/noise/credentials'
import { generateKeyPair } from '../../src/noise/dh'
import { idOfIdentityKey, STATIC_KEY_CONTEXT } from '../../src/noise/identity-binding'
import { SecureInitiator } from '../../src/noise/initiator'
import { SecureResponder } from '../../src/noise/responder'
import { MESSAGE1_BYTES, MESSAGE2_BYTES, MESSAGE3_BYTES } from '../../src/noise/session'
import { failureCode, flipBit, party, runHandshake, testIdentity, verifyEd25519 } from './helpers'

const encoder = new TextEncoder()

describe('XX handshake with identity-signed static keys', () => {
  test('both sides learn each other’s proven identity key, and their frames open on the other side', async () => {
    const a = await party()
    const b = await party()
    const initiator = new SecureInitiator(a.credentials, { verify: verifyEd25519, expectedId: b.identity.id })
    expect(initiator.message1.byteLength).toBe(MESSAGE1_BYTES)
    const responder = new SecureResponder(b.credentials, initiator.message1, { verify: verifyEd25519 })
    expect(responder.message2.byteLength).toBe(MESSAGE2_BYTES)
    const { message3, session: atA } = await initiator.complete(responder.message2)
    expect(message3.byteLength).toBe(MESSAGE3_BYTES)
    const atB = await responder.complete(message3)

    expect(atA.remoteIdentityKey).toEqual(b.identity.publicKey)
    expect(atA.remoteId).toBe(b.identity.id)
    expect(atA.remoteStaticKey).toEqual(b.credentials.staticKeyPair.publicKey)
    expect(atB.remoteIdentityKey).toEqual(a.identity.publicKey)
    expect(atB.remoteId).toBe(a.identity.id)
    expect(atA.handshakeHash).toEqual(atB.handshakeHash)

    const aad = encoder.encode('conn 7 seq 0')
    expect(atB.opener.open(0, aad, atA.sealer.seal(0, aad, encoder.encode('to B')))).toEqual(encoder.encode('to B'))
    expect(atA.opener.open(0, aad, atB.sealer.seal(0, aad, encoder.encode('to A')))).toEqual(encoder.encode('to A'))
  })

  test('an id is the first 6 bytes of SHA-256(identity key), as 12 lowercase hex', () => {
    const key = testIdentity().publicKey
    expect(idOfIdentityKey(key)).toBe(createHash('sha256').update(key).digest('hex').slice(0, 12))
  })

  test('the identity key signs a domain-separated statement: the context, then the static key', async () => {
    const identity = testIdentity()
    const signed: Uint8Array[] = []
    const credentials = await createNoiseCredentials({ publicKey: identity.publicKey, sign: (m) => (signed.push(m), identity.sign(m)) })
    expect(signed).toEqual([concatBytes(STATIC_KEY_CONTEXT, credentials.staticKeyPair.publicKey)])
    expect(new TextDecoder().decode(STATIC_KEY_CONTEXT)).toMatch(/^webrtc-explorer noise static v1/)
  })

  test('dialling an id the responder does not hold fails with AUTH_FAILED', async () => {
    const a = await party()
    const b = await party()
    const someoneElse = testIdentity()
    expect(await failureCode(() => runHandshake(a.credentials, b.credentials, { expectedId: someoneElse.id }))).toBe('AUTH_FAILED')
  })

  test('expectedKey pins the exact identity key', async () => {
    const a = await party()
    const b = await party()
    const { initiator } = await runHandshake(a.credentials, b.credentials, { expectedKey: b.identity.publicKey })
    expect(initiator.remoteIdentityKey).toEqual(b.identity.publicKey)
    const otherKey = testIdentity().publicKey
    expect(await failureCode(() => runHandshake(a.credentials, b.credentials, { expectedKey: otherKey }))).toBe('AUTH_FAILED')
  })

  test('a responder replaying the victim’s signed payload with its own static key fails with AUTH_FAILED', async () => {
    const a = await party()
    const victim = await party()
    // The attacker knows everything public about the victim (identity key, signature, static public key).
    const withOwnStatic: NoiseCredentials = { ...victim.credentials, staticKeyPair: generateKeyPair() }
    expect(await failureCode(() => runHandshake(a.credentials, withOwnStatic, { expectedId: victim.identity.id }))).toBe('AUTH_FAILED')
    const withVictimsPublicStatic: NoiseCredentials = {
      ...victim.credentials,
      staticKeyPair: { publicKey: victim.credentials.staticKeyPair.publicKey, secretKey: generateKeyPair().secretKey },
    }
    expect(await failureCode(() => runHandshake(a.credentials, withVictimsPublicStatic, { expectedId: victim.identity.id }))).toBe('AUTH_FAILED')
  })

  test('a signature the identity made over the bare static key (no context) is refused', async () => {
    const a = await party()
    const b = testIdentity()
    // What the identity might have signed for another purpose: the same 32 bytes, without our context.
    const staticKeyPair = generateKeyPair()
    const undomained: NoiseCredentials = {
      staticKeyPair,
      identityKey: b.publicKey,
      payload: concatBytes(b.publicKey, await b.sign(staticKeyPair.publicKey)),
    }
    expect(await failureCode(() => runHandshake(a.credentials, undomained, { expectedId: b.id }))).toBe('AUTH_FAILED')
  })

  test('the responder proves the initiator: a copied payload or the wrong expected id fails with AUTH_FAILED', async () => {
    const victim = await party()
    const b = await party()
    const impostor: NoiseCredentials = { ...victim.credentials, staticKeyPair: generateKeyPair() }
    expect(await failureCode(() => runHandshake(impostor, b.credentials))).toBe('AUTH_FAILED')
    const a = await party()
    expect(await failureCode(() => runHandshake(a.credentials, b.credentials, {}, { expected: { id: victim.identity.id } }))).toBe('AUTH_FAILED')
    const { responder } = await runHandshake(a.credentials, b.credentials, {}, { expected: { id: a.identity.id, key: a.identity.publicKey } })
    expect(responder.remoteId).toBe(a.identity.id)
  })

  test('a verifier that answers no, or throws, fails the handshake with AUTH_FAILED', async () => {
    const a = await party()
    const b = await party()
    expect(await failureCode(() => runHandshake(a.credentials, b.credentials, { verify: async () => false }))).toBe('AUTH_FAILED')
    expect(await failureCode(() => runHandshake(a.credentials, b.credentials, {}, { verify: () => Promise.reject(new Error('bad key')) }))).toBe('AUTH_FAILED')
  })

  test('one flipped bit anywhere in any handshake message fails the handshake with AUTH_FAILED', async () => {
    const a = await party()
    const b = await party()
    const options = { verify: verifyEd25519, expectedId: b.identity.id }
    // One bit in every byte (a different bit position from byte to byte): each key, ciphertext and tag is hit.
    for (let byte = 0; byte < MESSAGE1_BYTES; byte++) {
      const initiator = new SecureInitiator(a.credentials, options)
      const code = await failureCode(async () => {
        const responder = new SecureResponder(b.credentials, flipBit(initiator.message1, byte * 8 + (byte % 8)), { verify: verifyEd25519 })
        await initiator.complete(responder.message2)
      })
      expect(code).toBe('AUTH_FAILED')
    }
    for (let byte = 0; byte < MESSAGE2_BYTES; byte++) {
      const initiator = new SecureInitiator(a.credentials, options)
      const responder = new SecureResponder(b.credentials, initiator.message1, { verify: verifyEd25519 })
      expect(await failureCode(() => initiator.complete(flipBit(responder.message2, byte * 8 + (byte % 8))))).toBe('AUTH_FAILED')
    }
    for (let byte = 0; byte < MESSAGE3_BYTES; byte++) {
      const initiator = new SecureInitiator(a.credentials, options)
      const responder = new SecureResponder(b.credentials, initiator.message1, { verify: verifyEd25519 })
      const { message3 } = await initiator.complete(responder.message2)
      expect(await failureCode(() => responder.complete(flipBit(message3, byte * 8 + (byte % 8))))).toBe('AUTH_FAILED')
    }
  })

  test('a truncated or extended message, or a low-order key, fails with AUTH_FAILED', async () => {
    const a = await party()
    const b = await party()
    const options = { verify: verifyEd25519, expectedId: b.identity.id }
    const initiator = new SecureInitiator(a.credentials, options)
    expect(await failureCode(() => new SecureResponder(b.credentials, initiator.message1.subarray(1), { verify: verifyEd25519 }))).toBe('AUTH_FAILED')
    expect(await failureCode(() => new SecureResponder(b.credentials, new Uint8Array(MESSAGE1_BYTES), { verify: verifyEd25519 }))).toBe('AUTH_FAILED')
    const responder = new SecureResponder(b.credentials, initiator.message1, { verify: verifyEd25519 })
    expect(await failureCode(() => initiator.complete(concatBytes(responder.message2, new Uint8Array(1))))).toBe('AUTH_FAILED')
    const second = new SecureInitiator(a.credentials, options)
    const answer = new SecureResponder(b.credentials, second.message1, { verify: verifyEd25519 })
    const { message3 } = await second.complete(answer.message2)
    expect(await failureCode(() => answer.complete(message3.subarray(0, MESSAGE3_BYTES - 1)))).toBe('AUTH_FAILED')
  })

  test('sides that disagree on the prologue (the bound context) fail with AUTH_FAILED', async () => {
    const a = await party()
    const b = await party()
    const run = runHandshake(a.credentials, b.credentials, { prologue: encoder.encode('conn 1') }, { prologue: encoder.encode('conn 2') })
    expect(await failureCode(() => run)).toBe('AUTH_FAILED')
    const same = await runHandshake(a.credentials, b.credentials, { prologue: encoder.encode('conn 1') }, { prologue: encoder.encode('conn 1') })
    expect(same.initiator.handshakeHash).toEqual(same.responder.handshakeHash)
  })

  test('misuse throws at once: a malformed expected id, a step taken twice, credentials of the wrong shape', async () => {
    const a = await party()
    const b = await party()
    expect(await failureCode(() => new SecureInitiator(a.credentials, { verify: verifyEd25519, expectedId: 'B' }))).toBe('BAD_ID')
    const initiator = new SecureInitiator(a.credentials, { verify: verifyEd25519, expectedId: b.identity.id })
    const responder = new SecureResponder(b.credentials, initiator.message1, { verify: verifyEd25519 })
    await initiator.complete(responder.message2)
    await expect(initiator.complete(responder.message2)).rejects.toThrow('called twice')
    const shortKey = { publicKey: new Uint8Array(31), sign: async () => new Uint8Array(64) }
    expect(await failureCode(() => createNoiseCredentials(shortKey))).toBe('BAD_OPTIONS')
    const secret = ed25519.utils.randomSecretKey()
    const badSignature = { publicKey: ed25519.getPublicKey(secret), sign: async () => new Uint8Array(63) }
    expect(await failureCode(() => createNoiseCredentials(badSignature))).toBe('BAD_OPTIONS')
  })
})
