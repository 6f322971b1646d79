import { Subscription, filter, switchMap, tap } from 'rxjs'
import type { Diagnostics } from '../diagnostics'
import { RING_SIZE, betweenOpen } from '../ids'
import type { ChannelSet } from '../router/channel-set'
import { RingOp } from './messages'
import type { RingRequests } from './requests'
import type { SelfCheckSchedule } from './self-check-schedule'
import type { RingState } from './state'

export interface SelfCheckComponents {
  id: number
  state: RingState
  channels: ChannelSet
  requests: RingRequests
  random: () => number
  diagnostics: Diagnostics
  /** Work that lives as long as the node. */
  subscriptions: Subscription
}

export interface SelfCheckInit {
  /** When to check, and which key (src/ring/self-check-schedule.ts). */
  schedule: SelfCheckSchedule
}

/**
 * The ring-position check: two repairs plain stabilize lacks, both by asking
 * the rest of the ring (a lookup that starts at a random neighbour other than
 * our successor):
 * - who owns our own id: if not us, we are an orphan (no peer points at us,
 *   the ring split into interleaved chains); notifying that owner lets its
 *   predecessor find us;
 * - who owns the key right after us, i.e. our true successor: when a join
 *   picked a far successor, stabilize walks back one peer a round, while the
 *   lookup's step-back walk does it in one go.
 * A closer answer than our successor is adopted; the owner is notified.
 */
export class RingPositionCheck {
  constructor(
    private readonly components: SelfCheckComponents,
    private readonly init: SelfCheckInit,
  ) {}

  /** One stabilize round: checks when the schedule says so. */
  onRound(): void {
    const { id, state } = this.components
    const key = this.init.schedule.round(state.predecessor !== null)
    if (key !== null) this.check(key === 'own' ? id : (id + 1) % RING_SIZE)
  }

  private check(key: number): void {
    const { id, state, channels, requests, random, diagnostics } = this.components
    const { schedule } = this.init
    const neighbours = channels.routing.list().filter((peer) => peer !== state.successors[0])
    if (neighbours.length === 0) return
    const through = neighbours[Math.floor(random() * neighbours.length)]
    const check$ = requests.lookup$(key, { through }).pipe(
      tap({
        next: ({ owner }) => (owner === (key === id ? id : state.successors[0]) ? schedule.confirmed() : schedule.reset()),
        error: () => schedule.reset(),
      }),
      filter(({ owner }) => owner !== id),
      switchMap(({ owner, route }) => requests.reach$(owner, route)),
    )
    this.components.subscriptions.add(
      check$.subscribe({
        next: (owner) => {
          if (state.successors.length === 0 || betweenOpen(owner, id, state.successors[0])) state.successors = state.successorList(owner, state.successors)
          // We sit between the owner and its predecessor: telling it lets its predecessor find us.
          requests.send(owner, { op: RingOp.Notify })
        },
        error: (error) => diagnostics.report('RING_CHECK_FAILED', error, { peer: through }),
      }),
    )
  }
}
