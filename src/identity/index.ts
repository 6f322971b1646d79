export { createIdentity, importIdentity, idFromPublicKey, isIdentity, newIdentity, identityFromSeed, signAs, type Identity } from './identity'
export { verifySignature, PUBLIC_KEY_BYTES, SIGNATURE_BYTES } from './ed25519'
export { toBase64url, fromBase64url, fromBase64urlOfLength } from './base64url'
