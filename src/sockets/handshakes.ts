import { ExplorerError, isExplorerError } from '../errors'
import { formatId } from '../ids'
import {
  createNoiseCredentials, defaultAead, SecureInitiator, SecureResponder, type Aead, type IdentitySigner, type NoiseCredentials, type VerifySignature,
} from '../noise'
import { socketPrologue } from './seal'

/**
 * How sockets prove who they are and check who the remote is: the peer's
 * identity, injected (the explorer passes its identity's key and signAs, and
 * src/identity's verifySignature), so the socket layer never holds the seed.
 */
export interface SocketSecurity {
  readonly signer: IdentitySigner
  readonly verify: VerifySignature
}

/**
 * The Noise side of one peer's socket layer: its credentials (a static
 * X25519 key signed by the identity, made once), and the handshakes of its
 * sockets. Counts the asynchronous steps in flight (signing, verifying), so
 * a virtual-time test can let them settle.
 */
export class Handshakes {
  /** Asynchronous steps in flight. */
  pending = 0
  /**
   * The AEAD of new handshakes and their frames: ChaChaPoly, by Node's
   * OpenSSL where present, else noble (defaultAead). Replaced only by the
   * benchmarks that measure what sealing costs (bench/overlay.ts,
   * bench/overlay-sockets.ts); the
   * package exposes no way to reach it.
   */
  aead: Aead = defaultAead()
  private credentials: NoiseCredentials | null = null
  private failure: ExplorerError | null = null
  private readonly waiting: ((credentials: NoiseCredentials | ExplorerError) => void)[] = []

  constructor(
    private readonly self: number,
    private readonly security: SocketSecurity,
  ) {
    this.track(createNoiseCredentials(security.signer)).then(
      (credentials) => this.ready(credentials),
      (error) => this.ready(new ExplorerError('AUTH_FAILED', `could not sign this peer's Noise key: ${describe(error)}`)),
    )
  }

  /** Calls `use` with the credentials: at once once they exist, else when they do (or with why they never will). */
  withCredentials(use: (credentials: NoiseCredentials | ExplorerError) => void): void {
    const ready = this.credentials ?? this.failure
    if (ready !== null) use(ready)
    else this.waiting.push(use)
  }

  /** A dialler's handshake with `remote` (its identity must be the dialled id, and `key` when given). */
  initiator(credentials: NoiseCredentials, remote: number, conn: number, key?: Uint8Array): SecureInitiator {
    return new SecureInitiator(credentials, {
      verify: this.security.verify,
      expectedId: formatId(remote),
      expectedKey: key,
      prologue: socketPrologue(this.self, remote, conn),
      aead: this.aead,
    })
  }

  /**
   * An accepter's handshake for an Open from `source` (a claim: the dialler
   * must prove that very id). Three X25519 operations; throws AUTH_FAILED
   * for a malformed or low-order message 1.
   */
  responder(credentials: NoiseCredentials, message1: Uint8Array, source: number, conn: number): SecureResponder {
    return new SecureResponder(credentials, message1, {
      verify: this.security.verify,
      expected: { id: formatId(source) },
      prologue: socketPrologue(source, this.self, conn),
      aead: this.aead,
    })
  }

  /** Counts `promise` as pending until it settles. */
  track<T>(promise: Promise<T>): Promise<T> {
    this.pending++
    const settled = () => this.pending--
    promise.then(settled, settled)
    return promise
  }

  private ready(result: NoiseCredentials | ExplorerError): void {
    if (result instanceof ExplorerError) this.failure = result
    else this.credentials = result
    for (const use of this.waiting.splice(0)) use(result)
  }
}

/** Any failure of a handshake step, as the AUTH_FAILED the remote caused (noise throws nothing else a remote can trigger). */
export function authFailure(error: unknown): ExplorerError {
  return isExplorerError(error, 'AUTH_FAILED') ? error : new ExplorerError('AUTH_FAILED', `the handshake failed: ${describe(error)}`)
}

const describe = (error: unknown): string => (error instanceof Error ? error.message : String(error))
