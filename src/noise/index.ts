/**
 * End-to-end secure channels for routed sockets: Noise XX handshakes whose
 * static keys are signed by the peers' identity keys, and explicit-nonce
 * frame boxes for a transport that retransmits and reorders. No networking:
 * the socket layer carries the messages and frames.
 */
export type { Aead, NoiseCipher } from './aead'
export { nobleChaChaPoly } from './aead-noble'
export { defaultAead, nodeAead } from './aead-node'
export { createNoiseCredentials, type NoiseCredentials } from './credentials'
export { generateKeyPair, keyPairFromSecret, type KeyPair } from './dh'
export { counterFromWireSeq } from './frame-counter'
export { FrameOpener, FrameSealer, type CounterRange } from './frame-box'
export {
  idOfIdentityKey,
  STATIC_KEY_CONTEXT,
  type ExpectedIdentity,
  type IdentitySigner,
  type ProvenIdentity,
  type VerifySignature,
} from './identity-binding'
export { SecureInitiator, type InitiatorOptions } from './initiator'
export { SecureResponder, type ResponderOptions } from './responder'
export {
  CONTROL_COUNTER_BASE, MESSAGE1_BYTES, MESSAGE2_BYTES, MESSAGE3_BYTES, type SecureHandshakeOptions, type SecureSession,
} from './session'
