import {
  EMPTY, Observable, Subject, Subscription, catchError, defer, exhaustMap, filter, firstValueFrom, lastValueFrom, map, takeUntil, throwError,
} from 'rxjs'
import { Diagnostics, type Diagnostic, type DiagnosticCode } from '../diagnostics'
import { ExplorerError, isExplorerError } from '../errors'
import { signAs, verifySignature, type Identity } from '../identity'
import { identityClaimProver } from '../identity/claim-proof'
import { identityProver } from '../identity/signal-proof'
import { fingerStart, formatId, parseId } from '../ids'
import type { FingerUpdate } from '../ring/finger-table'
import { RingNode } from '../ring/node'
import type { RingSnapshot } from '../ring/snapshot'
import { SocketLayer, type DialOptions, type ExplorerSocket } from '../sockets'
import { createWebRtcTransport } from '../transport/webrtc'
import { registerExplorerInternals } from './internals'
import { joinRing$, reattach$, type JoinContext } from './join'
import { resolveExplorerOptions, type ExplorerOptions } from './options'
import { ringReports$ } from './report'
import { followSuccessorHints$ } from './successor-hints'
import { ServerLink } from './server-link'
import { ServerSignalling } from './server-signalling'

/** Joiners whose first channel (signalled through the server) we set up at once, at most. */
const MAX_JOINERS_AT_ONCE = 16

/** A direct channel to another peer opened or closed. */
export interface PeerEvent {
  type: 'up' | 'down'
  /** The remote peer's id, 12 hex. */
  id: string
}

/** This peer's place in the ring at one moment (see docs/api.md). */
export type ExplorerSnapshot = RingSnapshot

/** One peer of the overlay. See docs/api.md. */
export interface Explorer {
  /** This peer's id, 12 lowercase hex characters: derived from its public key. */
  readonly id: string
  /** This peer's raw 32-byte Ed25519 public key (a copy). */
  readonly publicKey: Uint8Array
  /** Sockets other peers dialled to us. While nobody subscribes, dials to us are refused (DIAL_REFUSED). */
  readonly incoming$: Observable<ExplorerSocket>
  /** Every change of a finger row: `{ row, id, previous }` (ids null when absent). */
  readonly fingers$: Observable<FingerUpdate>
  /** Direct channels opening and closing. */
  readonly peers$: Observable<PeerEvent>
  /** Background failures, coded: why a finger, a repair or the server connection failed (the peer retries on its own). */
  readonly diagnostics$: Observable<Diagnostic>
  /** Joins the overlay through the signalling server; resolves once this peer is in the ring and routable. */
  listen(): Promise<void>
  /**
   * Cold: an end-to-end encrypted socket to the peer with this id, once it
   * proved the key behind the id (and is `options.key` when given); errors
   * PEER_NOT_FOUND, DIAL_TIMEOUT, AUTH_FAILED, NOT_LISTENING, ... (see ExplorerSocket)
   */
  dial$(id: string, options?: DialOptions): Observable<ExplorerSocket>
  /** The id of the peer responsible for `key` (12 hex). */
  lookup$(key: string): Observable<string>
  /** Refreshes finger row `row` (0–47) now; emits the row's state. */
  updateFinger(row: number): Observable<FingerUpdate>
  /** Refreshes every finger row worth keeping now; emits each row's state. */
  updateFingerTable(): Observable<FingerUpdate>
  /** This peer's ring state now: successors, predecessor, fingers, channels. */
  snapshot(): ExplorerSnapshot
  /** Closes sockets (gracefully, bounded), every channel and the server connection. */
  close(): Promise<void>
}

/** Makes a peer; nothing happens until listen(). Misuse (no signalUrl, a bad id) throws at once. */
export function createExplorer(options: ExplorerOptions): Explorer {
  return new ExplorerPeer(options)
}

class ExplorerPeer implements Explorer {
  readonly id: string
  private readonly identity: Identity
  readonly incoming$: Observable<ExplorerSocket>
  readonly fingers$: Observable<FingerUpdate>
  readonly peers$: Observable<PeerEvent>
  readonly diagnostics$: Observable<Diagnostic>
  private readonly ring: RingNode
  private readonly diagnostics: Diagnostics
  private readonly sockets: SocketLayer
  private readonly link: ServerLink
  private readonly serverSignalling: ServerSignalling
  private readonly join: JoinContext
  private readonly reportMs: number
  private readonly closing$ = new Subject<void>()
  private readonly subscriptions = new Subscription()
  private listening: Promise<void> | null = null
  private listened = false
  private closed: Promise<void> | null = null

  constructor(options: ExplorerOptions) {
    const o = resolveExplorerOptions(options)
    const { scheduler, random } = o
    this.identity = o.identity
    this.id = o.identity.id
    // ICE servers: the app's own, else what the signalling server handed out last (read at each new connection).
    const iceServers = options.iceServers ?? (() => this.link.iceServers)
    const transport = options.transport ?? createWebRtcTransport({ wrtc: options.wrtc, iceServers, connectTimeoutMs: o.ring.connectTimeoutMs, maxPeersPerMinute: options.maxPeersPerMinute })
    const diagnostics = (this.diagnostics = new Diagnostics(() => scheduler.now()))
    // Our channel set-up signals and our answers to lookups are signed with our identity, and checked against the
    // other peer's (src/identity/signal-proof.ts, claim-proof.ts).
    const prover = identityProver(o.identity, o.id)
    const claimProver = identityClaimProver(o.identity)
    this.ring = new RingNode({ id: o.id, identity: o.identity, transport, scheduler, random, diagnostics, prover, claimProver, ...o.ring })
    this.sockets = new SocketLayer(
      {
        id: o.id, router: this.ring.router, channels: this.ring.channels, scheduler, isListening: () => this.listened && this.closed === null,
        security: { signer: { publicKey: o.identity.publicKey, sign: (message) => signAs(o.identity, message) }, verify: verifySignature },
      },
      o.sockets,
      random,
    )
    this.link = new ServerLink(
      { url: o.signalUrl, WebSocket: o.WebSocket, identity: o.identity, serverTimeoutMs: o.serverTimeoutMs, reconnectMinMs: o.reconnectMinMs, reconnectMaxMs: o.reconnectMaxMs },
      scheduler,
      random,
      diagnostics,
    )
    // The ring's view of the transport: a joiner's first handshakes teach it which peers it has no direct path to.
    this.serverSignalling = new ServerSignalling(this.link, this.ring.transport, (channel, initiator) => this.ring.channels.add(channel, initiator), MAX_JOINERS_AT_ONCE, random, prover)
    this.join = {
      ring: this.ring, link: this.link, signalling: this.serverSignalling, scheduler, random, diagnostics,
      // Candidates that are still joining finish within a round or two: retry soon, never wait long.
      attempts: o.joinAttempts, timeoutMs: o.joinTimeoutMs, backoffMs: o.ring.stabilizeMs / 2, maxBackoffMs: 4 * o.ring.stabilizeMs, graceMs: 2 * o.ring.stabilizeMs,
      // A listed peer not connected after relayAfterMs is no better a way in than the next one: dial that too.
      staggerMs: o.ring.relayAfterMs, connectTimeoutMs: o.ring.connectTimeoutMs,
    }
    this.reportMs = o.reportMs
    this.incoming$ = this.sockets.incoming$
    this.fingers$ = this.ring.fingers$
    this.peers$ = this.ring.peers$.pipe(map(({ type, peer }) => ({ type, id: formatId(peer) })))
    this.diagnostics$ = diagnostics.events$
    registerExplorerInternals(this, { ring: this.ring, sockets: this.sockets, link: this.link })
  }

  get publicKey(): Uint8Array {
    return this.identity.publicKey
  }

  listen(): Promise<void> {
    if (this.closed) return Promise.reject(new ExplorerError('CLOSED', 'the explorer is closed'))
    this.listening ??= firstValueFrom(
      joinRing$(this.join).pipe(takeUntil(this.closing$)),
      { defaultValue: undefined },
    ).then(
      () => {
        if (this.closed) throw new ExplorerError('CLOSED', 'the explorer closed while joining')
        this.joined()
      },
      (error) => {
        // A failed listen() may be tried again.
        this.listening = null
        throw error
      },
    )
    return this.listening
  }

  dial$(id: string, options?: DialOptions): Observable<ExplorerSocket> {
    const remote = parseId(id)
    return this.sockets.dial$(remote, options)
  }

  lookup$(key: string): Observable<string> {
    const k = parseId(key)
    return this.whenListening$(() => this.ring.lookup$(k).pipe(map(({ owner }) => formatId(owner))))
  }

  updateFinger(row: number): Observable<FingerUpdate> {
    fingerStart(0, row) // throws BAD_ID for a row outside 0–47, at once
    return this.whenListening$(() => this.ring.updateFinger$(row))
  }

  updateFingerTable(): Observable<FingerUpdate> {
    return this.whenListening$(() => this.ring.updateFingerTable$())
  }

  snapshot(): ExplorerSnapshot {
    return this.ring.snapshot()
  }

  close(): Promise<void> {
    this.closed ??= (async () => {
      this.closing$.next()
      this.ring.stopMaintenance()
      await lastValueFrom(this.sockets.close$(), { defaultValue: undefined })
      this.subscriptions.unsubscribe()
      this.serverSignalling.close()
      this.ring.close()
      await lastValueFrom(this.link.close$().pipe(catchError((error) => this.report('SERVER_CLOSE_FAILED', error))), { defaultValue: undefined })
      this.diagnostics.complete()
    })()
    return this.closed
  }

  /** In the ring: keep the server connection for newcomers, publish our state, re-attach if ever cut off. */
  private joined(): void {
    this.listened = true
    this.link.keepAlive()
    this.subscriptions.add(ringReports$(this.ring, this.reportMs, this.join.scheduler).subscribe((report) => this.link.report(report)))
    this.subscriptions.add(
      this.ring.peers$
        .pipe(
          filter((event) => event.type === 'down' && this.ring.channels.size === 0),
          // Retries until it has a channel again; only closing ends it.
          exhaustMap(() => reattach$(this.join).pipe(catchError((error) => (isExplorerError(error, 'CLOSED') ? EMPTY : this.report('REATTACH_FAILED', error))))),
        )
        .subscribe(),
    )
    this.subscriptions.add(followSuccessorHints$(this.link.hints$, this.ring, this.serverSignalling, this.diagnostics).subscribe())
    // Fill the finger table now rather than one row per fix-fingers tick (a row that fails is reported and left to fix-fingers).
    this.subscriptions.add(this.ring.updateFingerTable$().subscribe({ error: (error) => this.report('FINGER_FAILED', error) }))
  }

  private report(code: DiagnosticCode, error: unknown): Observable<never> {
    this.diagnostics.report(code, error)
    return EMPTY
  }

  private whenListening$<T>(body: () => Observable<T>): Observable<T> {
    return defer(() => {
      if (this.closed) return throwError(() => new ExplorerError('CLOSED', 'the explorer is closed'))
      if (!this.listened) return throwError(() => new ExplorerError('NOT_LISTENING', 'call listen() and wait for it first'))
      return body()
    })
  }
}
