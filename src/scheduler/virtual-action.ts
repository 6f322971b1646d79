import { Subscription, type SchedulerAction } from 'rxjs'
import type { TimerEntry } from './timer-queue'

/** What an action needs from its scheduler: put itself on the queue, take itself off. */
export interface ActionHost {
  enqueue(action: VirtualAction<any>, delay: number): TimerEntry<VirtualAction<any>>
  dequeue(entry: TimerEntry<VirtualAction<any>>): void
}

/**
 * Behaves like rxjs's AsyncAction, which rxjs's own operators rely on:
 * - `schedule(state, delay)` replaces the state and (re)arms the one timer of
 *   this action, whether called from inside its work (periodic timers) or from
 *   outside (a pending timer moved to a new time);
 * - running does not close the action (it may be rescheduled later);
 * - `unsubscribe()` cancels the pending run and closes it for good;
 * - if the work throws, the action is unsubscribed and the error propagates.
 */
export class VirtualAction<T> extends Subscription implements SchedulerAction<T> {
  /** The pending queue entry, or null when not scheduled. */
  entry: TimerEntry<VirtualAction<any>> | null = null
  private state: T | undefined

  constructor(
    private host: ActionHost,
    private work: (this: SchedulerAction<T>, state?: T) => void,
  ) {
    super()
  }

  schedule(state?: T, delay = 0): Subscription {
    if (this.closed) return this
    this.state = state
    if (this.entry !== null) this.host.dequeue(this.entry)
    this.entry = this.host.enqueue(this, delay)
    return this
  }

  /** Called by the scheduler once this action's entry has been popped (and `entry` cleared). */
  execute(): void {
    try {
      this.work(this.state)
    } catch (error) {
      this.unsubscribe()
      throw error
    }
  }

  override unsubscribe(): void {
    if (this.closed) return
    if (this.entry !== null) {
      this.host.dequeue(this.entry)
      this.entry = null
    }
    this.state = undefined
    this.work = noop
    super.unsubscribe()
  }
}

const noop = (): void => {}
