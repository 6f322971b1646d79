import { timer, type SchedulerLike, type Subscription } from 'rxjs'
import { DEFAULTS } from '../../signal-server/options'
import { SIGNAL_HEAD, SIGNAL_MIDDLE, errorFrame, hintFrame, type JoinedReply, type SignalErrorCode } from '../../signal-server/protocol'
import { checkJoinProof, newNonce } from '../../signal-server/join-proof'
import { SortedRegistry } from '../../signal-server/registry'
import { ringSuccessors, successorHint } from '../../signal-server/ring-hints'
import { describeFailure, validateEnvelope, validateJoin, validateLeave, validateReport, validateSignal } from '../../signal-server/schemas'
import type { StoredReport } from '../../signal-server/peer-registry'
import type { WebSocketConstructor, WebSocketLike } from '../../src/explorer/websocket'
import type { ValidateFunction } from 'ajv'

/**
 * The signalling server's wire contract in virtual time, for explorer tests
 * that must not wait on the wall clock. A fake WebSocket (what the explorer
 * is given as `WebSocket`) reaches a VirtualSignalServer by URL through a
 * SignalNet, every message one `latencyMs` on the test's scheduler.
 *
 * The server reuses signal-server's pure parts: the sorted registry, the
 * ring hints, the Ajv schemas, the frame builders. Only the thin dispatch of
 * signal-server/server.ts (join, signal, leave, report, closing) is written
 * again here, over a fake socket instead of Fastify and ws; rate limits,
 * heartbeats, size limits and metrics are left out (they have their own
 * tests against the real server).
 */
export class SignalNet {
  private readonly routes = new Map<string, VirtualSignalServer>()
  /** The WebSocket constructor to hand createExplorer: its sockets connect through this net. */
  readonly WebSocket: WebSocketConstructor

  constructor(
    readonly scheduler: SchedulerLike,
    readonly latencyMs = 1,
  ) {
    this.WebSocket = webSocketOn(this)
  }

  /** A new server answering at `url` (a second server at the same URL replaces the route). */
  serve(url: string, options: { ringCheckMs?: number; successorCount?: number } = {}): VirtualSignalServer {
    const server = new VirtualSignalServer(this, options)
    this.routes.set(url, server)
    return server
  }

  /** Connections to `url` reach `server` from now on (a port forwarded to another server). */
  route(url: string, server: VirtualSignalServer): void {
    this.routes.set(url, server)
  }

  /** Where a connection to `url` goes now; undefined: refused. */
  serverAt(url: string): VirtualSignalServer | undefined {
    const server = this.routes.get(url)
    return server?.listening ? server : undefined
  }

  later(work: () => void): void {
    this.scheduler.schedule(work, this.latencyMs)
  }
}

const CONNECTING = 0
const OPEN = 1
const CLOSING = 2
const CLOSED = 3

/** The client end: the part of the WHATWG WebSocket the explorer uses. */
class FakeWebSocket implements WebSocketLike {
  readyState = CONNECTING
  onopen: ((event: unknown) => void) | null = null
  onmessage: ((event: { data: unknown }) => void) | null = null
  onclose: ((event: unknown) => void) | null = null
  onerror: ((event: unknown) => void) | null = null
  private end: ServerEnd | null = null

  constructor(
    private readonly net: SignalNet,
    url: string,
  ) {
    net.later(() => {
      if (this.readyState !== CONNECTING) return
      const server = net.serverAt(url)
      if (server === undefined) return this.closed(1006)
      this.readyState = OPEN
      this.end = server.accept(this)
      this.onopen?.({})
    })
  }

  send(data: string): void {
    if (this.readyState === CONNECTING) throw new Error('InvalidStateError: still connecting')
    if (this.readyState !== OPEN) return
    const end = this.end!
    this.net.later(() => end.receive(data))
  }

  close(code = 1000): void {
    if (this.readyState >= CLOSING) return
    const wasOpen = this.readyState === OPEN
    this.readyState = CLOSING
    const end = this.end
    this.net.later(() => {
      if (wasOpen) end?.closed()
      this.closed(code)
    })
  }

  /** A message from the server. */
  deliver(data: string): void {
    if (this.readyState === OPEN) this.onmessage?.({ data })
  }

  /** The connection is gone (either side closed it, or it never opened). */
  closed(code: number): void {
    if (this.readyState === CLOSED) return
    const refused = this.readyState === CONNECTING
    this.readyState = CLOSED
    if (refused) this.onerror?.({})
    this.onclose?.({ code })
  }
}

/** The server's end of one connection: a session as signal-server/session.ts keeps it. */
class ServerEnd {
  id: string | null = null
  open = true
  /** The open challenge (the proven join: signal-server/join-proof.ts). */
  nonce: string | null = null

  constructor(
    private readonly server: VirtualSignalServer,
    private readonly client: FakeWebSocket,
    private readonly net: SignalNet,
  ) {}

  send(text: string): void {
    if (!this.open) return
    this.net.later(() => this.client.deliver(text))
  }

  receive(text: string): void {
    if (this.open) this.server.onMessage(this, text)
  }

  /** The client closed. */
  closed(): void {
    if (!this.open) return
    this.open = false
    this.server.deregister(this)
  }

  /** The server closes it (code 1001 when shutting down). */
  close(code: number): void {
    if (!this.open) return
    this.open = false
    this.server.deregister(this)
    this.net.later(() => this.client.closed(code))
  }
}

export class VirtualSignalServer {
  listening = true
  /** What GET /metrics counts, for the tests that read it. */
  readonly counts = { joins: 0, relayed: 0, hints: 0 }
  private readonly registry = new SortedRegistry<ServerEnd>()
  private readonly sessions = new Set<ServerEnd>()
  private readonly stored = new Map<string, StoredReport>()
  private readonly successorCount: number
  private readonly ringCheck: Subscription | null

  constructor(
    private readonly net: SignalNet,
    options: { ringCheckMs?: number; successorCount?: number },
  ) {
    this.successorCount = options.successorCount ?? DEFAULTS.successorCount
    const ringCheckMs = options.ringCheckMs ?? DEFAULTS.ringCheckMs
    // Reports that stopped changing get no answer on arrival: re-check them all now and then.
    this.ringCheck = ringCheckMs > 0 ? timer(ringCheckMs, ringCheckMs, net.scheduler).subscribe(() => this.sessions.forEach((s) => this.hintSuccessor(s))) : null
  }

  /** Joined peers (GET /health's `peers`). */
  get peers(): number {
    return this.registry.size
  }

  /** What GET /ring returns. */
  ring(): { peers: readonly string[]; reports: Record<string, StoredReport> } {
    return { peers: this.registry.ids(), reports: Object.fromEntries(this.stored) }
  }

  /** Stops: every client is closed with 1001, new connections are refused. */
  close(): void {
    this.listening = false
    this.ringCheck?.unsubscribe()
    for (const s of [...this.sessions]) s.close(1001)
  }

  accept(client: FakeWebSocket): ServerEnd {
    const end = new ServerEnd(this, client, this.net)
    this.sessions.add(end)
    this.challenge(end)
    return end
  }

  deregister(s: ServerEnd): void {
    this.sessions.delete(s)
    this.leave(s)
  }

  onMessage(s: ServerEnd, text: string): void {
    let msg: unknown
    try {
      msg = JSON.parse(text)
    } catch {
      return this.error(s, 'BAD_MESSAGE', 'message is not valid JSON')
    }
    if (!validateEnvelope(msg)) return this.error(s, 'BAD_MESSAGE', 'message must be a JSON object with a string "type"')
    switch (msg.type) {
      case 'join':
        return this.onJoin(s, msg)
      case 'signal':
        return this.onSignal(s, msg)
      case 'leave':
        if (!validateLeave(msg)) return this.fail(s, validateLeave)
        if (s.id === null) return this.error(s, 'NOT_JOINED', 'not joined, nothing to leave')
        this.leave(s)
        return this.challenge(s)
      case 'report':
        return this.onReport(s, msg)
      default:
        return this.error(s, 'BAD_MESSAGE', `unknown message type ${JSON.stringify(msg.type.slice(0, 32))}`)
    }
  }

  private challenge(s: ServerEnd): void {
    s.nonce = newNonce()
    s.send(JSON.stringify({ type: 'challenge', nonce: s.nonce }))
  }

  /** The real server's order: validate, prove (the same checkJoinProof), claim; a refusal opens a new challenge. */
  private onJoin(s: ServerEnd, msg: unknown): void {
    const refuse = (code: SignalErrorCode, message: string) => {
      this.error(s, code, message)
      this.challenge(s)
    }
    if (!validateJoin(msg)) {
      const { badId, text } = describeFailure(validateJoin)
      return refuse(badId ? 'BAD_ID' : 'BAD_MESSAGE', text)
    }
    if (s.id !== null) return refuse('BAD_MESSAGE', `already joined as ${s.id}; send {"type":"leave"} before joining again`)
    const failure = checkJoinProof(msg, s.nonce)
    if (failure !== null) return refuse(failure.code, failure.message)
    const id = msg.id
    if (!this.registry.add(id, s)) return refuse('ID_TAKEN', `id ${id} is held by another live connection`)
    s.id = id
    s.nonce = null
    this.counts.joins++
    const inRing = (peer: string) => this.stored.has(peer)
    const reply: JoinedReply = {
      type: 'joined',
      id,
      successors: this.registry.successors(id, this.successorCount),
      ring: ringSuccessors(this.registry, inRing, id, this.successorCount),
      predecessor: this.registry.predecessor(id),
      peers: this.registry.size,
      // The memory transport needs no ICE servers.
      iceServers: [],
    }
    s.send(JSON.stringify(reply))
  }

  private onSignal(s: ServerEnd, msg: unknown): void {
    if (!validateSignal(msg)) return this.fail(s, validateSignal)
    if (s.id === null) return this.error(s, 'NOT_JOINED', 'join before sending signals')
    const target = this.registry.get(msg.to)
    if (target === undefined) return this.error(s, 'UNKNOWN_PEER', `no peer with id ${msg.to} is joined`)
    target.send(SIGNAL_HEAD + s.id + SIGNAL_MIDDLE + JSON.stringify(msg.data) + '}')
    this.counts.relayed++
  }

  private onReport(s: ServerEnd, msg: unknown): void {
    if (!validateReport(msg)) return this.fail(s, validateReport)
    if (s.id === null) return this.error(s, 'NOT_JOINED', 'join before reporting ring state')
    this.stored.set(s.id, { successors: msg.successors.slice(), predecessor: msg.predecessor, fingers: msg.fingers.map((f) => ({ row: f.row, id: f.id })), at: this.net.scheduler.now() })
    this.hintSuccessor(s)
  }

  /** Tells `s` of a closer successor than the one it last reported, if the registry knows one. */
  private hintSuccessor(s: ServerEnd): void {
    const report = s.id === null ? undefined : this.stored.get(s.id)
    if (s.id === null || report === undefined || !s.open) return
    const hint = successorHint(this.registry, (peer) => this.stored.has(peer), s.id, report.successors[0])
    if (hint === null) return
    this.counts.hints++
    s.send(hintFrame(hint))
  }

  private leave(s: ServerEnd): void {
    const id = s.id
    if (id === null) return
    s.id = null
    if (this.registry.remove(id, s)) this.stored.delete(id)
  }

  private fail(s: ServerEnd, validate: ValidateFunction): void {
    const { badId, text } = describeFailure(validate)
    this.error(s, badId ? 'BAD_ID' : 'BAD_MESSAGE', text)
  }

  private error(s: ServerEnd, code: SignalErrorCode, message: string): void {
    s.send(errorFrame(code, message))
  }
}

/** A WebSocket constructor whose sockets connect through `net`. */
function webSocketOn(net: SignalNet): WebSocketConstructor {
  return class extends FakeWebSocket {
    constructor(url: string) {
      super(net, url)
    }
  }
}
