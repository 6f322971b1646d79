import { ExplorerError } from '../errors'
import { isIdString } from '../ids'
import type { NoiseCredentials } from './credentials'
import { proveIdentity, type ExpectedIdentity } from './identity-binding'
import { MESSAGE2_BYTES, sessionOf, startXX, type SecureHandshakeOptions, type XXStart, type SecureSession } from './session'

export interface InitiatorOptions extends SecureHandshakeOptions {
  /** The id dialled: the responder must prove the identity key behind it. */
  expectedId: string
  /** The exact identity key, when the dialler knows it (dial$(id, { key })). */
  expectedKey?: Uint8Array
}

/**
 * The dialling side of Noise_XX_25519_ChaChaPoly_SHA256 with identities:
 *   message1 (-> e)                 goes out with the Open,
 *   complete(message2) (<- e, ee, s, es, identity) proves the responder,
 *   and gives message3 (-> s, se, identity) and the session at once:
 * the dialler can send message3 and its first frames together, so the
 * handshake adds no round trip to Open/Accept.
 */
export class SecureInitiator {
  readonly message1: Uint8Array
  private readonly xx: XXStart
  private readonly expected: ExpectedIdentity
  private used = false

  constructor(
    private readonly credentials: NoiseCredentials,
    private readonly options: InitiatorOptions,
  ) {
    if (!isIdString(options.expectedId)) throw new ExplorerError('BAD_ID', `expectedId must be 12 lowercase hex characters, got ${String(options.expectedId)}`)
    this.expected = { id: options.expectedId, key: options.expectedKey }
    this.xx = startXX(true, credentials, options)
    this.message1 = this.xx.handshake.writeMessage(new Uint8Array(0))
  }

  /** AUTH_FAILED when message2 is malformed, altered, or from anyone but the expected identity. */
  async complete(message2: Uint8Array): Promise<{ message3: Uint8Array; session: SecureSession }> {
    if (this.used) throw new Error('SecureInitiator.complete: called twice')
    this.used = true
    if (message2.byteLength !== MESSAGE2_BYTES) {
      throw new ExplorerError('AUTH_FAILED', `Noise XX message 2 has ${MESSAGE2_BYTES} bytes here, got ${message2.byteLength}`)
    }
    const payload = this.xx.handshake.readMessage(message2)
    const remote = await proveIdentity(payload, this.xx.handshake.remoteStaticKey!, this.options.verify, this.expected)
    const message3 = this.xx.handshake.writeMessage(this.credentials.payload)
    return { message3, session: sessionOf(this.xx, remote) }
  }
}
