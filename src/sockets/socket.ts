import type { Observable, SchedulerLike, Subscription } from 'rxjs'
import type { ExplorerSocket } from './explorer-socket'
import { ExplorerError } from '../errors'
import { formatId } from '../ids'
import { counterFromWireSeq, type SecureInitiator, type SecureResponder, type SecureSession } from '../noise'
import type { LocalFrame } from '../router/router'
import { DEFAULT_TTL, FrameFlag, FrameType, HEADER_BYTES, encodeFrame } from '../wire/frame'
import { authFailure } from './handshakes'
import { HeldFrames } from './held-frames'
import type { ResolvedSocketOptions } from './options'
import { MessageOutlet } from './outlet'
import { Receiver } from './receiver'
import { SocketSeal } from './seal'
import { Sender, type SenderStats } from './sender'
import { ACCEPTER_BIT, REFUSE_BYTES, RefuseReason, decodeHello, encodeHello, encodeRefuse, encodeU32, readU32, refusalError } from './wire'

/** What a socket needs from its layer. */
export interface SocketHost {
  readonly self: number
  readonly scheduler: SchedulerLike
  readonly options: ResolvedSocketOptions
  send(frame: { type: FrameType; dest: number; flags: number; conn: number; seq: number; payload: Uint8Array }): boolean
  /** Routes a frame encoded by the socket (kept for retransmission). */
  sendEncoded(frame: Uint8Array): boolean
  congested(resume: () => void): boolean
  /** Counts an asynchronous handshake step until it settles. */
  track<T>(promise: Promise<T>): Promise<T>
  /** An accepted socket proved its remote: the layer admits it (null) or says why not. */
  admit(socket: RoutedSocket): RefuseReason | null
  /** ...and, admitted and open, hands it to the app. */
  established(socket: RoutedSocket): void
  /** The socket is done: forget it. */
  release(socket: RoutedSocket): void
}

export type SocketState = 'opening' | 'open' | 'closing' | 'closed'

const encoder = new TextEncoder()

/**
 * One socket: a Noise handshake, then a Sender and a Receiver over sealed
 * routed frames, plus the open/close life cycle. `conn` is the dialler's
 * 31-bit number; the frames we send carry it with our role bit, the frames
 * we receive with the other.
 *
 * Dialler: Open (message 1) → Accept (message 2) proves the remote → open;
 * message 3 is the first frame of its stream. Accepter: Open → Accept, then
 * half-open until message 3 proves the dialler (frames that overtook it are
 * held); only then is it open and handed to the app.
 */
export class RoutedSocket implements ExplorerSocket {
  readonly remoteId: string
  /** The conn value of frames addressed to this socket. */
  readonly inConn: number
  state: SocketState = 'opening'
  /** Set by the layer while dialling. */
  onEstablished: (() => void) | null = null
  onRefused: ((error: ExplorerError) => void) | null = null
  private readonly outConn: number
  private readonly outlet: MessageOutlet
  private readonly receiver: Receiver
  private sender: Sender | null = null
  private seal: SocketSeal | null = null
  /** A handshake step is running (its repeats are ignored meanwhile). */
  private completing = false
  /** Dialler: the accepter has sent an authentic frame, so it holds the session too. */
  private confirmed = false
  private lastAckNumber = 0
  /** The remote has sent an authentic stream frame. */
  private spoke = false
  /** Accepter: frames that overtook message 3, until it is verified. */
  private held: HeldFrames | null = null
  /** Accepter: its Accept (our window, Noise message 2), the same bytes for every repeated Open. */
  private readonly acceptPayload: Uint8Array | null = null
  /** Accepter: the handshake deadline, then the idle timeout (a remote that never speaks). */
  private timer: Subscription | null = null

  constructor(
    private readonly host: SocketHost,
    readonly remote: number,
    conn: number,
    readonly dialler: boolean,
    /** Accepter: its handshake, with the remote's window from the Open. A dialler's comes with dialWith(). */
    private handshake: SecureInitiator | SecureResponder | null,
    private readonly remoteWindow = 0,
  ) {
    this.remoteId = formatId(remote)
    this.inConn = dialler ? (conn | ACCEPTER_BIT) >>> 0 : conn
    this.outConn = dialler ? conn : (conn | ACCEPTER_BIT) >>> 0
    this.outlet = new MessageOutlet(() => this.receiver.windowOpened())
    this.receiver = new Receiver(
      {
        ack: (ack, window) => this.emit(FrameType.Ack, 0, ack, this.seal!.sealControl(FrameType.Ack, ack, encodeU32(window))),
        message: (message, frameBytes) => this.outlet.push(message, frameBytes),
        end: () => this.finish(null),
        tooBig: () => this.fail(RefuseReason.TooBig, new ExplorerError('MESSAGE_TOO_BIG', `a message from ${this.remoteId} exceeded ${host.options.maxMessageBytes} bytes`)),
        unread: () => this.outlet.heldBytes,
      },
      host.scheduler,
      host.options,
      // The dialler's seq 0 is its handshake message: the accepter's stream of messages starts after it.
      dialler ? 0 : 1,
    )
    if (!dialler) {
      this.acceptPayload = encodeHello(this.receiver.capacity, (handshake as SecureResponder).message2)
      this.held = new HeldFrames(this.receiver.capacity)
      this.arm(host.options.handshakeTimeoutMs, () => this.finish(null))
    }
  }

  get data$(): Observable<Uint8Array> {
    return this.outlet.data$
  }

  get remoteKey(): Uint8Array {
    return this.session?.remoteIdentityKey.slice() ?? new Uint8Array(0)
  }

  get session(): SecureSession | null {
    return this.seal?.session ?? null
  }

  get bufferedAmount(): number {
    return this.sender?.bufferedAmount ?? 0
  }

  /** Diagnostics, not a stable API: what our sending half did (retransmissions, timeouts, RTO); null before the handshake. */
  get stats(): SenderStats | null {
    return this.sender?.stats ?? null
  }

  /** Frame bytes the receiving half holds (unread, being reassembled, early): at most one frame over the window. */
  get heldBytes(): number {
    return this.receiver.held + (this.held?.bytes ?? 0)
  }

  /** Timers this socket has armed (retransmission, delayed ack, handshake or idle deadline): 0 once it is closed. */
  get timersArmed(): number {
    return (this.sender?.timerArmed ? 1 : 0) + (this.receiver.timerArmed ? 1 : 0) + (this.timer !== null ? 1 : 0)
  }

  send(data: Uint8Array | string): boolean {
    let bytes: Uint8Array
    if (typeof data === 'string') bytes = encoder.encode(data)
    // No copy here: the sender seals the frames at once (the caller may reuse its buffer).
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
    this.disarm()
    this.outlet.complete()
    this.sender!.end()
  }

  onFrame(frame: LocalFrame): void {
    if (this.state === 'closed') return
    if (this.seal === null) return this.dialler ? this.onFrameDialling(frame) : this.onFrameHalfOpen(frame)
    switch (frame.type) {
      case FrameType.Data:
      case FrameType.Close:
        return this.onStreamFrame(frame)
      case FrameType.Ack:
        return this.onAck(frame)
    }
  }

  /** A Refuse for this socket (the layer checked who may send it). */
  onRefuse(reason: RefuseReason, frame: LocalFrame): void {
    if (this.state === 'closed') return
    if (this.seal !== null) {
      if (frame.payload.byteLength === REFUSE_BYTES) {
        // Unsealed: anyone who knows the conn could have sent it. Only a dialler not yet confirmed takes it (the accepter may refuse after message 3).
        if (!this.dialler || this.confirmed) return
      } else if (!this.authentic(() => this.seal!.openControl(FrameType.Refuse, frame.flags, frame.seq, frame.payload))) return
    }
    if (this.state === 'opening') return this.refused(refusalError(reason, this.remoteId))
    // While closing, a reset means the remote already forgot us: nothing left to finish.
    this.finish(this.state === 'closing' ? null : refusalError(reason, this.remoteId))
  }

  /** Dialler: the handshake its Opens carry (made once the layer's credentials exist). */
  dialWith(initiator: SecureInitiator): void {
    this.handshake = initiator
  }

  /** Accepter: sends its Accept (again, for a repeated Open). */
  sendAccept(): void {
    if (this.acceptPayload !== null && (this.state === 'opening' || this.state === 'open')) this.emit(FrameType.Accept, 0, 0, this.acceptPayload)
  }

  /** The dial fails with `error`. */
  refused(error: ExplorerError): void {
    if (this.state !== 'opening') return
    this.state = 'closed'
    this.release()
    this.onRefused?.(error)
  }

  /** The dial was abandoned before its handshake finished: tell the remote in case its Accept is on the way. */
  abort(): void {
    if (this.state !== 'opening') return
    this.state = 'closed'
    this.emit(FrameType.Close, 0, 0, EMPTY)
    this.release()
  }

  /** The layer shuts down and could not wait for a graceful close: reset the remote. */
  reset(): void {
    if (this.state === 'closed') return
    this.refuseRemote(RefuseReason.Reset)
    this.finish(null)
  }

  /** Dialler, before the handshake finished: the Accept with message 2. */
  private onFrameDialling(frame: LocalFrame): void {
    if (frame.type !== FrameType.Accept || this.completing || this.state !== 'opening' || this.handshake === null) return
    this.completing = true
    const { window, message } = decodeHello(frame.payload)
    this.host.track((this.handshake as SecureInitiator).complete(message)).then(
      ({ message3, session }) => {
        if (this.state !== 'opening') return
        this.secure(session)
        this.state = 'open'
        this.startSending(window)
        this.sender!.writeHandshake(message3)
        this.onEstablished?.()
      },
      (error) => {
        if (this.state !== 'opening') return
        // The accepter holds a half-open socket for us: let it go.
        this.emit(FrameType.Close, 0, 0, EMPTY)
        this.refused(authFailure(error))
      },
    )
  }

  /** Accepter, before message 3 verified: message 3 itself, an abort, or frames that overtook it. */
  private onFrameHalfOpen(frame: LocalFrame): void {
    if (frame.type === FrameType.Close && frame.payload.byteLength === 0) return this.finish(null)
    if (frame.type !== FrameType.Data && frame.type !== FrameType.Close) return
    if (frame.type === FrameType.Data && frame.seq === 0) return this.verifyDialler(frame.payload)
    this.held!.hold(frame)
  }

  private verifyDialler(message3: Uint8Array): void {
    if (this.completing) return
    this.completing = true
    this.host.track((this.handshake as SecureResponder).complete(message3)).then(
      (session) => {
        if (this.state !== 'opening') return
        this.secure(session)
        const refused = this.host.admit(this)
        if (refused !== null) return this.fail(refused, null)
        this.state = 'open'
        this.startSending(this.remoteWindow)
        // Acknowledges message 3 (the dialler's seq 0), sealed: the dialler knows we hold the session.
        this.receiver.windowOpened()
        for (const held of this.held!.take()) this.onFrame(held)
        this.held = null
        if (this.state !== 'open') return
        // A remote that never speaks does not hold a slot for long.
        const idle = this.host.options.idleTimeoutMs
        if (idle > 0 && !this.spoke) this.arm(idle, () => this.close())
        else this.disarm()
        this.host.established(this)
      },
      () => {
        if (this.state !== 'opening') return
        // A dialler whose message 3 was altered on the way learns it at once; a forger's claimed source learns of nothing it asked for.
        this.emit(FrameType.Refuse, 0, 0, encodeRefuse(RefuseReason.AuthFailed, this.host.self))
        this.finish(null)
      },
    )
  }

  /** Data or Close: opened before the receiver sees it, so nothing unauthentic is stored or delivered. */
  private onStreamFrame(frame: LocalFrame): void {
    const counter = counterFromWireSeq(frame.seq, this.receiver.expectedCounter)
    const bytes = HEADER_BYTES + frame.payload.byteLength
    // A repeat of the dialler's message 3 (our ack was lost): acknowledge again.
    if (!this.dialler && counter === 0) return this.receiver.receive(FrameType.Data, 0, frame.seq, EMPTY, bytes)
    let plaintext: Uint8Array | null = null
    if (!this.authentic(() => (plaintext = this.seal!.openStream(frame.type, frame.flags, frame.seq, counter, frame.payload)))) return
    this.confirmed = true
    if (!this.spoke) {
      this.spoke = true
      if (this.state === 'open') this.disarm()
    }
    this.receiver.receive(frame.type, frame.flags, frame.seq, plaintext!, bytes)
  }

  private onAck(frame: LocalFrame): void {
    let opened: { body: Uint8Array; number: number } | null = null
    if (!this.authentic(() => (opened = this.seal!.openControl(FrameType.Ack, frame.flags, frame.seq, frame.payload)))) return
    const { body, number } = opened!
    // Ack numbers only grow: an older ack (reordered, or replayed by a relay) says nothing new.
    if (number <= this.lastAckNumber) return
    this.lastAckNumber = number
    this.confirmed = true
    this.sender?.onAck(frame.seq, readU32(body, 0))
  }

  /** Runs an open; a frame that fails it ends the socket with AUTH_FAILED (nothing of it is delivered). */
  private authentic(open: () => unknown): boolean {
    try {
      open()
      return true
    } catch (error) {
      this.fail(RefuseReason.AuthFailed, authFailure(error))
      return false
    }
  }

  private secure(session: SecureSession): void {
    const { self } = this.host
    this.seal = new SocketSeal(session, { source: self, dest: this.remote, conn: this.outConn }, { source: this.remote, dest: self, conn: this.inConn })
  }

  private startSending(remoteWindow: number): void {
    this.sender = new Sender(
      {
        encode: (type, flags, seq, payload, seal) => {
          const frameFlags = flags | FrameFlag.Exact
          const body = seal ? this.seal!.sealStream(type, frameFlags, seq, payload) : payload
          return encodeFrame({ type, ttl: DEFAULT_TTL, flags: frameFlags, source: this.host.self, dest: this.remote, conn: this.outConn, seq, payload: body })
        },
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

  /** Tells the remote why we end the socket (sealed once we hold the session), and ends it. */
  private fail(reason: RefuseReason, error: ExplorerError | null): void {
    this.refuseRemote(reason)
    this.finish(error)
  }

  private refuseRemote(reason: RefuseReason): void {
    const refuse = encodeRefuse(reason, this.host.self)
    this.emit(FrameType.Refuse, 0, 0, this.seal ? this.seal.sealControl(FrameType.Refuse, 0, refuse) : refuse)
  }

  /** Ends the socket for good: data$ completes (or errors with `error`). */
  private finish(error: ExplorerError | null): void {
    if (this.state === 'closed') return
    this.state = 'closed'
    this.sender?.stop()
    this.release()
    if (error) this.outlet.error(error)
    else this.outlet.complete()
  }

  private release(): void {
    this.disarm()
    this.held = null
    this.receiver.stop()
    this.host.release(this)
  }

  private arm(ms: number, then: () => void): void {
    this.disarm()
    this.timer = this.host.scheduler.schedule(() => {
      this.timer = null
      then()
    }, ms)
  }

  private disarm(): void {
    this.timer?.unsubscribe()
    this.timer = null
  }

  private emit(type: FrameType, flags: number, seq: number, payload: Uint8Array): void {
    this.host.send({ type, dest: this.remote, flags: flags | FrameFlag.Exact, conn: this.outConn, seq, payload })
  }
}

const EMPTY = new Uint8Array(0)
