import { firstValueFrom } from 'rxjs'
import { identityFromSeed } from '../../src/identity'
import { identityClaimProver, modelledClaimProver, ownershipClaimText, type ClaimProver, type OwnershipClaim } from '../../src/identity/claim-proof'
import { RING_SIZE, parseId } from '../../src/ids'

const seed = (n: number) => new Uint8Array(32).fill(n)
const owner = identityFromSeed(seed(1))
const other = identityFromSeed(seed(2))

/** A claim by `owner` for a key just before it. */
const claimOf = (id: number): OwnershipClaim => ({ key: (id - 5 + RING_SIZE) % RING_SIZE, owner: id, predecessor: (id - 9 + RING_SIZE) % RING_SIZE, nonce: 0x0123456789ab })

const proofOf = (prover: ClaimProver, claim: OwnershipClaim) => firstValueFrom(prover.prove$(claim))
const checks = (prover: ClaimProver, claim: OwnershipClaim, proof: Awaited<ReturnType<typeof proofOf>>) => firstValueFrom(prover.check$(claim, proof))

describe('ownership claims signed with the identity (Ed25519)', () => {
  const prover = identityClaimProver(owner)
  const checker = identityClaimProver(other)
  const claim = claimOf(parseId(owner.id))

  it("the owner's proof checks, by anyone", async () => {
    const proof = await proofOf(prover, claim)
    expect(proof.key).toEqual(owner.publicKey)
    expect(await checks(checker, claim, proof)).toBe(true)
  })

  it.each([
    ['another key', { key: (claim.key + 1) % RING_SIZE }],
    ['another predecessor (the owner said the key is not in its range)', { predecessor: claim.key }],
    ['no predecessor', { predecessor: null }],
    ['another nonce (a replay to another lookup)', { nonce: claim.nonce + 1 }],
  ])('the same proof for the claim with %s is refused', async (_name, change) => {
    const proof = await proofOf(prover, claim)
    expect(await checks(checker, { ...claim, ...change }, proof)).toBe(false)
  })

  it("a forged confirmation, signed by a peer for another's id, is refused", async () => {
    // `other` signs a claim that names `owner`: a valid signature, by a key whose id is not the owner.
    const forged = await proofOf(identityClaimProver(other), claim)
    expect(await checks(checker, claim, forged)).toBe(false)
    // With the owner's key put in, the signature no longer matches it.
    expect(await checks(checker, claim, { key: owner.publicKey, signature: forged.signature })).toBe(false)
  })

  it('a truncated key or signature is refused, not thrown', async () => {
    const proof = await proofOf(prover, claim)
    expect(await checks(checker, claim, { key: proof.key.subarray(1), signature: proof.signature })).toBe(false)
    expect(await checks(checker, claim, { key: proof.key, signature: proof.signature.subarray(1) })).toBe(false)
  })

  it('signs a text that names every field', () => {
    expect(new TextDecoder().decode(ownershipClaimText({ key: 1, owner: 2, predecessor: null, nonce: 3 }))).toBe('webrtc-explorer owner v1\n000000000001\n000000000002\n-\n000000000003')
  })
})

describe('the simulator’s model of the same', () => {
  const a = 0x100000000000
  const claim = claimOf(a)

  it('checks a proof by the owner, and refuses one by anyone else or for a changed claim', async () => {
    const proof = await proofOf(modelledClaimProver(a), claim)
    const checker = modelledClaimProver(7)
    expect(await checks(checker, claim, proof)).toBe(true)
    expect(await checks(checker, claim, await proofOf(modelledClaimProver(a + 1), claim))).toBe(false)
    expect(await checks(checker, { ...claim, nonce: claim.nonce + 1 }, proof)).toBe(false)
    expect(await checks(checker, { ...claim, predecessor: null }, proof)).toBe(false)
  })

  it('has the real sizes (frames keep their real lengths)', async () => {
    const proof = await proofOf(modelledClaimProver(a), claim)
    expect([proof.key.length, proof.signature.length]).toEqual([32, 64])
  })
})
