import { createHash, createPublicKey, randomBytes, verify, type KeyObject } from 'node:crypto'
import { NONCE_BYTES, joinProofText, type JoinMessage } from '../src/protocol/signal-server'

/** DER SubjectPublicKeyInfo prefix of a raw Ed25519 key (RFC 8410): Node imports keys this way. */
const ED25519_SPKI_PREFIX = Buffer.from('302a300506032b6570032100', 'hex')

/** A fresh challenge nonce: base64url of 32 random bytes. */
export const newNonce = (): string => randomBytes(NONCE_BYTES).toString('base64url')

/** The 12-hex id a raw public key gives: the first 6 bytes of its SHA-256. */
export const idOfKey = (rawKey: Buffer): string => createHash('sha256').update(rawKey).digest('hex').slice(0, 12)

export interface ProofFailure {
  code: 'BAD_ID' | 'BAD_PROOF'
  message: string
}

/**
 * Checks a schema-valid join against the connection's latest nonce: the id
 * must be derived from the key (BAD_ID) and the signature must verify for
 * this nonce and id (BAD_PROOF). Returns null when both hold.
 */
export function checkJoinProof(join: JoinMessage, nonce: string | null): ProofFailure | null {
  const rawKey = Buffer.from(join.key, 'base64url')
  if (idOfKey(rawKey) !== join.id) return { code: 'BAD_ID', message: `id ${join.id} is not derived from this key (it must be the first 6 bytes of SHA-256(key), as hex)` }
  if (nonce === null) return { code: 'BAD_PROOF', message: 'no challenge is open on this connection' }
  let key: KeyObject
  try {
    key = createPublicKey({ key: Buffer.concat([ED25519_SPKI_PREFIX, rawKey]), format: 'der', type: 'spki' })
  } catch {
    return { code: 'BAD_PROOF', message: 'key is not an Ed25519 public key' }
  }
  let valid: boolean
  try {
    valid = verify(null, Buffer.from(joinProofText(nonce, join.id), 'utf8'), key, Buffer.from(join.sig, 'base64url'))
  } catch {
    valid = false
  }
  return valid ? null : { code: 'BAD_PROOF', message: 'sig does not verify: sign "webrtc-explorer join <nonce> <id>" with the latest challenge\'s nonce' }
}
