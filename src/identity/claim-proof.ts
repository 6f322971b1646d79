import { Observable, defer, from, map, of } from 'rxjs'
import { bytesToId, formatId, writeId } from '../ids'
import { PUBLIC_KEY_BYTES, SIGNATURE_BYTES, verifySignature } from './ed25519'
import { idFromPublicKey, signAs, type Identity } from './identity'

/**
 * "I own `key`: my predecessor is `predecessor`" — what the owner of a key
 * says in answer to a lookup, bound to the asker's nonce so it cannot be
 * replayed to another asker or later. A peer can only make such claims for
 * its own id (it signs them with the key its id derives from).
 */
export interface OwnershipClaim {
  key: number
  owner: number
  /** The owner's predecessor when it answered (null: it knew none). */
  predecessor: number | null
  /** The asker's nonce for this lookup (48 bits). */
  nonce: number
}

/** The signer's raw Ed25519 public key and its signature of ownershipClaimText(claim). */
export interface ClaimProof {
  key: Uint8Array
  signature: Uint8Array
}

/** Who signs our claims and checks others': real Ed25519, or a model of it (simulation). */
export interface ClaimProver {
  /** Our proof of `claim` (whose owner must be us). */
  prove$(claim: OwnershipClaim): Observable<ClaimProof>
  /** Whether `proof` shows that `claim.owner` made `claim`: its key gives that id and signed the claim. */
  check$(claim: OwnershipClaim, proof: ClaimProof): Observable<boolean>
}

const encoder = new TextEncoder()

/** What an ownership proof signs (UTF-8): a fixed prefix, the key, the owner, its predecessor ('-' for none) and the nonce, in hex. */
export const ownershipClaimText = (claim: OwnershipClaim): Uint8Array =>
  encoder.encode(`webrtc-explorer owner v1\n${formatId(claim.key)}\n${formatId(claim.owner)}\n${claim.predecessor === null ? '-' : formatId(claim.predecessor)}\n${formatId(claim.nonce)}`)

/** Real proofs with this peer's identity (the explorer's). */
export function identityClaimProver(identity: Identity): ClaimProver {
  const key = identity.publicKey
  return {
    prove$: (claim) => defer(() => from(signAs(identity, ownershipClaimText(claim)))).pipe(map((signature) => ({ key, signature }))),
    check$: (claim, proof) =>
      defer(() => {
        if (proof.key.length !== PUBLIC_KEY_BYTES || idFromPublicKey(proof.key) !== claim.owner) return of(false)
        return from(verifySignature(proof.key, ownershipClaimText(claim), proof.signature))
      }),
  }
}

/**
 * The simulator's model of a proof (every lookup answer of 16,384 peers is
 * signed and checked; real Ed25519 would be most of the run): the "key"
 * names the signer in its first 6 bytes and the "signature" starts with a
 * hash of the claim, both at their real sizes so frames keep their real
 * lengths. Checking recomputes them, synchronously. It stands for an
 * unforgeable signature because our attackers only ever make proofs with
 * the model of an id they hold (src/testnet/adversary.ts); the explorer's
 * attack test uses real proofs.
 */
export function modelledClaimProver(self: number): ClaimProver {
  return {
    prove$: (claim) => of(modelledProof(self, claim)),
    check$: (claim, proof) => of(proof.key.length === PUBLIC_KEY_BYTES && bytesToId(proof.key, 0) === claim.owner && sameBytes(proof.signature, modelledProof(claim.owner, claim).signature)),
  }
}

function modelledProof(signer: number, claim: OwnershipClaim): ClaimProof {
  const key = new Uint8Array(PUBLIC_KEY_BYTES)
  writeId(key, 0, signer)
  const signature = new Uint8Array(SIGNATURE_BYTES)
  const view = new DataView(signature.buffer)
  view.setUint32(0, claimHash(signer, claim))
  return { key, signature }
}

/** FNV-1a over the claim's fields and the signer: cheap, deterministic, different for any field changed. */
function claimHash(signer: number, claim: OwnershipClaim): number {
  let h = 0x811c9dc5
  for (const n of [signer, claim.key, claim.owner, claim.predecessor ?? -1, claim.nonce]) {
    const high = Math.floor(n / 2 ** 24)
    const low = n & 0xffffff
    h = Math.imul(h ^ high, 0x01000193)
    h = Math.imul(h ^ low, 0x01000193)
  }
  return h >>> 0
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false
  return true
}
