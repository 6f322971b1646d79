import { Internals } from '../internals'
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

const internals = new Internals<RingNode, RingInternals>('a RingNode')

/** Called once by each RingNode's constructor. */
export const registerRingInternals = (node: RingNode, parts: RingInternals): void => internals.register(node, parts)

/**
 * For tests and benchmarks only, never for applications (not exported by
 * the package): a node's internals, e.g. to put its state where a test needs it.
 */
export const ringInternals = (node: RingNode): RingInternals => internals.of(node)
