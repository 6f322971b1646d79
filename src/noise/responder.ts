import { ExplorerError } from '../errors'
import type { NoiseCredentials } from './credentials'
import { proveIdentity, type ExpectedIdentity } from './identity-binding'
import { MESSAGE1_BYTES, MESSAGE3_BYTES, sessionOf, startXX, type SecureHandshakeOptions, type XXStart, type SecureSession } from './session'

export interface ResponderOptions extends SecureHandshakeOptions {
  /** Optionally, who the initiator must be (e.g. the id its Open claims as source). */
  expected?: ExpectedIdentity
}

/**
 * The accepting side: reads message1 from the Open and answers message2 with
 * the Accept (synchronously: nothing to verify yet); complete(message3)
 * proves the initiator and returns its identity with the session.
 * A malformed message1 (or a low-order key in it) throws AUTH_FAILED at once.
 */
export class SecureResponder {
  readonly message2: Uint8Array
  private readonly xx: XXStart
  private used = false

  constructor(credentials: NoiseCredentials, message1: Uint8Array, private readonly options: ResponderOptions) {
    if (message1.byteLength !== MESSAGE1_BYTES) {
      throw new ExplorerError('AUTH_FAILED', `Noise XX message 1 has ${MESSAGE1_BYTES} bytes, got ${message1.byteLength}`)
    }
    this.xx = startXX(false, credentials, options)
    this.xx.handshake.readMessage(message1)
    this.message2 = this.xx.handshake.writeMessage(credentials.payload)
  }

  /** The session, with the initiator's proven identity; AUTH_FAILED when message3 does not prove one. */
  async complete(message3: Uint8Array): Promise<SecureSession> {
    if (this.used) throw new Error('SecureResponder.complete: called twice')
    this.used = true
    if (message3.byteLength !== MESSAGE3_BYTES) {
      throw new ExplorerError('AUTH_FAILED', `Noise XX message 3 has ${MESSAGE3_BYTES} bytes here, got ${message3.byteLength}`)
    }
    const payload = this.xx.handshake.readMessage(message3)
    const remote = await proveIdentity(payload, this.xx.handshake.remoteStaticKey!, this.options.verify, this.options.expected ?? {})
    return sessionOf(this.xx, remote)
  }
}
