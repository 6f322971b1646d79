import { type Observable, filter, map } from 'rxjs'
import { ExplorerError } from '../errors'
import { modelledClaimProver, type ClaimProver } from '../identity/claim-proof'
import { RING_SIZE, betweenRightInclusive } from '../ids'
import { RingOp, decodeRingMessage, encodeRingMessage } from '../ring/messages'
import type { RingNode } from '../ring/node'
import type { LocalFrame } from '../router/router'
import { SortedIds } from '../router/sorted-ids'
import type { Channel, SignalPort, Transport } from '../transport/types'
import { DEFAULT_TTL, FrameFlag, FrameType, tryDecodeFrame, type Frame } from '../wire/frame'
import { readRoute, readSourceRoute } from '../wire/route-record'

/**
 * Malicious peers for the simulator and the attack tests: our own ring code,
 * with one thing changed in how their channels hand frames to it. A lookup
 * request they should forward is answered with a lie (`self`: "I own it";
 * `accomplice`: "the coalition's member closest after the key owns it") or
 * dropped (`drop`, replies in transit too). Lookups for keys they do own
 * are answered honestly. A lie is the strongest the proofs allow: signed by
 * the member it names (members share their keys) and naming a predecessor
 * just before the key, so that no check of the claim alone can refuse it.
 */
export type AttackKind = 'self' | 'accomplice' | 'drop'
export const ATTACK_KINDS: readonly AttackKind[] = ['self', 'accomplice', 'drop']

export interface AdversaryOptions {
  /** Fraction of peers that are malicious, in [0, 1). */
  fraction: number
  attack: AttackKind
  /** Who signs a lie naming member `named` (default: that member, members share their keys; the attack tests forge). */
  proverFor?: (named: number) => ClaimProver
}

export function checkAdversaryOptions(options: AdversaryOptions): void {
  const { fraction, attack } = options
  if (!(typeof fraction === 'number' && fraction >= 0 && fraction < 1)) {
    throw new ExplorerError('BAD_OPTIONS', `the malicious fraction must be a number in [0, 1), got ${fraction}`)
  }
  if (!ATTACK_KINDS.includes(attack)) throw new ExplorerError('BAD_OPTIONS', `attack must be one of ${ATTACK_KINDS.join(', ')}, got ${String(attack)}`)
}

/** The malicious peers of one run: they know each other, and turn on together. */
export class Coalition {
  /** Live members, sorted (the accomplice attack names the one closest after a key). */
  readonly members = new SortedIds()
  /** Off while the ring forms: the attack starts when the run says so. */
  active = false

  constructor(
    readonly attack: AttackKind,
    /** Signs as a member (the simulator: the model; the explorer's attack test: real identities). */
    private readonly proverFor: (member: number) => ClaimProver = modelledClaimProver,
  ) {}

  /** Who a liar names as the owner of `key`: itself, or the member closest at or after the key (the lie closest to the truth). */
  nameFor(liar: number, key: number): number {
    return this.attack === 'accomplice' ? (this.members.from(key, 1)[0] ?? liar) : liar
  }

  /** `inner` as member `self` uses it: its channels hand lookup frames to `intercept` first. */
  transport(inner: Transport, self: number, node: () => RingNode | undefined): Transport {
    const wrap = map((channel: Channel): Channel => new MaliciousChannel(channel, (bytes) => this.intercept(bytes, channel, self, node())))
    return {
      connect: (remoteId: number | null, port: SignalPort): Observable<Channel> => inner.connect(remoteId, port).pipe(wrap),
      accept: (remoteId: number, port: SignalPort): Observable<Channel> => inner.accept(remoteId, port).pipe(wrap),
      bindingOf: (signal: unknown) => inner.bindingOf(signal),
      cheapOffers: inner.cheapOffers,
    }
  }

  /** True: the frame was swallowed (dropped, or answered with a lie); false: the ring gets it as usual. */
  private intercept(bytes: Uint8Array, channel: Channel, self: number, node: RingNode | undefined): boolean {
    if (!this.active || node === undefined || !node.joined) return false
    const decoded = tryDecodeFrame(bytes)
    if (!decoded.ok || decoded.frame.type !== FrameType.Ring) return false
    const frame = decoded.frame
    try {
      if (frame.flags & FrameFlag.Routed) {
        // A reply passing through: droppers drop lookup answers.
        return this.attack === 'drop' && frame.dest !== self && decodeRingMessage(readSourceRoute(frame.payload).rest).op === RingOp.Found
      }
      if (!(frame.flags & FrameFlag.Traced) || frame.flags & FrameFlag.Exact) return false
      const record = readRoute(frame.payload)
      const message = decodeRingMessage(record.rest)
      if (message.op !== RingOp.FindSuccessor) return false
      const key = message.key
      const predecessor = node.predecessor
      if (predecessor !== null && betweenRightInclusive(key, predecessor, self)) return false
      if (this.attack !== 'drop') this.lie(node, frame, channel.remoteId, record.ids, message)
      return true
    } catch {
      return false
    }
  }

  /** The answer an owner would give, naming someone else, sent back the way an owner answers (Router.reply). */
  private lie(node: RingNode, request: Frame, from: number, path: number[], message: { key: number; nonce: number }): void {
    const owner = this.nameFor(node.id, message.key)
    const claim = { key: message.key, owner, predecessor: (message.key - 1 + RING_SIZE) % RING_SIZE, nonce: message.nonce }
    const hops = Math.min(DEFAULT_TTL - request.ttl + 1, 255)
    const asked: LocalFrame = { ...request, from, hops, unreachable: false, path }
    this.proverFor(owner).prove$(claim).subscribe((proof) =>
      node.router.reply(asked, {
        type: FrameType.Ring, conn: request.conn, seq: 0,
        payload: encodeRingMessage({ op: RingOp.Found, hops, owner, predecessor: claim.predecessor, proof, path }),
      }),
    )
  }
}

/** A member's channel: every frame it receives goes past the coalition first. */
class MaliciousChannel implements Channel {
  readonly frames$: Observable<Uint8Array>

  constructor(
    private readonly inner: Channel,
    swallow: (bytes: Uint8Array) => boolean,
  ) {
    this.frames$ = inner.frames$.pipe(filter((bytes) => !swallow(bytes)))
  }

  get remoteId(): number {
    return this.inner.remoteId
  }

  get bufferedAmount(): number {
    return this.inner.bufferedAmount
  }

  get isOpen(): boolean {
    return this.inner.isOpen
  }

  get health$(): Observable<boolean> | undefined {
    return this.inner.health$
  }

  send(frame: Uint8Array): boolean {
    return this.inner.send(frame)
  }

  drained(): Observable<void> {
    return this.inner.drained()
  }

  close(): void {
    this.inner.close()
  }
}
