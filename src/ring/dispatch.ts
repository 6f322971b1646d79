import { Observable, SchedulerLike, Subject } from 'rxjs'
import type { ChannelSet } from '../router/channel-set'
import type { LocalFrame, Router } from '../router/router'
import type { Join } from './join'
import type { LookupAnswers } from './lookup-answers'
import { RingMessage, RingOp, decodeRingMessage } from './messages'
import type { RingRequests } from './requests'
import type { Stabilizer } from './stabilize'
import type { RingState } from './state'

/** A neighbour's Hello: whether it is in the ring (and so may be routed through). */
export interface Hello {
  peer: number
  joined: boolean
}

export interface DispatchComponents {
  state: RingState
  router: Router
  channels: ChannelSet
  requests: RingRequests
  answers: LookupAnswers
  stabilizer: Stabilizer
  join: Join
  scheduler: SchedulerLike
}

/**
 * Every ring message that arrives goes through here once: decoded, checked
 * (one-hop messages must come from the neighbour that wrote them), and handed
 * to the duty it belongs to. GetState is answered here, lookups by LookupAnswers.
 */
export class RingDispatch {
  private readonly hellos = new Subject<Hello>()
  /** Every Hello a neighbour sends us, after the ring took note of it. */
  readonly hellos$: Observable<Hello> = this.hellos.asObservable()

  constructor(private readonly components: DispatchComponents) {}

  onFrame(frame: LocalFrame): void {
    const { state, router, channels, requests, answers, stabilizer, join, scheduler } = this.components
    let message: RingMessage
    try {
      message = decodeRingMessage(frame.payload)
    } catch {
      // Counted, and held against the neighbour if it wrote the frame (src/router/router.ts).
      router.rejectPayload(frame)
      return
    }
    switch (message.op) {
      case RingOp.FindSuccessor:
        if (state.joined && !frame.unreachable) answers.onFindSuccessor(frame, message)
        return
      case RingOp.Found:
      case RingOp.State:
        requests.resolve({ frame, message })
        return
      case RingOp.GetState:
        if (!state.joined || frame.from !== frame.source) return
        if (frame.source === state.predecessor) state.predecessorHeardAt = scheduler.now()
        requests.send(frame.source, { op: RingOp.State, predecessor: state.predecessor, successors: state.successors }, frame.conn)
        return
      case RingOp.Notify:
        if (frame.from === frame.source) stabilizer.onNotify(frame.source)
        return
      case RingOp.Hint:
        if (frame.from === frame.source) stabilizer.onHint(frame.source, message.candidate)
        return
      case RingOp.Hello:
        if (frame.from !== frame.source) return
        channels.setRoutable(frame.source, message.joined)
        if (message.joined) join.onJoinedHello(frame.source)
        if (this.hellos.observed) this.hellos.next({ peer: frame.source, joined: message.joined })
        return
    }
  }

  close(): void {
    this.hellos.complete()
  }
}
