import { MAX_NONCE, TAG_BYTES, type Aead } from './aead'
import { defaultAead } from './aead-node'
import type { NoiseCredentials } from './credentials'
import { DH_BYTES } from './dh'
import { FrameOpener, FrameSealer, type CounterRange } from './frame-box'
import { HandshakeState } from './handshake-state'
import { IDENTITY_PAYLOAD_BYTES, type ProvenIdentity, type VerifySignature } from './identity-binding'
import { XX } from './patterns'

/** XX's messages have fixed sizes here (the payloads are identity ‖ signature, or empty): anything else is refused unread. */
export const MESSAGE1_BYTES = DH_BYTES
export const MESSAGE2_BYTES = DH_BYTES + (DH_BYTES + TAG_BYTES) + (IDENTITY_PAYLOAD_BYTES + TAG_BYTES)
export const MESSAGE3_BYTES = DH_BYTES + TAG_BYTES + (IDENTITY_PAYLOAD_BYTES + TAG_BYTES)

/**
 * One key per direction, two kinds of frame: those numbered by the stream
 * (data, in order, retransmitted as sealed) take counters below 2^52, control
 * frames (acks, numbered on their own) take the counters above. Disjoint
 * ranges, so no nonce is ever used twice under a key.
 */
export const CONTROL_COUNTER_BASE = 2 ** 52
export const STREAM_COUNTERS: CounterRange = { first: 0, end: CONTROL_COUNTER_BASE }
export const CONTROL_COUNTERS: CounterRange = { first: CONTROL_COUNTER_BASE, end: MAX_NONCE }

export interface SecureHandshakeOptions {
  verify: VerifySignature
  /**
   * Context both sides must agree on, bound into the handshake (Noise's
   * prologue): e.g. a protocol label, both ids and the connection id. A
   * relay that changes any of it makes the handshake fail. Default: empty.
   */
  prologue?: Uint8Array
  /** The AEAD for the handshake and the frames; default defaultAead() (ChaChaPoly, native where possible). */
  aead?: Aead
}

/** A finished handshake: who the remote proved to be, and the boxes for each direction's frames. */
export interface SecureSession {
  readonly remoteIdentityKey: Uint8Array
  readonly remoteId: string
  readonly remoteStaticKey: Uint8Array
  /** Noise's h after the last message: equal on both sides, unique to this handshake (channel binding). */
  readonly handshakeHash: Uint8Array
  /** Stream frames, counters in STREAM_COUNTERS. */
  readonly sealer: FrameSealer
  readonly opener: FrameOpener
  /** Control frames under the same keys, counters in CONTROL_COUNTERS. */
  readonly controlSealer: FrameSealer
  readonly controlOpener: FrameOpener
}

/** One side's XX handshake, and the AEAD it runs on (its frames will too). */
export interface XXStart {
  handshake: HandshakeState
  aead: Aead
}

export function startXX(initiator: boolean, credentials: NoiseCredentials, options: SecureHandshakeOptions): XXStart {
  const aead = options.aead ?? defaultAead()
  const handshake = new HandshakeState({ pattern: XX, initiator, aead, prologue: options.prologue, staticKeyPair: credentials.staticKeyPair })
  return { handshake, aead }
}

export function sessionOf({ handshake, aead }: XXStart, remote: ProvenIdentity): SecureSession {
  const keys = handshake.split()
  return {
    remoteIdentityKey: remote.key,
    remoteId: remote.id,
    remoteStaticKey: handshake.remoteStaticKey!,
    handshakeHash: handshake.handshakeHash,
    sealer: new FrameSealer(aead, keys.send, STREAM_COUNTERS),
    opener: new FrameOpener(aead, keys.receive, STREAM_COUNTERS),
    controlSealer: new FrameSealer(aead, keys.send, CONTROL_COUNTERS),
    controlOpener: new FrameOpener(aead, keys.receive, CONTROL_COUNTERS),
  }
}
