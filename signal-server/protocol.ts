/** Wire-level constants and frame builders of the signalling contract (see docs/signal-server.md). */

export const ERROR_CODES = ['BAD_MESSAGE', 'BAD_ID', 'ID_TAKEN', 'NOT_JOINED', 'UNKNOWN_PEER', 'RATE_LIMITED'] as const
export type SignalErrorCode = (typeof ERROR_CODES)[number]

/** WebSocket close codes the server uses. */
export const CLOSE_GOING_AWAY = 1001
export const CLOSE_POLICY_VIOLATION = 1008
export const CLOSE_TOO_BIG = 1009

export const errorFrame = (code: SignalErrorCode, message: string): string =>
  JSON.stringify({ type: 'error', code, message })

export const RATE_LIMITED_FRAME = errorFrame('RATE_LIMITED', 'too many messages; slow down')

/**
 * A relayed signal is `SIGNAL_HEAD + from + SIGNAL_MIDDLE + JSON(data) + '}'`;
 * `from` is the sender's joined id (validated hex, so no escaping is needed).
 */
export const SIGNAL_HEAD = '{"type":"signal","from":"'
export const SIGNAL_MIDDLE = '","data":'

export interface JoinedReply {
  type: 'joined'
  id: string
  successors: string[]
  /** Of the registered peers after the joiner, those already in a ring (they report), closest first. */
  ring: string[]
  predecessor: string | null
  peers: number
}
