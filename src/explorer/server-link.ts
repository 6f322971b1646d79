import {
  BehaviorSubject, Observable, ReplaySubject, SchedulerLike, Subject, Subscription, defer, filter, from, ignoreElements, map, merge, of, switchMap,
  take, tap, timer,
} from 'rxjs'
import type { Diagnostics } from '../diagnostics'
import { ExplorerError } from '../errors'
import { signAs, toBase64url, type Identity } from '../identity'
import { isIdString } from '../ids'
import { withTimeout } from '../operators'
import { parseIceServers } from '../protocol/ice-servers'
import { JOIN_REFUSALS, joinProofText, type IceServer, type JoinMessage, type JoinedReply, type RingReport, type SignalDelivery } from '../protocol/signal-server'
import { WS_OPEN, type WebSocketConstructor, type WebSocketLike } from './websocket'

const encoder = new TextEncoder()

/** A relayed signal as the explorer sees it. */
export type ServerSignal = Omit<SignalDelivery, 'type'>

export interface ServerError {
  code: string
  message: string
}

export interface ServerLinkOptions {
  /** The server's URLs (instances of one cluster): tried in turn, from a random one. */
  url: readonly string[]
  WebSocket: WebSocketConstructor
  /** Whose key the joins prove (the id is derived from it). */
  identity: Identity
  serverTimeoutMs: number
  reconnectMinMs: number
  reconnectMaxMs: number
}

/**
 * The explorer's connection to the signalling server: registers our id, relays
 * signals both ways, publishes ring reports. Once kept alive, a lost connection
 * is re-established in the background with jittered exponential backoff
 * (reconnectMinMs … reconnectMaxMs) and the id registered again, for as long
 * as the explorer is open; the overlay does not wait for it. With several
 * URLs, each new connection after a failed or lost one goes to the next.
 */
export class ServerLink {
  private readonly signals = new Subject<ServerSignal>()
  private readonly errors = new Subject<ServerError>()
  private readonly joined = new Subject<JoinedReply>()
  private readonly hints = new Subject<string>()
  /** The current connection's open challenge (null until it arrives, and after a join used it). */
  private readonly nonce = new BehaviorSubject<string | null>(null)
  readonly signals$: Observable<ServerSignal> = this.signals.asObservable()
  /** Ids the server says are a closer successor of ours than the one we reported. */
  readonly hints$: Observable<string> = this.hints.asObservable()
  readonly errors$: Observable<ServerError> = this.errors.asObservable()
  private socket: WebSocketLike | null = null
  private opening: ReplaySubject<WebSocketLike> | null = null
  private registered = false
  private persistent = false
  private reconnect: Subscription | null = null
  private failures = 0
  private lastReport: string | null = null
  private closed = false
  private ice: IceServer[] = []
  private next: number

  constructor(
    private readonly options: ServerLinkOptions,
    private readonly scheduler: SchedulerLike,
    private readonly random: () => number,
    private readonly diagnostics: Diagnostics,
  ) {
    this.next = options.url.length > 1 ? Math.floor(random() * options.url.length) : 0
  }

  /** How many server URLs the link rotates through. */
  get serverCount(): number {
    return this.options.url.length
  }

  /** The ICE servers the server handed us last (its joined reply, or a renewal of TURN credentials). */
  get iceServers(): IceServer[] {
    return this.ice
  }

  /** Our id is registered on a live connection: signals can flow. */
  get isRegistered(): boolean {
    return this.registered && this.socket?.readyState === WS_OPEN
  }

  /**
   * Connects if needed and registers our id; emits the server's joined reply.
   * Registering again (leave, join) gets a fresh successor list.
   */
  register$(): Observable<JoinedReply> {
    return this.connect$().pipe(
      take(1),
      // The reply is awaited before the join goes out: merge subscribes in order.
      switchMap(() => merge(this.joinedReply$(), this.sendJoin$())),
      take(1),
      tap(() => {
        this.registered = true
        this.failures = 0
        if (this.lastReport !== null) this.send(this.lastReport)
      }),
      withTimeout(this.options.serverTimeoutMs, this.scheduler, () => new ExplorerError('JOIN_FAILED', `the signalling server did not answer within ${this.options.serverTimeoutMs} ms`)),
      tap({ error: () => this.dropIfNotOpen() }),
    )
  }

  /** From now on, a lost connection is re-established and our id registered again. */
  keepAlive(): void {
    this.persistent = true
    if (!this.isRegistered) this.scheduleReconnect()
  }

  /** Relays `data` to peer `to`; false when not connected. */
  sendSignal(to: string, data: unknown): boolean {
    if (!this.isRegistered) return false
    return this.send(JSON.stringify({ type: 'signal', to, data }))
  }

  /** Publishes our ring state now and after every re-registration. */
  report(report: RingReport): void {
    this.lastReport = JSON.stringify({ type: 'report', ...report })
    if (this.isRegistered) this.send(this.lastReport)
  }

  /** Closes the connection; completes once the socket closed (or after serverTimeoutMs). */
  close$(): Observable<void> {
    return defer(() => {
      this.closed = true
      this.reconnect?.unsubscribe()
      this.signals.complete()
      this.errors.complete()
      this.joined.complete()
      this.hints.complete()
      this.nonce.complete()
      const socket = this.socket
      this.socket = null
      if (socket === null || socket.readyState > WS_OPEN) return of(undefined)
      const closed = new ReplaySubject<void>(1)
      socket.onclose = () => closed.next()
      socket.close(1000, 'explorer closed')
      return closed.pipe(
        take(1),
        withTimeout(this.options.serverTimeoutMs, this.scheduler, () => new ExplorerError('CLOSED', 'the signalling socket did not close')),
      )
    })
  }

  private joinedReply$(): Observable<JoinedReply> {
    const refused$ = this.errors.pipe(
      filter((e) => JOIN_REFUSALS.has(e.code)),
      map((e): never => {
        throw new ExplorerError('JOIN_FAILED', `the signalling server refused our id: ${e.code}: ${e.message}`)
      }),
    )
    return merge(this.joined, refused$).pipe(take(1))
  }

  /**
   * Leaves first when registered (the server then opens a new challenge),
   * waits for the connection's challenge, signs it and sends the join.
   */
  private sendJoin$(): Observable<never> {
    return defer(() => {
      if (this.registered) {
        this.nonce.next(null)
        this.send(JSON.stringify({ type: 'leave' }))
      }
      this.registered = false
      const { identity } = this.options
      return this.nonce.pipe(
        filter((nonce): nonce is string => nonce !== null),
        take(1),
        switchMap((nonce) => from(signAs(identity, encoder.encode(joinProofText(nonce, identity.id))))),
        tap((sig) => {
          const join: JoinMessage = { type: 'join', id: identity.id, key: toBase64url(identity.publicKey), sig: toBase64url(sig) }
          this.send(JSON.stringify(join))
        }),
        ignoreElements(),
      )
    })
  }

  private connect$(): Observable<WebSocketLike> {
    return defer(() => {
      if (this.closed) throw new ExplorerError('CLOSED', 'the explorer is closed')
      if (this.socket?.readyState === WS_OPEN) return of(this.socket)
      return this.opening ?? this.open()
    })
  }

  private open(): Observable<WebSocketLike> {
    const opening = new ReplaySubject<WebSocketLike>(1)
    const url = this.options.url[this.next]
    // The connection after this one (if this fails or is lost) goes to the next server.
    this.next = (this.next + 1) % this.options.url.length
    let socket: WebSocketLike
    try {
      socket = new this.options.WebSocket(url)
    } catch (error) {
      opening.error(new ExplorerError('SIGNAL_FAILED', `cannot open a WebSocket to ${url}: ${String(error)}`))
      return opening
    }
    this.socket = socket
    this.opening = opening
    this.nonce.next(null)
    socket.onopen = () => {
      if (this.opening === opening) this.opening = null
      opening.next(socket)
      opening.complete()
    }
    socket.onmessage = (event) => this.onMessage(event.data)
    // A close event always follows an error: handled there.
    socket.onerror = () => undefined
    socket.onclose = () => {
      if (this.socket !== socket) return
      this.socket = null
      this.registered = false
      if (this.opening === opening) {
        this.opening = null
        opening.error(new ExplorerError('SIGNAL_FAILED', `cannot reach the signalling server at ${url}`))
      }
      this.scheduleReconnect()
    }
    return opening
  }

  private scheduleReconnect(): void {
    if (this.closed || !this.persistent || this.reconnect !== null) return
    const { reconnectMinMs, reconnectMaxMs } = this.options
    const ceiling = Math.min(reconnectMaxMs, reconnectMinMs * 2 ** this.failures++)
    const delay = Math.round(ceiling * (0.5 + 0.5 * this.random()))
    this.reconnect = timer(delay, this.scheduler).subscribe(() => {
      this.reconnect = null
      this.register$().subscribe({
        error: (error) => {
          this.diagnostics.report('SERVER_UNREACHABLE', error)
          this.scheduleReconnect()
        },
      })
    })
  }

  /** A connection attempt that timed out: abandon it (its late events are ignored). */
  private dropIfNotOpen(): void {
    const socket = this.socket
    if (socket === null || socket.readyState === WS_OPEN) return
    this.socket = null
    this.opening = null
    try {
      socket.close()
    } catch {
      // Closing a socket that is still connecting may throw in some implementations; it is dropped anyway.
    }
    this.scheduleReconnect()
  }

  private send(text: string): boolean {
    const socket = this.socket
    if (socket === null || socket.readyState !== WS_OPEN) return false
    socket.send(text)
    return true
  }

  private onMessage(data: unknown): void {
    if (typeof data !== 'string') return
    let message: Record<string, unknown>
    try {
      message = JSON.parse(data)
    } catch {
      return
    }
    if (typeof message !== 'object' || message === null) return
    switch (message.type) {
      case 'signal':
        if (isIdString(message.from)) this.signals.next({ from: message.from, data: message.data })
        return
      case 'challenge':
        if (typeof message.nonce === 'string') this.nonce.next(message.nonce)
        return
      case 'joined': {
        // The join used the challenge: the next join (after a leave) waits for a new one.
        this.nonce.next(null)
        const ids = (list: unknown): string[] => (Array.isArray(list) ? list.filter(isIdString) : [])
        const successors = ids(message.successors)
        const predecessor = isIdString(message.predecessor) ? message.predecessor : null
        this.ice = parseIceServers(message.iceServers)
        this.joined.next({ type: 'joined', id: this.options.identity.id, successors, ring: ids(message.ring), predecessor, peers: typeof message.peers === 'number' ? message.peers : successors.length + 1, iceServers: this.ice })
        return
      }
      case 'ice-servers':
        this.ice = parseIceServers(message.iceServers)
        return
      case 'hint':
        if (isIdString(message.successor)) this.hints.next(message.successor)
        return
      case 'error':
        this.errors.next({ code: String(message.code), message: String(message.message) })
        return
    }
  }
}
