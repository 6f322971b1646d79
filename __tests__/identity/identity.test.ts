import { createHash } from 'node:crypto'
import { createIdentity, importIdentity, idFromPublicKey, signAs, verifySignature } from '../../src/identity'
import { formatId } from '../../src/ids'

const hex = (h: string) => Uint8Array.from(Buffer.from(h, 'hex'))

// RFC 8032 §7.1, TEST 1 and TEST 2.
const RFC8032 = [
  {
    seed: '9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60',
    publicKey: 'd75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a',
    message: '',
    signature: 'e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e065224901555fb8821590a33bacc61e39701cf9b46bd25bf5f0595bbe24655141438e7a100b',
  },
  {
    seed: '4ccd089b28ff96da9db6c346ec114e0f5b8a319f35aba624da8cf6ed4fb8a6fb',
    publicKey: '3d4017c3e843895a92b70aa74d1b7ebc9c982ccf2ec4968cc0cd55f12af4660c',
    message: '72',
    signature: '92a009a9f0d4cab8720e820b5f642540a2b27b5416503f8fb3762223ebdb69da085ac1e43e15996e458f3613d0f11d8c387b2eaeb4302aeeb00d291612bb0c00',
  },
]

describe('identity', () => {
  it('id = the first 6 bytes of SHA-256(public key), 12 lowercase hex', async () => {
    for (let i = 0; i < 20; i++) {
      const identity = await createIdentity()
      const digest = createHash('sha256').update(identity.publicKey).digest('hex')
      expect(identity.id).toBe(digest.slice(0, 12))
      expect(formatId(idFromPublicKey(identity.publicKey))).toBe(identity.id)
    }
  })

  it('matches RFC 8032 test vectors: public key from seed and the signature', async () => {
    for (const v of RFC8032) {
      const identity = await importIdentity(hex(v.seed))
      expect(Buffer.from(identity.publicKey).toString('hex')).toBe(v.publicKey)
      const signature = await signAs(identity, hex(v.message))
      expect(Buffer.from(signature).toString('hex')).toBe(v.signature)
      expect(await verifySignature(identity.publicKey, hex(v.message), signature)).toBe(true)
    }
  })

  it('export() gives the seed back and importIdentity restores the same id and key', async () => {
    const a = await createIdentity()
    const b = await importIdentity(a.export())
    expect(b.id).toBe(a.id)
    expect(b.publicKey).toEqual(a.publicKey)
    expect(a.export()).toHaveLength(32)
  })

  it('hands out copies: mutating publicKey or export() changes nothing inside', async () => {
    const a = await createIdentity()
    const key = a.publicKey
    key.fill(0)
    a.export().fill(0)
    expect(a.publicKey).not.toEqual(key)
    const message = new TextEncoder().encode('still mine')
    expect(await verifySignature(a.publicKey, message, await signAs(a, message))).toBe(true)
  })

  it('never serialises its seed', async () => {
    const a = await createIdentity()
    const json = JSON.stringify(a)
    expect(json).toBe(JSON.stringify({ id: a.id }))
  })

  it.each([
    ['31 bytes', new Uint8Array(31)],
    ['33 bytes', new Uint8Array(33)],
    ['a string', 'seed' as unknown as Uint8Array],
    ['null', null as unknown as Uint8Array],
  ])('importIdentity refuses %s with BAD_IDENTITY', async (_, bad) => {
    await expect(importIdentity(bad)).rejects.toMatchObject({ code: 'BAD_IDENTITY' })
  })

  it('refuses to sign with an object that only looks like an identity', async () => {
    const real = await createIdentity()
    const fake = { id: real.id, publicKey: real.publicKey, export: () => new Uint8Array(32) }
    expect(() => signAs(fake, new Uint8Array(1))).toThrow(expect.objectContaining({ code: 'BAD_IDENTITY' }))
  })
})

describe('verifySignature', () => {
  it('is false for a changed message, a changed signature, another key or malformed lengths', async () => {
    const a = await createIdentity()
    const b = await createIdentity()
    const message = new TextEncoder().encode('webrtc-explorer join nonce 0123456789ab')
    const signature = await signAs(a, message)
    expect(await verifySignature(a.publicKey, message, signature)).toBe(true)
    const changed = message.slice()
    changed[0] ^= 1
    expect(await verifySignature(a.publicKey, changed, signature)).toBe(false)
    const flipped = signature.slice()
    flipped[10] ^= 0x40
    expect(await verifySignature(a.publicKey, message, flipped)).toBe(false)
    expect(await verifySignature(b.publicKey, message, signature)).toBe(false)
    expect(await verifySignature(a.publicKey.slice(1), message, signature)).toBe(false)
    expect(await verifySignature(a.publicKey, message, signature.slice(1))).toBe(false)
    expect(await verifySignature(new Uint8Array(32).fill(0xff), message, signature)).toBe(false)
  })
})
