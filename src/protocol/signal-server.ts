/**
 * The signalling server's wire contract (WebSocket at `/ws`, one JSON object
 * per text message), defined once for both ends: the explorer
 * (src/explorer/server-link.ts) and the server (signal-server/) import it.
 * docs/signal-server.md describes it in prose.
 */

/** Ids on the wire: 12 lowercase hex characters (string order is numeric order). */
export const ID_PATTERN = '^[0-9a-f]{12}$'

export const ERROR_CODES = [
  'BAD_MESSAGE', 'BAD_ID', 'BAD_PROOF', 'ID_TAKEN', 'NOT_JOINED', 'UNKNOWN_PEER', 'RATE_LIMITED', 'TOO_MANY_PEERS',
  // A clustered server (Redis/Valkey) cannot reach its shared registry: joins and signals to other instances wait for it.
  'REGISTRY_UNAVAILABLE',
] as const
export type SignalErrorCode = (typeof ERROR_CODES)[number]

/**
 * Every join refusal: the server sends a fresh challenge after each, and the
 * explorer backs off and tries again (through its next server URL if it has several).
 */
export const JOIN_REFUSALS: ReadonlySet<string> = new Set<SignalErrorCode>(['BAD_ID', 'BAD_PROOF', 'ID_TAKEN', 'RATE_LIMITED', 'TOO_MANY_PEERS', 'REGISTRY_UNAVAILABLE'])

/** Raw bytes behind the base64url fields of a join. */
export const NONCE_BYTES = 32
export const KEY_BYTES = 32
export const SIGNATURE_BYTES = 64

/** What a join's `sig` signs (UTF-8): proves the key for this connection's latest challenge, and binds the id. */
export const joinProofText = (nonce: string, id: string): string => `webrtc-explorer join ${nonce} ${id}`

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
  /** base64url of the raw 32-byte Ed25519 public key; `id` must be derived from it. */
  key: string
  /** base64url of the Ed25519 signature of joinProofText(latest nonce, id). */
  sig: string
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

/** First on every connection, and again after each leave or refused join. */
export interface ChallengeMessage {
  type: 'challenge'
  /** base64url of 32 random bytes. */
  nonce: string
}

/** An RTCIceServer as it travels: STUN, or TURN with short-lived credentials (see docs/nat.md). */
export interface IceServer {
  urls: string | string[]
  username?: string
  credential?: string
}

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
  /** STUN/TURN servers for this peer's connections (an app's own iceServers option wins). */
  iceServers: IceServer[]
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

/** Fresh ICE servers before the TURN credentials handed out earlier expire (at half their lifetime). */
export interface IceServersMessage {
  type: 'ice-servers'
  iceServers: IceServer[]
}

export interface ErrorMessage {
  type: 'error'
  code: SignalErrorCode
  message: string
}

export type ServerMessage = ChallengeMessage | JoinedReply | SignalDelivery | HintMessage | IceServersMessage | ErrorMessage
