import { ExplorerError } from '../errors'
import { KEY_BYTES, MAX_NONCE, type Aead } from './aead'

function checkCounter(counter: number): void {
  if (!Number.isSafeInteger(counter) || counter < 0) {
    throw new ExplorerError('BAD_OPTIONS', `a frame counter is an integer in [0, 2^53), got ${counter}`)
  }
}

/** Counters a box may use, [first, end): a session splits one key's counters between kinds of frame (session.ts). */
export interface CounterRange {
  readonly first: number
  readonly end: number
}

export const ALL_COUNTERS: CounterRange = { first: 0, end: MAX_NONCE }

function ownKey(key: Uint8Array): Uint8Array {
  if (key.byteLength !== KEY_BYTES) throw new ExplorerError('BAD_OPTIONS', `a transport key has ${KEY_BYTES} bytes, got ${key.byteLength}`)
  return Uint8Array.from(key)
}

/**
 * Seals one direction's frames with an explicit nonce: the frame's 64-bit
 * sequence counter. Routed Data frames can be retransmitted, overtake each
 * other or arrive twice, so Noise's implicit nonce (one more per message
 * received) cannot be used; the counter travels in the frame header instead.
 *
 * ChaCha20-Poly1305 (and AES-GCM) stay secure only while no nonce is used for
 * two different plaintexts under one key: that would give away the XOR of the
 * plaintexts and let anyone forge tags. So a counter is sealed at most once:
 * `seal` refuses any counter not above the last one sealed (NONCE_REUSED), and
 * a retransmission resends the bytes sealed the first time. Resending
 * identical bytes reveals nothing new, and the receiver's window drops the copy.
 */
export class FrameSealer {
  private readonly key: Uint8Array
  /** The lowest counter not sealed yet. */
  private next: number

  constructor(
    private readonly aead: Aead,
    key: Uint8Array,
    /** Two boxes under one key must use disjoint ranges: a nonce is never used twice under a key. */
    private readonly range: CounterRange = ALL_COUNTERS,
  ) {
    this.key = ownKey(key)
    this.next = range.first
  }

  /** The counter the next seal may use at least. */
  get nextCounter(): number {
    return this.next
  }

  /**
   * ciphertext ‖ tag of `plaintext` under nonce `counter`, authenticating `aad`
   * too (the frame's header: connection, seq, ... so the frame cannot be moved
   * to another socket or position). Throws NONCE_REUSED for a counter already passed.
   */
  seal(counter: number, aad: Uint8Array, plaintext: Uint8Array): Uint8Array {
    checkCounter(counter)
    if (counter < this.next) {
      throw new ExplorerError('NONCE_REUSED', `frame counter ${counter} is already sealed (next is ${this.next}): resend the sealed bytes instead`)
    }
    if (counter >= this.range.end) throw new ExplorerError('NONCE_REUSED', `this box has used every counter below ${this.range.end}`)
    this.next = counter + 1
    return this.aead.encrypt(this.key, counter, aad, plaintext)
  }
}

/**
 * Opens the other direction's frames. Stateless per counter: it opens any
 * authentic frame, in any order, as often as it is given; dropping duplicates
 * and replays is the receiver's window (the socket's seq order), not this box.
 */
export class FrameOpener {
  private readonly key: Uint8Array

  constructor(
    private readonly aead: Aead,
    key: Uint8Array,
    /** The counters its sealer uses: any other is refused unopened. */
    private readonly range: CounterRange = ALL_COUNTERS,
  ) {
    this.key = ownKey(key)
  }

  /** The plaintext, whole, or AUTH_FAILED: a frame altered, moved, or sealed under another counter, aad or key. */
  open(counter: number, aad: Uint8Array, sealed: Uint8Array): Uint8Array {
    checkCounter(counter)
    if (counter < this.range.first || counter >= this.range.end) throw new ExplorerError('AUTH_FAILED', `frame counter ${counter} is outside this box's range`)
    const plaintext = this.aead.decrypt(this.key, counter, aad, sealed)
    if (plaintext === null) throw new ExplorerError('AUTH_FAILED', `frame ${counter} failed its authentication tag`)
    return plaintext
  }
}
