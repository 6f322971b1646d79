import { type Observable, filter, map } from 'rxjs'
import { ExplorerError } from '../errors'
import { betweenRightInclusive } from '../ids'
import { RingOp, decodeRingMessage, encodeRingMessage, type RingMessage } from '../ring/messages'
import type { RingNode } from '../ring/node'
import { SortedIds } from '../router/sorted-ids'
import type { Channel, SignalPort, Transport } from '../transport/types'
import { DEFAULT_TTL, FrameFlag, FrameType, encodeFrame, tryDecodeFrame, type Frame } from '../wire/frame'
import { readRoute, readSourceRoute, writeSourceRoute } from '../wire/route-record'

/**
 * Malicious peers for the simulator and the attack tests: our own ring code,
 * with one thing changed in how their channels hand frames to it. A lookup
 * request they should forward is answered with a lie (`self`: "I own it";
 * `accomplice`: "the coalition's member closest after the key owns it") or
 * dropped (`drop`, replies in transit too). Lookups for keys they do own
 * are answered honestly.
 */
export type AttackKind = 'self' | 'accomplice' | 'drop'
export const ATTACK_KINDS: readonly AttackKind[] = ['self', 'accomplice', 'drop']

export interface AdversaryOptions {
  /** Fraction of peers that are malicious, in [0, 1). */
  fraction: number
  attack: AttackKind
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

  constructor(readonly attack: AttackKind) {}

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
      const key = frame.dest
      const predecessor = node.predecessor
      if (predecessor !== null && betweenRightInclusive(key, predecessor, self)) return false
      if (this.attack !== 'drop') this.lie(frame, record.ids, channel, self, key)
      return true
    } catch {
      return false
    }
  }

  /** The answer an owner would give, naming someone else, sent back along the request's path with that someone as its source. */
  private lie(request: Frame, path: number[], channel: Channel, self: number, key: number): void {
    const owner = this.nameFor(self, key)
    const found: RingMessage = { op: RingOp.Found, hops: Math.min(DEFAULT_TTL - request.ttl + 1, 255), predecessor: null, successors: [], path }
    const back = [...path].reverse()
    channel.send(encodeFrame({
      type: FrameType.Ring, ttl: DEFAULT_TTL, flags: FrameFlag.Exact | FrameFlag.Routed, source: owner, dest: request.source,
      conn: request.conn, seq: 0, payload: writeSourceRoute(back, encodeRingMessage(found)),
    }))
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
