import type { ClaimProver } from '../identity/claim-proof'
import { betweenRightInclusive } from '../ids'
import type { ChannelSet } from '../router/channel-set'
import type { LocalFrame, Router } from '../router/router'
import { FrameFlag, FrameType } from '../wire/frame'
import { RingOp, encodeRingMessage, type RingMessage } from './messages'
import type { OverlaySignalling } from './overlay-signalling'
import type { RingState } from './state'

export interface LookupAnswersComponents {
  id: number
  state: RingState
  router: Router
  channels: ChannelSet
  signalling: OverlaySignalling
  prover: ClaimProver
}

type FindSuccessor = Extract<RingMessage, { op: RingOp.FindSuccessor }>

/**
 * The answering side of lookups (src/ring/lookup.ts). A request that
 * reached us for its key is answered with our signed claim: the key, us,
 * our predecessor, the asker's nonce. A request that reached us for a
 * waypoint before its key is passed on, marked Final, to the closest peer
 * we route to at or after the key (on a waypoint 2^i before the key, that is
 * our finger of row i: the owner, or a peer just after it, which steps the
 * request back to the owner along predecessors).
 */
export class LookupAnswers {
  constructor(private readonly components: LookupAnswersComponents) {}

  onFindSuccessor(frame: LocalFrame, message: FindSuccessor): void {
    if (frame.dest !== message.key && !this.owns(message.key, frame.dest)) this.passOn(frame, message.key)
    else this.answer(frame, message)
  }

  /** Whether the key is ours too, given that its waypoint `dest` reached us as its owner. */
  private owns(key: number, dest: number): boolean {
    const { id, state } = this.components
    if (state.view().alone || key === id || (dest !== id && betweenRightInclusive(key, dest, id))) return true
    return state.predecessor !== null && betweenRightInclusive(key, state.predecessor, id)
  }

  private passOn(frame: LocalFrame, key: number): void {
    const next = this.components.channels.routing.from(key, 1)[0]
    // Final|Back: the receiver owns the key or steps it back, and hints nobody (we are not its predecessor).
    if (next !== undefined) this.components.router.forwardDelivered(frame, next, key, FrameFlag.Final | FrameFlag.Back)
  }

  /** Our claim, signed, back along the path the request came by; with our answer to its channel offer if it carried one. */
  private answer(frame: LocalFrame, message: FindSuccessor): void {
    const { id, state, router, signalling, prover } = this.components
    const claim = { key: message.key, owner: id, predecessor: state.predecessor, nonce: message.nonce }
    const path = frame.path ?? []
    const hops = Math.min(frame.hops, 255)
    prover.prove$(claim).subscribe((proof) => {
      // A Found that carries our answer goes back along the path: the channel it opens is not the asker's until it read it.
      const found = (answer: Uint8Array | undefined) =>
        router.reply(frame, {
          type: FrameType.Ring, conn: frame.conn, seq: 0,
          payload: encodeRingMessage({ op: RingOp.Found, hops, owner: id, predecessor: claim.predecessor, proof, path, answer }),
        }, answer === undefined)
      if (message.offer === undefined) found(undefined)
      else signalling.acceptCarried(frame.source, frame.path === null ? null : [...frame.path].reverse(), message.offer, found)
    })
  }
}
