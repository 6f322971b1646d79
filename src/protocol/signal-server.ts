/**
 * The signalling server's wire contract (WebSocket at `/ws`, one JSON object
 * per text message), defined once for both ends: the explorer
 * (src/explorer/server-link.ts) and the server (signal-server/) import it.
 * docs/signal-server.md describes it in prose.
 */

/** Ids on the wire: 12 lowercase hex characters (string order is numeric order). */
export const ID_PATTERN = '^[0-9a-f]{12}$'

export const ERROR_CODES = [
  'BAD_MESSAGE', 'BAD_ID', 'ID_TAKEN', 'NOT_JOINED', 'UNKNOWN_PEER', 'RATE_LIMITED',
  // A clustered server (Redis/Valkey) cannot reach its shared registry: joins and signals to other instances wait for it.
  'REGISTRY_UNAVAILABLE',
] as const
export type SignalErrorCode = (typeof ERROR_CODES)[number]

/** Join answers that end the attempt at once (the explorer backs off and tries again, through its next server URL if it has several). */
export const JOIN_REFUSALS: ReadonlySet<string> = new Set<SignalErrorCode>(['ID_TAKEN', 'BAD_ID', 'REGISTRY_UNAVAILABLE'])

/** WebSocket close codes the server uses. */
export const CLOSE_GOING_AWAY = 1001
export const CLOSE_POLICY_VIOLATION = 1008
export const CLOSE_TOO_BIG = 1009

/** Bounds on what a peer may report about its ring state (the server's schema enforces them). */
export const MAX_REPORTED_SUCCESSORS = 32
export const MAX_REPORTED_FINGERS = 48

// ---- client → server -------------------------------------------------------

export interface JoinMessage {
  type: 'join'
  id: string
}

export interface SignalMessage {
  type: 'signal'
  to: string
  data: unknown
}

export interface LeaveMessage {
  type: 'leave'
}

/** A peer's ring state, published for GET /ring and the dashboard (an extension of the core contract). */
export interface RingReport {
  successors: string[]
  predecessor: string | null
  fingers: Array<{ row: number; id: string }>
}

export interface ReportMessage extends RingReport {
  type: 'report'
}

export type ClientMessage = JoinMessage | SignalMessage | LeaveMessage | ReportMessage

// ---- server → client -------------------------------------------------------

/** The server's answer to a join: bootstrap candidates around the joiner's id. */
export interface JoinedReply {
  type: 'joined'
  id: string
  /** Joined ids clockwise after the joiner's, closest first (some may still be joining). */
  successors: string[]
  /** Of those, the ones already in a ring (they report), closest first: the best ways in. */
  ring: string[]
  predecessor: string | null
  /** Joined peers in the registry. */
  peers: number
}

/** A relayed signal; `from` is stamped by the server from the sender's joined id. */
export interface SignalDelivery {
  type: 'signal'
  from: string
  data: unknown
}

/** The registry knows a closer successor than the one this peer reported. */
export interface HintMessage {
  type: 'hint'
  successor: string
}

export interface ErrorMessage {
  type: 'error'
  code: SignalErrorCode
  message: string
}

export type ServerMessage = JoinedReply | SignalDelivery | HintMessage | ErrorMessage
