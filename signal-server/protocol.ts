/** Frame builders of the signalling contract; the message types themselves live in src/protocol/signal-server.ts (shared with the client). */
import type { HintMessage, SignalErrorCode } from '../src/protocol/signal-server'

export {
  CLOSE_GOING_AWAY, CLOSE_POLICY_VIOLATION, CLOSE_TOO_BIG, ERROR_CODES, MAX_REPORTED_FINGERS, MAX_REPORTED_SUCCESSORS,
  type JoinedReply, type SignalErrorCode,
} from '../src/protocol/signal-server'

export const errorFrame = (code: SignalErrorCode, message: string): string =>
  JSON.stringify({ type: 'error', code, message })

export const RATE_LIMITED_FRAME = errorFrame('RATE_LIMITED', 'too many messages; slow down')

export const hintFrame = (successor: string): string => JSON.stringify({ type: 'hint', successor } satisfies HintMessage)

/**
 * A relayed signal is `SIGNAL_HEAD + from + SIGNAL_MIDDLE + JSON(data) + '}'`;
 * `from` is the sender's joined id (validated hex, so no escaping is needed).
 */
export const SIGNAL_HEAD = '{"type":"signal","from":"'
export const SIGNAL_MIDDLE = '","data":'
