import type { Observable, SchedulerLike } from 'rxjs'
import { ExplorerError } from '../errors'
import { formatId } from '../ids'
import type { LocalFrame } from '../router/router'
import { DEFAULT_TTL, FrameFlag, FrameType, encodeFrame } from '../wire/frame'
import type { ResolvedSocketOptions } from './options'
import { MessageOutlet } from './outlet'
import { Receiver } from './receiver'
import { Sender, type SenderStats } from './sender'
import { ACCEPTER_BIT, RefuseReason, decodeU32, encodeRefuse, encodeU32 } from './wire'

/** A routed, ordered, message-oriented connection to one peer. */
export interface ExplorerSocket {
  /** The remote peer's id, 12 hex. */
  readonly remoteId: string
  /**
   * One Uint8Array per message the remote sent, in order (possibly a view
   * into a larger buffer: mind byteOffset). Completes when
   * either side closes; errors (coded) when the connection breaks:
   * SOCKET_RESET (the remote is gone or forgot us), MESSAGE_TOO_BIG.
   */
  readonly data$: Observable<Uint8Array>
  /** Queues one message (strings as UTF-8). Returns false when the socket is closed. */
  send(data: Uint8Array | string): boolean
  /** Bytes (frames, headers included) queued here and not yet handed to the overlay: the remote's window is full. */
  readonly bufferedAmount: number
  /** Sends what is queued, then ends the stream: the remote's data$ completes after the last message. Idempotent. */
  close(): void
}

/** What a socket needs from its layer. */
export interface SocketHost {
  readonly self: number
  readonly scheduler: SchedulerLike
  readonly options: ResolvedSocketOptions
  send(frame: { type: FrameType; dest: number; flags: number; conn: number; seq: number; payload: Uint8Array }): boolean
  /** Routes a frame encoded by the socket (kept for retransmission). */
  sendEncoded(frame: Uint8Array): boolean
  congested(resume: () => void): boolean
  /** The socket is done: forget it. */
  release(socket: RoutedSocket): void
}

export type SocketState = 'opening' | 'open' | 'closing' | 'closed'

const encoder = new TextEncoder()

/**
 * One socket: a Sender and a Receiver over routed frames, plus the
 * open/close life cycle. `conn` is the dialler's 31-bit number; the frames we
 * send carry it with our role bit, the frames we receive with the other.
 */
export class RoutedSocket implements ExplorerSocket {
  readonly remoteId: string
  /** The conn value of frames addressed to this socket. */
  readonly inConn: number
  state: SocketState
  /** Set by the layer while dialling. */
  onEstablished: (() => void) | null = null
  onRefused: ((error: ExplorerError) => void) | null = null
  private readonly outConn: number
  private readonly outlet: MessageOutlet
  private readonly receiver: Receiver
  private sender: Sender | null = null

  constructor(
    private readonly host: SocketHost,
    readonly remote: number,
    conn: number,
    readonly dialler: boolean,
    /** The remote's receive window, known at once by an accepter (from the Open). */
    remoteWindow: number | null,
  ) {
    this.remoteId = formatId(remote)
    this.inConn = dialler ? (conn | ACCEPTER_BIT) >>> 0 : conn
    this.outConn = dialler ? conn : (conn | ACCEPTER_BIT) >>> 0
    this.state = remoteWindow === null ? 'opening' : 'open'
    this.outlet = new MessageOutlet(() => this.receiver.windowOpened())
    this.receiver = new Receiver(
      {
        ack: (ack, window) => this.emit(FrameType.Ack, 0, ack, encodeU32(window)),
        message: (message, frameBytes) => this.outlet.push(message, frameBytes),
        end: () => this.finish(null),
        tooBig: () => {
          this.emit(FrameType.Refuse, 0, 0, encodeRefuse(RefuseReason.TooBig, host.self))
          this.finish(new ExplorerError('MESSAGE_TOO_BIG', `a message from ${this.remoteId} exceeded ${host.options.maxMessageBytes} bytes`))
        },
        unread: () => this.outlet.heldBytes,
      },
      host.scheduler,
      host.options,
    )
    if (remoteWindow !== null) this.startSending(remoteWindow)
  }

  get data$(): Observable<Uint8Array> {
    return this.outlet.data$
  }

  get bufferedAmount(): number {
    return this.sender?.bufferedAmount ?? 0
  }

  /** Diagnostics, not a stable API: what our sending half did (retransmissions, timeouts, RTO); null before the remote accepted. */
  get stats(): SenderStats | null {
    return this.sender?.stats ?? null
  }

  /** Timers this socket has armed (retransmission, delayed ack): 0 once it is closed. */
  get timersArmed(): number {
    return (this.sender?.timerArmed ? 1 : 0) + (this.receiver.timerArmed ? 1 : 0)
  }

  send(data: Uint8Array | string): boolean {
    let bytes: Uint8Array
    if (typeof data === 'string') bytes = encoder.encode(data)
    // No copy here: the sender encodes the frames at once (the caller may reuse its buffer).
    else if (data instanceof Uint8Array) bytes = data
    else throw new ExplorerError('BAD_MESSAGE', 'send() takes a Uint8Array or a string')
    if (bytes.byteLength > this.host.options.maxMessageBytes) {
      throw new ExplorerError('MESSAGE_TOO_BIG', `a message of ${bytes.byteLength} bytes exceeds maxMessageBytes (${this.host.options.maxMessageBytes})`)
    }
    if (this.state !== 'open' || this.sender === null) return false
    this.sender.write(bytes)
    return true
  }

  close(): void {
    if (this.state !== 'open') return
    this.state = 'closing'
    this.outlet.complete()
    this.sender!.end()
  }

  /** The dialler's Open was accepted. */
  accepted(remoteWindow: number): void {
    if (this.state !== 'opening') return
    this.state = 'open'
    this.startSending(remoteWindow)
    this.onEstablished?.()
  }

  onFrame(frame: LocalFrame): void {
    switch (frame.type) {
      case FrameType.Accept: {
        const window = decodeU32(frame.payload)
        if (window !== null) this.accepted(window)
        return
      }
      case FrameType.Data:
      case FrameType.Close:
        return this.receiver.receive(frame.type, frame.flags, frame.seq, frame.payload)
      case FrameType.Ack: {
        const window = decodeU32(frame.payload)
        if (window !== null) this.sender?.onAck(frame.seq, window)
        return
      }
    }
  }

  onRefuse(reason: RefuseReason): void {
    if (this.state === 'opening') return this.refused(refusal(reason, this.remoteId))
    // While closing, a reset means the remote already forgot us: nothing left to finish.
    this.finish(this.state === 'closing' ? null : refusal(reason, this.remoteId))
  }

  /** The dial fails with `error`. */
  refused(error: ExplorerError): void {
    if (this.state !== 'opening') return
    this.state = 'closed'
    this.release()
    this.onRefused?.(error)
  }

  /** The dial was abandoned before it was accepted: tell the remote in case its Accept is on the way. */
  abort(): void {
    if (this.state !== 'opening') return
    this.state = 'closed'
    this.emit(FrameType.Close, 0, 0, EMPTY)
    this.release()
  }

  /** The layer shuts down and could not wait for a graceful close: reset the remote. */
  reset(): void {
    if (this.state === 'closed') return
    this.emit(FrameType.Refuse, 0, 0, encodeRefuse(RefuseReason.Reset, this.host.self))
    this.finish(null)
  }

  private startSending(remoteWindow: number): void {
    this.sender = new Sender(
      {
        encode: (type, flags, seq, payload) =>
          encodeFrame({ type, ttl: DEFAULT_TTL, flags: flags | FrameFlag.Exact, source: this.host.self, dest: this.remote, conn: this.outConn, seq, payload }),
        emit: (frame) => this.host.sendEncoded(frame),
        congested: (resume) => this.host.congested(resume),
        gaveUp: () => this.finish(this.state === 'closing' ? null : new ExplorerError('SOCKET_RESET', `${this.remoteId} stopped answering`)),
        finished: () => this.finish(null),
      },
      this.host.scheduler,
      this.host.options,
      remoteWindow,
    )
  }

  /** Ends the socket for good: data$ completes (or errors with `error`). */
  private finish(error: ExplorerError | null): void {
    if (this.state === 'closed') return
    this.state = 'closed'
    this.sender?.stop()
    if (error) this.outlet.error(error)
    else this.outlet.complete()
    this.release()
  }

  private release(): void {
    this.receiver.stop()
    this.host.release(this)
  }

  private emit(type: FrameType, flags: number, seq: number, payload: Uint8Array): void {
    this.host.send({ type, dest: this.remote, flags: flags | FrameFlag.Exact, conn: this.outConn, seq, payload })
  }
}

function refusal(reason: RefuseReason, remoteId: string): ExplorerError {
  switch (reason) {
    case RefuseReason.NoSuchPeer:
      return new ExplorerError('PEER_NOT_FOUND', `no peer has the id ${remoteId}`)
    case RefuseReason.Busy:
      return new ExplorerError('DIAL_REFUSED', `${remoteId} has too many sockets open`)
    case RefuseReason.NotAccepting:
      return new ExplorerError('DIAL_REFUSED', `${remoteId} does not accept sockets (nobody subscribes to its incoming$)`)
    case RefuseReason.TooBig:
      return new ExplorerError('MESSAGE_TOO_BIG', `${remoteId} refused a message over its maxMessageBytes`)
    case RefuseReason.Reset:
      return new ExplorerError('SOCKET_RESET', `${remoteId} reset the connection`)
  }
}

const EMPTY = new Uint8Array(0)
