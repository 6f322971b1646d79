import type { Observable } from 'rxjs'

/** A routed, ordered, message-oriented, end-to-end encrypted connection to one peer. */
export interface ExplorerSocket {
  /** The remote peer's id, 12 hex: proven by the handshake (its key gives this id). */
  readonly remoteId: string
  /** The remote's Ed25519 identity key (32 bytes, a copy), proven by the handshake. */
  readonly remoteKey: Uint8Array
  /**
   * One Uint8Array per message the remote sent, in order (possibly a view
   * into a larger buffer: mind byteOffset). Completes when
   * either side closes; errors (coded) when the connection breaks:
   * SOCKET_RESET (the remote is gone or forgot us), MESSAGE_TOO_BIG,
   * AUTH_FAILED (a frame was altered or forged on the way: it was not delivered).
   */
  readonly data$: Observable<Uint8Array>
  /** Queues one message (strings as UTF-8). Returns false when the socket is closed. */
  send(data: Uint8Array | string): boolean
  /** Bytes (frames, headers included) queued here and not yet handed to the overlay: the remote's window is full. */
  readonly bufferedAmount: number
  /** Sends what is queued, then ends the stream: the remote's data$ completes after the last message. Idempotent. */
  close(): void
}
