/**
 * Every failure the library reports carries a stable `code`, so callers can
 * branch on it without parsing messages. Misuse throws at once; asynchronous
 * failures arrive on an Observable's error channel.
 */
export type ErrorCode =
  | 'BAD_ID'
  | 'BAD_OPTIONS'
  | 'BAD_FRAME'
  | 'NOT_LISTENING'
  | 'PEER_NOT_FOUND'
  | 'DIAL_TIMEOUT'
  | 'LOOKUP_TIMEOUT'
  | 'CHANNEL_CLOSED'
  | 'SOCKET_CLOSED'
  | 'SIGNAL_FAILED'
  | 'JOIN_FAILED'
  | 'CLOSED'
  | 'DIAL_REFUSED'
  | 'TOO_MANY_SOCKETS'
  | 'MESSAGE_TOO_BIG'
  | 'SOCKET_RESET'
  | 'BAD_MESSAGE'
  | 'BAD_IDENTITY'
  | 'AUTH_FAILED'
  | 'NONCE_REUSED'

export class ExplorerError extends Error {
  constructor(
    readonly code: ErrorCode,
    message: string,
  ) {
    super(message)
    this.name = 'ExplorerError'
  }
}

export const isExplorerError = (e: unknown, code?: ErrorCode): e is ExplorerError =>
  e instanceof ExplorerError && (code === undefined || e.code === code)
