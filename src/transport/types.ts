import type { Observable } from 'rxjs'

/**
 * One direct link to one remote peer. Frames are opaque bytes here; the
 * router gives them meaning. The same interface is implemented by the
 * in-memory transport (tests, simulation) and the WebRTC one (simple-peer).
 */
export interface Channel {
  /** The remote peer's numeric id. */
  readonly remoteId: number
  /** Every frame the remote sent, in order. Completes when the channel closes; never errors. */
  readonly frames$: Observable<Uint8Array>
  /**
   * Queue one frame (at most MAX_FRAME_BYTES). Returns false when the channel is
   * closed and the frame was dropped. Throws a coded error only on misuse
   * (oversize frame).
   */
  send(frame: Uint8Array): boolean
  /** Bytes queued but not yet handed to the link: the sender's backpressure signal. */
  readonly bufferedAmount: number
  /** Emits (and completes) once the queue has drained to or below the low-water mark; emits at once if already there. */
  drained(): Observable<void>
  readonly isOpen: boolean
  /**
   * Whether the link carries traffic right now, at once and on every change
   * (a WebRTC channel whose ICE is not connected, or whose remote has gone
   * quiet, is not); the router routes around an unhealthy channel.
   * Completes when the channel closes. Absent: always healthy (the memory
   * transport's links do not degrade).
   */
  readonly health$?: Observable<boolean>
  /**
   * True for a relayed link (src/links/): its frames go through other peers.
   * A direct channel to the same remote takes its place; it never takes a
   * direct channel's. Absent: a direct channel.
   */
  readonly relayed?: boolean
  /**
   * Present when the link can renew its network path in place (WebRTC: an
   * ICE restart; the connection, its encryption and the channel object live
   * on). Both ends must not offer at once: the end that was the handshake's
   * `connector` offers with `restartIce`, the other answers with
   * `acceptIceRestart` (its port replays the offer first). Each completes once
   * the link is connected again, and errors SIGNAL_FAILED when the restart fails.
   */
  readonly role?: 'connector' | 'accepter'
  restartIce?(port: SignalPort): Observable<void>
  acceptIceRestart?(port: SignalPort): Observable<void>
  /** Idempotent. frames$ completes on both sides. */
  close(): void
}

/**
 * A private, bidirectional pipe of signalling messages with one remote peer,
 * used only while a channel is being set up. At join it runs over the
 * signalling server's WebSocket; afterwards over routed overlay frames.
 * Messages are JSON-serialisable values.
 */
export interface SignalPort {
  readonly signals$: Observable<unknown>
  send(signal: unknown): void
  /**
   * For an open offer (connect with remoteId null): the peer that answered,
   * once the signalling knows it (null before). A transport whose handshake
   * cannot tell who answered (WebRTC) names its channel's remote from this.
   */
  remote?(): number | null
}

/**
 * Makes channels. Both calls are cold: subscribing starts the handshake,
 * the Observable emits the open Channel once and completes, errors with a
 * coded ExplorerError (`SIGNAL_FAILED`) when the handshake fails, and
 * unsubscribing before it emitted aborts the attempt and frees everything.
 */
export interface Transport {
  /**
   * Start a channel to remoteId as the initiator; signals travel over port.
   * With remoteId null the offer is open: whichever peer accepts it is the
   * remote (the overlay sends an offer inside a lookup, before it knows the
   * owner). The handshake fails with SIGNAL_FAILED if it opens and nobody
   * named that peer (`port.remote()`).
   */
  connect(remoteId: number | null, port: SignalPort): Observable<Channel>
  /** Answer a remote's attempt; port.signals$ replays the signal that announced it. */
  accept(remoteId: number, port: SignalPort): Observable<Channel>
  /**
   * Whether an open offer costs so little to make and to drop that the
   * overlay may send one with every finger lookup, although about one in ten
   * lands on an owner that already has a channel to us and is dropped (the
   * memory transport). Not for WebRTC: each offer is an RTCPeerConnection,
   * and Chrome caps a tab at about 500 of them over its lifetime.
   */
  readonly cheapOffers?: boolean
  /**
   * What a signal binds the channel to, for its originator to sign: the
   * part that decides who the far end is (WebRTC: an offer's or answer's SDP,
   * which carries the DTLS certificate fingerprint the handshake enforces;
   * memory: the offer token, which connects to whoever made it). Null for a
   * signal that binds nothing (an ICE candidate: at worst a wrong path, never
   * another peer). Required, so that a transport wrapper cannot drop it
   * unnoticed (its signals would then be bound differently from its peers').
   */
  bindingOf(signal: unknown): string | null
}
