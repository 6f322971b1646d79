import type { FingerTable } from './finger-table'
import type { FixFingers } from './fix-fingers'
import type { FixFingersBackoff } from './fix-fingers-backoff'
import type { RingNode } from './node'
import type { RingRequests } from './requests'
import type { RingPositionCheck } from './self-check'
import type { SelfCheckSchedule } from './self-check-schedule'
import type { Stabilizer } from './stabilize'
import type { RingState } from './state'

/** The parts of a RingNode that only its own duties touch: writable state, the back-off policies. */
export interface RingInternals {
  state: RingState
  fingerTable: FingerTable
  requests: RingRequests
  stabilizer: Stabilizer
  fixFingers: FixFingers
  selfCheck: RingPositionCheck
  fingerBackoff: FixFingersBackoff
  selfCheckSchedule: SelfCheckSchedule
}

const internals = new WeakMap<RingNode, RingInternals>()

/** Called once by each RingNode's constructor. */
export function registerRingInternals(node: RingNode, parts: RingInternals): void {
  internals.set(node, parts)
}

/**
 * For tests and benchmarks only, never for applications (not exported by
 * the package): a node's internals, e.g. to put its state where a test needs it.
 */
export function ringInternals(node: RingNode): RingInternals {
  const parts = internals.get(node)
  if (parts === undefined) throw new Error('not a RingNode')
  return parts
}
