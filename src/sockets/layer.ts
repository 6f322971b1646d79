import { Observable, SchedulerLike, Subject, Subscription, defer, filter, finalize, interval, map, of, race, startWith, take, timer } from 'rxjs'
import { ExplorerError } from '../errors'
import { formatId } from '../ids'
import type { NoiseCredentials, SecureResponder } from '../noise'
import type { ChannelSet } from '../router/channel-set'
import type { LocalFrame, Router } from '../router/router'
import { FrameFlag, FrameType } from '../wire/frame'
import { Admission } from './admission'
import { Handshakes, type SocketSecurity } from './handshakes'
import { ResolvedSocketOptions, SocketOptions, resolveSocketOptions } from './options'
import type { ExplorerSocket } from './explorer-socket'
import { RoutedSocket, SocketHost } from './socket'
import { ACCEPTER_BIT, CONN_MASK, RefuseReason, decodeHello, decodeRefuse, encodeHello, encodeRefuse, socketPayloadOk, windowInFrameBytes } from './wire'

/** What the socket layer runs on: one peer's router and channels, and its identity. */
export interface SocketLayerHost {
  readonly id: number
  readonly router: Router
  readonly channels: ChannelSet
  readonly scheduler: SchedulerLike
  /** Signs with this peer's identity and verifies others' (src/identity), for the sockets' handshakes. */
  readonly security: SocketSecurity
  /** Dialling needs the peer to be in the ring (it routes for others before it may send). */
  isListening(): boolean
}

/** Options of one dial. */
export interface DialOptions {
  /** The remote's Ed25519 identity key (32 bytes), when known: the dial fails AUTH_FAILED unless the remote proves exactly this key. */
  key?: Uint8Array
}

/** What a socket layer holds right now: for leak checks (all zero once every socket is closed and channels drained). */
export interface SocketResources {
  /** Live sockets, dialled (dials in progress included) and accepted. */
  sockets: number
  /** Remote peers the socket table has an entry for. */
  peers: number
  /** Dials waiting for an answer (each holds a repeat timer and a timeout). */
  dialTimers: number
  /** Retransmission and delayed-ack timers armed by live sockets. */
  socketTimers: number
  /** Sockets waiting for a congested channel to drain. */
  drainWaits: number
  /** Accepted sockets whose handshake is not finished. */
  halfOpen: number
  /** Handshake steps waiting on asynchronous crypto (signing, verifying). */
  handshakes: number
  /** Entries of the admission tables (half-open sockets per neighbour, sockets per proven peer). */
  limits: number
}

const SOCKET_FRAMES = [FrameType.Open, FrameType.Accept, FrameType.Data, FrameType.Ack, FrameType.Close, FrameType.Refuse]

/**
 * Routed sockets over one peer's router: dialling (Open → Accept | Refuse),
 * accepting, and the table of live sockets keyed by (remote, conn). Every
 * socket runs a Noise handshake with the remote's identity (src/noise) and
 * seals its frames; what a socket may cost this peer before and after it is
 * proven is bounded by Admission.
 */
export class SocketLayer {
  readonly incoming$: Observable<ExplorerSocket>
  readonly options: ResolvedSocketOptions
  /** Internal: the handshakes and credentials (tests and benchmarks reach it; the package does not export it). */
  readonly handshakes: Handshakes
  private readonly admission: Admission
  /** The receive window our Opens and Accepts advertise, in frame bytes. */
  private readonly window: number
  private readonly incoming = new Subject<ExplorerSocket>()
  private readonly released = new Subject<void>()
  /** remote → conn of the frames it sends us → socket. */
  private readonly sockets = new Map<number, Map<number, RoutedSocket>>()
  /** Accepted sockets whose handshake is not finished, and the neighbour their Open came through. */
  private readonly halfOpen = new Map<RoutedSocket, number>()
  private readonly subscription: Subscription
  private readonly socketHost: SocketHost
  private count = 0
  private dialTimers = 0
  private drainWaits = 0
  private nextConn: number
  private closed = false

  constructor(
    private readonly host: SocketLayerHost,
    options: SocketOptions = {},
    random: () => number = Math.random,
  ) {
    this.options = resolveSocketOptions(options)
    this.handshakes = new Handshakes(host.id, host.security)
    this.admission = new Admission(this.options)
    this.window = windowInFrameBytes(this.options.windowBytes)
    this.incoming$ = this.incoming.asObservable()
    this.nextConn = Math.floor(random() * CONN_MASK)
    this.socketHost = {
      self: host.id,
      scheduler: host.scheduler,
      options: this.options,
      send: (frame) => host.router.send(frame),
      sendEncoded: (frame) => host.router.sendEncoded(frame),
      congested: (resume) => this.congested(resume),
      track: (promise) => this.handshakes.track(promise),
      admit: (socket) => this.admit(socket),
      established: (socket) => this.incoming.next(socket),
      release: (socket) => this.release(socket),
    }
    this.subscription = host.router.frames$(...SOCKET_FRAMES).subscribe((frame) => this.onFrame(frame))
  }

  /** Live sockets, dialled (including dials in progress) and accepted. */
  get size(): number {
    return this.count
  }

  /** What the layer holds now (see SocketResources). */
  get resources(): SocketResources {
    let socketTimers = 0
    for (const socket of this.all()) socketTimers += socket.timersArmed
    return {
      sockets: this.count,
      peers: this.sockets.size,
      dialTimers: this.dialTimers,
      socketTimers,
      drainWaits: this.drainWaits,
      halfOpen: this.halfOpen.size,
      handshakes: this.handshakes.pending,
      limits: this.admission.entries,
    }
  }

  /**
   * Cold: subscribing sends an Open routed to exactly `remote`; emits the
   * socket once accepted and the remote proved the identity behind `remote`
   * (and `options.key` when given), then completes. Errors PEER_NOT_FOUND,
   * DIAL_REFUSED, DIAL_TIMEOUT, AUTH_FAILED, NOT_LISTENING, TOO_MANY_SOCKETS,
   * CLOSED. Unsubscribing before it emitted aborts the dial. Bad options
   * throw BAD_OPTIONS at once.
   */
  dial$(remote: number, options: DialOptions = {}): Observable<ExplorerSocket> {
    const key = checkDialOptions(options)
    return defer(() => {
      if (this.closed) throw new ExplorerError('CLOSED', 'the explorer is closed')
      if (!this.host.isListening()) throw new ExplorerError('NOT_LISTENING', 'dial$ needs listen() to have resolved: a peer must be in the ring to send')
      this.checkLimits(remote)
      return new Observable<ExplorerSocket>((subscriber) => {
        const timers = new Subscription(() => this.dialTimers--)
        this.dialTimers++
        timers.add(
          timer(this.options.dialTimeoutMs, this.host.scheduler).subscribe(() =>
            subscriber.error(new ExplorerError('DIAL_TIMEOUT', `${formatId(remote)} did not answer within ${this.options.dialTimeoutMs} ms`)),
          ),
        )
        const conn = this.allocateConn(remote)
        const socket = new RoutedSocket(this.socketHost, remote, conn, true, null)
        this.add(socket)
        this.admission.addPeer(remote)
        socket.onEstablished = () => {
          subscriber.next(socket)
          subscriber.complete()
        }
        socket.onRefused = (error) => subscriber.error(error)
        // Credentials are made once, when the layer starts: normally long ready.
        this.handshakes.withCredentials((credentials) => {
          if (socket.state !== 'opening') return
          if (credentials instanceof ExplorerError) return socket.refused(credentials)
          const initiator = this.handshakes.initiator(credentials, remote, conn, key)
          socket.dialWith(initiator)
          const hello = encodeHello(this.window, initiator.message1)
          const open = () => this.host.router.send({ type: FrameType.Open, dest: remote, flags: FrameFlag.Exact, conn, seq: 0, payload: hello })
          // Routes may be in flux: the Open is repeated, the same bytes (the accepter answers repeats with its same Accept).
          timers.add(interval(this.options.initialRtoMs, this.host.scheduler).subscribe(open))
          open()
        })
        return () => {
          timers.unsubscribe()
          socket.abort()
        }
      })
    })
  }

  /**
   * Closes every socket gracefully (queued messages go first), waits up to
   * closeTimeoutMs for the remotes to acknowledge, resets the rest. Completes when done.
   */
  close$(): Observable<void> {
    return defer(() => {
      if (this.closed) return of(undefined)
      this.closed = true
      this.incoming.complete()
      for (const socket of this.all()) {
        if (socket.state === 'opening') socket.refused(new ExplorerError('CLOSED', 'the explorer closed while dialling'))
        else socket.close()
      }
      const drained$ = this.released.pipe(startWith(undefined), filter(() => this.count === 0), take(1))
      return race(drained$, timer(this.options.closeTimeoutMs, this.host.scheduler)).pipe(
        map(() => {
          for (const socket of this.all()) socket.reset()
          this.subscription.unsubscribe()
          this.released.complete()
        }),
      )
    })
  }

  private onFrame(frame: LocalFrame): void {
    // A payload that does not parse is counted (and held against the neighbour that originated it), never acted on.
    if (!socketPayloadOk(frame.type, frame.payload)) return this.host.router.rejectPayload(frame)
    if (frame.unreachable) {
      // We own the id an Open was for, and it is not ours: no such peer.
      if (frame.type === FrameType.Open && (frame.conn & ACCEPTER_BIT) === 0) {
        this.refuse(frame.source, frame.conn, RefuseReason.NoSuchPeer, frame.dest)
      }
      return
    }
    switch (frame.type) {
      case FrameType.Open:
        return this.onOpen(frame)
      case FrameType.Refuse: {
        const refusal = decodeRefuse(frame.payload)
        if (refusal === null) return
        const socket = this.find(refusal.id, frame.conn)
        // Only the owner of an absent id speaks for it, and only about a dial.
        if (socket && (refusal.id === frame.source || (refusal.reason === RefuseReason.NoSuchPeer && socket.state === 'opening'))) {
          socket.onRefuse(refusal.reason, frame)
        }
        return
      }
      default: {
        const socket = this.find(frame.source, frame.conn)
        if (socket) return socket.onFrame(frame)
        // Data for a connection we do not know: tell the sender to stop.
        if (frame.type === FrameType.Data) this.refuse(frame.source, frame.conn, RefuseReason.Reset, this.host.id)
      }
    }
  }

  /**
   * An Open: its `source` is a claim until the handshake proves it, so
   * nothing is keyed on it but the lookup of a repeat. Limits come first and
   * cost nothing; the handshake's three X25519 operations come only for an
   * Open the neighbour it came through may still start.
   */
  private onOpen(frame: LocalFrame): void {
    const { source: remote, conn, from } = frame
    if ((conn & ACCEPTER_BIT) !== 0) return
    const existing = this.find(remote, conn)
    // A repeated Open: our Accept was lost or is late.
    if (existing) return existing.dialler ? undefined : existing.sendAccept()
    if (this.closed || !this.incoming.observed) return this.refuse(remote, conn, RefuseReason.NotAccepting, this.host.id)
    if (this.count >= this.options.maxSockets || !this.admission.peerHasRoom(remote)) return this.refuse(remote, conn, RefuseReason.Busy, this.host.id)
    // Over the neighbour's handshake budget: dropped unanswered (the dialler repeats its Open; a forger gets nothing, not even a Refuse).
    if (!this.admission.openHalf(from, this.host.scheduler.now())) return
    const { window, message } = decodeHello(frame.payload)
    this.handshakes.withCredentials((credentials) => {
      const socket = credentials instanceof ExplorerError || this.closed || this.find(remote, conn) ? null : this.accept(credentials, message, remote, conn, window)
      if (socket === null) return this.admission.closeHalf(from)
      this.halfOpen.set(socket, from)
      socket.sendAccept()
    })
  }

  /** A half-open socket for an Open, or null when its message 1 is malformed (nothing to answer). */
  private accept(credentials: NoiseCredentials, message1: Uint8Array, remote: number, conn: number, window: number): RoutedSocket | null {
    let responder: SecureResponder
    try {
      responder = this.handshakes.responder(credentials, message1, remote, conn)
    } catch {
      return null
    }
    const socket = new RoutedSocket(this.socketHost, remote, conn, false, responder, window)
    this.add(socket)
    return socket
  }

  /** A half-open socket's dialler proved the id its Open claimed: it becomes a socket of that peer, if there is room. */
  private admit(socket: RoutedSocket): RefuseReason | null {
    if (this.closed || !this.incoming.observed) return RefuseReason.NotAccepting
    if (!this.admission.peerHasRoom(socket.remote)) return RefuseReason.Busy
    this.admission.closeHalf(this.halfOpen.get(socket)!)
    this.halfOpen.delete(socket)
    this.admission.addPeer(socket.remote)
    return null
  }

  /** Refuses the connection `conn` from `to` (as its sender numbered it) that was meant for `forId`. */
  private refuse(to: number, conn: number, reason: RefuseReason, forId: number): void {
    this.host.router.send({ type: FrameType.Refuse, dest: to, flags: FrameFlag.Exact, conn: (conn ^ ACCEPTER_BIT) >>> 0, seq: 0, payload: encodeRefuse(reason, forId) })
  }

  /**
   * Local backpressure: while any of our channels holds more than the
   * high-water mark, sockets wait for it to drain. (Which channel a frame
   * takes is the router's business; all of them is a safe bound.)
   */
  private congested(resume: () => void): boolean {
    const { channels } = this.host
    for (const remote of channels.remotes()) {
      const channel = channels.channel(remote)
      if (channel !== undefined && channel.bufferedAmount > this.options.channelHighWaterMark) {
        this.drainWaits++
        channel.drained().pipe(finalize(() => this.drainWaits--)).subscribe(resume)
        return true
      }
    }
    return false
  }

  private checkLimits(remote: number): void {
    if (this.count >= this.options.maxSockets || !this.admission.peerHasRoom(remote)) {
      throw new ExplorerError('TOO_MANY_SOCKETS', `socket limit reached (maxSockets ${this.options.maxSockets}, maxSocketsPerPeer ${this.options.maxSocketsPerPeer})`)
    }
  }

  private allocateConn(remote: number): number {
    const taken = this.sockets.get(remote)
    do this.nextConn = (this.nextConn + 1) & CONN_MASK
    while (taken?.has((this.nextConn | ACCEPTER_BIT) >>> 0))
    return this.nextConn
  }

  private find(remote: number, conn: number): RoutedSocket | undefined {
    return this.sockets.get(remote)?.get(conn)
  }

  private add(socket: RoutedSocket): void {
    let byConn = this.sockets.get(socket.remote)
    if (!byConn) this.sockets.set(socket.remote, (byConn = new Map()))
    byConn.set(socket.inConn, socket)
    this.count++
  }

  private release(socket: RoutedSocket): void {
    const byConn = this.sockets.get(socket.remote)
    if (byConn?.get(socket.inConn) !== socket) return
    byConn.delete(socket.inConn)
    if (byConn.size === 0) this.sockets.delete(socket.remote)
    this.count--
    const neighbour = this.halfOpen.get(socket)
    if (neighbour !== undefined) {
      this.halfOpen.delete(socket)
      this.admission.closeHalf(neighbour)
    } else {
      this.admission.removePeer(socket.remote)
    }
    this.released.next()
  }

  private all(): RoutedSocket[] {
    const list: RoutedSocket[] = []
    for (const byConn of this.sockets.values()) list.push(...byConn.values())
    return list
  }
}

const KEY_BYTES = 32

/** The `key` of dial options, checked at once (BAD_OPTIONS). */
function checkDialOptions(options: DialOptions): Uint8Array | undefined {
  if (typeof options !== 'object' || options === null) throw new ExplorerError('BAD_OPTIONS', 'dial$ options must be an object, e.g. { key }')
  const { key } = options
  if (key === undefined) return undefined
  if (!(key instanceof Uint8Array) || key.byteLength !== KEY_BYTES) {
    throw new ExplorerError('BAD_OPTIONS', `key must be the remote's ${KEY_BYTES}-byte Ed25519 public key (a Uint8Array), got ${key instanceof Uint8Array ? `${key.byteLength} bytes` : typeof key}`)
  }
  return Uint8Array.from(key)
}
