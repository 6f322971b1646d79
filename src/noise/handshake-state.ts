import { concatBytes } from '@noble/hashes/utils'
import { ExplorerError } from '../errors'
import { TAG_BYTES, type Aead } from './aead'
import { dh, DH_BYTES, generateKeyPair, type KeyPair } from './dh'
import type { HandshakePattern, Token } from './patterns'
import { SymmetricState } from './symmetric-state'

/** Noise caps every message at 65535 bytes (section 3). */
export const MAX_MESSAGE_BYTES = 65535

export interface HandshakeOptions {
  pattern: HandshakePattern
  initiator: boolean
  aead: Aead
  /** Bytes both sides must agree on before the first message (the context the handshake is bound to). */
  prologue?: Uint8Array
  /** XX and IK authenticate both sides: each has a static key pair. */
  staticKeyPair: KeyPair
  /** The remote's static key when the pattern has it as a pre-message (IK's initiator). */
  remoteStaticKey?: Uint8Array
  /** A fixed ephemeral key: for replaying the published test vectors only. */
  ephemeralKeyPair?: KeyPair
}

/** The Split() keys, oriented for one side: what it seals with and what it opens with. */
export interface TransportKeys {
  send: Uint8Array
  receive: Uint8Array
}

const authFailed = (why: string) => new ExplorerError('AUTH_FAILED', why)

/**
 * Noise's HandshakeState (section 5.3) for the 25519 / SHA256 suites: runs a
 * pattern's tokens, one message at a time, and gives the transport keys at
 * the end. Anything wrong in a message read fails with AUTH_FAILED.
 */
export class HandshakeState {
  readonly protocolName: string
  private readonly symmetric: SymmetricState
  private readonly initiator: boolean
  private readonly pattern: HandshakePattern
  private readonly s: KeyPair
  private e: KeyPair | null = null
  private rs: Uint8Array | null
  private re: Uint8Array | null = null
  private readonly fixedEphemeral: KeyPair | null
  private step = 0

  constructor(options: HandshakeOptions) {
    const { pattern, initiator, aead } = options
    this.pattern = pattern
    this.initiator = initiator
    this.rs = options.remoteStaticKey ?? null
    this.fixedEphemeral = options.ephemeralKeyPair ?? null
    this.s = options.staticKeyPair
    const remotePreMessage = initiator ? pattern.responderPreMessage : pattern.initiatorPreMessage
    if (remotePreMessage.includes('s') && this.rs?.byteLength !== DH_BYTES) {
      throw new ExplorerError('BAD_OPTIONS', `Noise ${pattern.name} needs the remote's ${DH_BYTES}-byte static key before the handshake`)
    }
    this.protocolName = `Noise_${pattern.name}_25519_${aead.cipher}_SHA256`
    this.symmetric = new SymmetricState(this.protocolName, aead)
    this.symmetric.mixHash(options.prologue ?? new Uint8Array(0))
    // Pre-messages are hashed in order, the initiator's first (section 5.3, Initialize).
    const initiatorKey = initiator ? this.s.publicKey : this.rs
    const responderKey = initiator ? this.rs : this.s.publicKey
    if (pattern.initiatorPreMessage.includes('s')) this.symmetric.mixHash(initiatorKey!)
    if (pattern.responderPreMessage.includes('s')) this.symmetric.mixHash(responderKey!)
  }

  get isComplete(): boolean {
    return this.step === this.pattern.messages.length
  }

  /** Whether the next message is ours to write (else ours to read). */
  get writesNext(): boolean {
    return !this.isComplete && (this.step % 2 === 0) === this.initiator
  }

  get remoteStaticKey(): Uint8Array | null {
    return this.rs
  }

  get handshakeHash(): Uint8Array {
    return this.symmetric.handshakeHash
  }

  writeMessage(payload: Uint8Array): Uint8Array {
    if (!this.writesNext) throw new Error(`Noise ${this.pattern.name}: not this side's turn to write`)
    const parts: Uint8Array[] = []
    for (const token of this.pattern.messages[this.step]) {
      if (token === 'e') {
        this.e = this.fixedEphemeral ?? generateKeyPair()
        parts.push(this.e.publicKey)
        this.symmetric.mixHash(this.e.publicKey)
      } else if (token === 's') {
        parts.push(this.symmetric.encryptAndHash(this.s.publicKey))
      } else {
        this.mixDh(token)
      }
    }
    parts.push(this.symmetric.encryptAndHash(payload))
    this.step++
    const message = concatBytes(...parts)
    if (message.byteLength > MAX_MESSAGE_BYTES) throw new ExplorerError('BAD_OPTIONS', `a Noise message holds at most ${MAX_MESSAGE_BYTES} bytes`)
    return message
  }

  /** The message's payload; AUTH_FAILED when the message is malformed or fails authentication. */
  readMessage(message: Uint8Array): Uint8Array {
    if (this.isComplete || this.writesNext) throw new Error(`Noise ${this.pattern.name}: not this side's turn to read`)
    if (message.byteLength > MAX_MESSAGE_BYTES) throw authFailed(`a Noise message holds at most ${MAX_MESSAGE_BYTES} bytes`)
    let offset = 0
    const take = (length: number): Uint8Array => {
      if (offset + length > message.byteLength) throw authFailed('a Noise handshake message is too short')
      offset += length
      return message.subarray(offset - length, offset)
    }
    for (const token of this.pattern.messages[this.step]) {
      if (token === 'e') {
        this.re = Uint8Array.from(take(DH_BYTES))
        this.symmetric.mixHash(this.re)
      } else if (token === 's') {
        this.rs = Uint8Array.from(this.symmetric.decryptAndHash(take(this.symmetric.hasKey() ? DH_BYTES + TAG_BYTES : DH_BYTES)))
      } else {
        this.mixDh(token)
      }
    }
    const payload = this.symmetric.decryptAndHash(message.subarray(offset))
    this.step++
    return payload
  }

  /** Split(): the transport keys, once the last message is written or read. */
  split(): TransportKeys {
    if (!this.isComplete) throw new Error(`Noise ${this.pattern.name}: split before the handshake completed`)
    const [initiatorToResponder, responderToInitiator] = this.symmetric.split()
    return this.initiator
      ? { send: initiatorToResponder, receive: responderToInitiator }
      : { send: responderToInitiator, receive: initiatorToResponder }
  }

  /** ee, es, se, ss: the first letter names the initiator's key, the second the responder's. */
  private mixDh(token: Exclude<Token, 'e' | 's'>): void {
    const initiatorKey = token[0] === 'e' ? 'e' : 's'
    const responderKey = token[1] === 'e' ? 'e' : 's'
    const [mine, theirs] = this.initiator ? [initiatorKey, responderKey] : [responderKey, initiatorKey]
    const secret = (mine === 'e' ? this.e : this.s)!.secretKey
    const remote = (theirs === 'e' ? this.re : this.rs)!
    this.symmetric.mixKey(dh(secret, remote))
  }
}
