import Fastify, { type FastifyInstance, type FastifyReply, type FastifyRequest, type HookHandlerDoneFunction } from 'fastify'
import fastifyWebsocket from '@fastify/websocket'
import type { RawData, WebSocket } from 'ws'
import type { ServerResponse } from 'node:http'
import { hostOf, resolveIceOptions } from './ice-servers'
import { IceService } from './ice-service'
import { Metrics } from './metrics'
import { resolveOptions, type SignalServerOptions } from './options'
import {
  CLOSE_GOING_AWAY,
  CLOSE_POLICY_VIOLATION,
  RATE_LIMITED_FRAME,
  errorFrame,
  hintFrame,
  SIGNAL_HEAD,
  SIGNAL_MIDDLE,
  type JoinedReply,
  type SignalErrorCode,
} from './protocol'
import { Admission } from './admission'
import { checkJoinProof, newNonce } from './join-proof'
import { SortedRegistry } from './registry'
import { DebugRequestLog } from './request-log'
import { ringSuccessors, successorHint } from './ring-hints'
import {
  describeFailure,
  validateEnvelope,
  validateJoin,
  validateLeave,
  validateReport,
  validateSignal,
} from './schemas'
import { Session } from './session'
import { WriteBatcher } from './write-batch'
import type { ValidateFunction } from 'ajv'

const OPEN = 1
const CLOSED = 3

const kSession = Symbol('signal-session')
type SessionSocket = WebSocket & { [kSession]: Session }
const sessionOf = (socket: WebSocket): Session => (socket as SessionSocket)[kSession]

export interface StoredReport {
  successors: string[]
  predecessor: string | null
  fingers: Array<{ row: number; id: string }>
  /** Server time the report arrived, ms since the epoch. */
  at: number
}

export interface RingSnapshot {
  peers: readonly string[]
  reports: Record<string, StoredReport>
}

/**
 * Builds the signalling server: WebSocket `/ws` plus `/health`, `/metrics`
 * and `/ring`. Returns the Fastify instance, not yet listening; add more
 * routes (e.g. the dashboard at `GET /`) before `listen()`.
 */
export function createSignalServer(options: SignalServerOptions = {}): FastifyInstance {
  const app = Fastify({ logger: options.logger ?? false, logController: new DebugRequestLog(), trustProxy: options.trustProxy ?? false })
  mountSignalServer(app, options)
  return app
}

/** Adds the signalling server's routes and hooks to `app`: createSignalServer's own, or a plugin's context (plugin.ts). */
export function mountSignalServer(app: FastifyInstance, options: SignalServerOptions = {}): void {
  const opts = resolveOptions(options)
  const registry = new SortedRegistry<Session>()
  const sessions = new Set<Session>()
  const reports = new Map<string, StoredReport>()
  const metrics = new Metrics()
  const rate = opts.rateLimit
  const admission = opts.admission ? new Admission(opts.admission) : null
  const batch = new WriteBatcher()
  const ice = new IceService(resolveIceOptions(options), app.log)
  ice.attach(app.server)
  let heartbeat: NodeJS.Timeout | null = null
  let ringCheck: NodeJS.Timeout | null = null

  if (options.dashboard) options.dashboard(app)

  // ---- replies -------------------------------------------------------------

  function sendError(s: Session, code: SignalErrorCode, message: string): void {
    metrics.errors[code]++
    if (s.socket.readyState === OPEN) batch.send(s.socket, errorFrame(code, message))
  }

  function fail(s: Session, validate: ValidateFunction): void {
    const { badId, text } = describeFailure(validate)
    sendError(s, badId ? 'BAD_ID' : 'BAD_MESSAGE', text)
  }

  /** The server gives up on a socket: its id is free at once, later frames are ignored. */
  function closeSession(s: Session, code: number, reason: string): void {
    s.closing = true
    deregister(s)
    batch.flushNow()
    s.socket.close(code, reason)
  }

  function terminateSession(s: Session): void {
    s.closing = true
    deregister(s)
    s.socket.terminate()
  }

  // ---- message handlers ----------------------------------------------------

  /** A fresh challenge: the next join on this socket must sign its nonce. */
  function challenge(s: Session): void {
    s.nonce = newNonce()
    if (s.socket.readyState === OPEN) batch.send(s.socket, JSON.stringify({ type: 'challenge', nonce: s.nonce }))
  }

  function refuseJoin(s: Session, code: SignalErrorCode, message: string): void {
    sendError(s, code, message)
    challenge(s)
  }

  /**
   * validate → admission (rate, per-address cap) → proof (id from key,
   * signature over the nonce) → registry claim → joined. Every refusal
   * opens a new challenge; a used nonce is never accepted twice.
   */
  function onJoin(s: Session, msg: unknown): void {
    if (!validateJoin(msg)) {
      const { badId, text } = describeFailure(validateJoin)
      return refuseJoin(s, badId ? 'BAD_ID' : 'BAD_MESSAGE', text)
    }
    if (s.id !== null) {
      return refuseJoin(s, 'BAD_MESSAGE', `already joined as ${s.id}; send {"type":"leave"} before joining again`)
    }
    const verdict = admission?.attempt(s.address) ?? 'ok'
    if (verdict === 'RATE_LIMITED') return refuseJoin(s, 'RATE_LIMITED', 'too many joins from this address; slow down')
    const failure = checkJoinProof(msg, s.nonce)
    if (failure !== null) return refuseJoin(s, failure.code, failure.message)
    if (verdict === 'TOO_MANY_PEERS') return refuseJoin(s, 'TOO_MANY_PEERS', `this address already holds ${opts.admission ? opts.admission.maxPeersPerAddress : 0} ids`)
    const id = msg.id
    if (!registry.add(id, s)) return refuseJoin(s, 'ID_TAKEN', `id ${id} is held by another live connection`)
    s.id = id
    s.nonce = null
    admission?.joined(s.address)
    metrics.joinsTotal++
    app.log.debug({ id, peers: registry.size }, 'peer joined')
    const reply: JoinedReply = {
      type: 'joined',
      id,
      successors: registry.successors(id, opts.successorCount),
      ring: ringSuccessors(registry, (peer) => reports.has(peer), id, opts.successorCount),
      predecessor: registry.predecessor(id),
      peers: registry.size,
      iceServers: ice.issue(s, id),
    }
    batch.send(s.socket, JSON.stringify(reply))
  }

  function onSignal(s: Session, msg: unknown): void {
    if (!validateSignal(msg)) return fail(s, validateSignal)
    if (s.id === null) return sendError(s, 'NOT_JOINED', 'join before sending signals')
    const target = registry.get(msg.to)
    if (target === undefined) return sendError(s, 'UNKNOWN_PEER', `no peer with id ${msg.to} is joined`)
    let data: string
    try {
      data = JSON.stringify(msg.data)
    } catch {
      // V8 parses deep nesting iteratively but stringifies it recursively.
      return sendError(s, 'BAD_MESSAGE', 'data is nested too deeply to relay')
    }
    const socket = target.socket
    if (socket.bufferedAmount > opts.maxBufferedBytes) {
      // The target does not read: it is dead or hostile. Drop it rather than buffer without bound.
      metrics.closed.stuck++
      app.log.info({ id: target.id, buffered: socket.bufferedAmount }, 'terminating a peer that stopped reading')
      terminateSession(target)
      return sendError(s, 'UNKNOWN_PEER', `peer ${msg.to} is not reading; dropped`)
    }
    batch.send(socket, SIGNAL_HEAD + s.id + SIGNAL_MIDDLE + data + '}')
    metrics.messagesRelayed++
  }

  function deregister(s: Session): void {
    const id = s.id
    if (id === null) return
    s.id = null
    admission?.left(s.address)
    if (registry.remove(id, s)) {
      reports.delete(id)
      app.log.debug({ id, peers: registry.size }, 'peer left')
    }
  }

  function onLeave(s: Session, msg: unknown): void {
    if (!validateLeave(msg)) return fail(s, validateLeave)
    if (s.id === null) return sendError(s, 'NOT_JOINED', 'not joined, nothing to leave')
    deregister(s)
    challenge(s)
  }

  function onReport(s: Session, msg: unknown): void {
    if (!validateReport(msg)) return fail(s, validateReport)
    if (s.id === null) return sendError(s, 'NOT_JOINED', 'join before reporting ring state')
    // Copy field by field: nothing the client sent beyond the schema is kept.
    reports.set(s.id, {
      successors: msg.successors.slice(),
      predecessor: msg.predecessor,
      fingers: msg.fingers.map((f) => ({ row: f.row, id: f.id })),
      at: Date.now(),
    })
    hintSuccessor(s)
  }

  /** Tells `s` of a closer successor than the one it last reported, if the registry knows one. */
  function hintSuccessor(s: Session): void {
    const id = s.id
    const report = id === null ? undefined : reports.get(id)
    if (id === null || report === undefined || s.closing || s.socket.readyState !== OPEN) return
    const hint = successorHint(registry, (peer) => reports.has(peer), id, report.successors[0])
    if (hint === null) return
    metrics.hintsSent++
    batch.send(s.socket, hintFrame(hint))
  }

  function onMessage(s: Session, raw: RawData, isBinary: boolean): void {
    if (s.closing) return
    metrics.messagesReceived++
    if (rate && !s.take(rate)) {
      metrics.errors.RATE_LIMITED++
      if (++s.strikes >= rate.closeAfter) {
        metrics.closed.flood++
        app.log.info({ id: s.id, strikes: s.strikes }, 'closing a socket that keeps flooding')
        return closeSession(s, CLOSE_POLICY_VIOLATION, 'rate limit exceeded')
      }
      batch.send(s.socket, RATE_LIMITED_FRAME)
      return
    }
    s.strikes = 0
    if (isBinary) return sendError(s, 'BAD_MESSAGE', 'binary frames are not accepted; send JSON text')
    let msg: unknown
    try {
      msg = JSON.parse(raw.toString())
    } catch {
      return sendError(s, 'BAD_MESSAGE', 'message is not valid JSON')
    }
    if (!validateEnvelope(msg)) return sendError(s, 'BAD_MESSAGE', 'message must be a JSON object with a string "type"')
    switch (msg.type) {
      case 'signal': return onSignal(s, msg)
      case 'join': return onJoin(s, msg)
      case 'leave': return onLeave(s, msg)
      case 'report': return onReport(s, msg)
      default:
        return sendError(s, 'BAD_MESSAGE', `unknown message type ${JSON.stringify(msg.type.slice(0, 32))}`)
    }
  }

  // ---- connections ---------------------------------------------------------

  function onSocketError(this: WebSocket, error: Error): void {
    // ws has already sent the right close frame (1009 for oversize frames); just account for it.
    if ((error as { code?: string }).code === 'WS_ERR_UNSUPPORTED_MESSAGE_LENGTH') metrics.closed.oversize++
    app.log.debug({ err: error }, 'websocket error')
    if (this.readyState === OPEN) this.terminate()
  }

  /**
   * Once upgraded, nothing should keep the HTTP request alive: @fastify/websocket's
   * error listener closes over the Fastify request and reply, and the ServerResponse
   * it created stays assigned to the TCP socket. Dropping both saves a few KiB per
   * connection (tens of MiB at 10,000 peers).
   */
  function releaseUpgradeRequest(socket: WebSocket, request: FastifyRequest): void {
    // Add ours before removing theirs: emptying a listener slot `delete`s it, which
    // turns the emitter's _events into a slow dictionary object (~200 bytes more).
    const theirs = socket.listeners('error') as Array<(...args: unknown[]) => void>
    socket.on('error', onSocketError)
    for (const listener of theirs) socket.removeListener('error', listener)
    const tcp = request.raw.socket as (typeof request.raw.socket & { _httpMessage?: ServerResponse | null }) | null
    const response = tcp?._httpMessage
    if (tcp && response) response.detachSocket(tcp)
  }

  // One shared set of listeners for every socket (ws calls them with `this` = the
  // socket) instead of three closures per connection: ~200 bytes less per peer.
  function onSocketMessage(this: WebSocket, raw: RawData, isBinary: boolean): void {
    onMessage(sessionOf(this), raw, isBinary)
  }
  function onSocketPong(this: WebSocket): void {
    sessionOf(this).alive = true
  }
  function onSocketClose(this: WebSocket): void {
    const s = sessionOf(this)
    sessions.delete(s)
    deregister(s)
  }

  function onConnection(socket: WebSocket, request: FastifyRequest): void {
    releaseUpgradeRequest(socket, request)
    const s = new Session(socket, rate ? rate.burst : 0, Admission.keyOf(request.ip))
    s.host = hostOf(request.headers.host)
    ;(socket as SessionSocket)[kSession] = s
    sessions.add(s)
    metrics.connectionsTotal++
    socket.on('message', onSocketMessage)
    socket.on('pong', onSocketPong)
    socket.on('close', onSocketClose)
    challenge(s)
  }

  function guardUpgrade(request: FastifyRequest, reply: FastifyReply, done: HookHandlerDoneFunction): void {
    if (!request.ws) return done()
    if (opts.allowedOrigins) {
      const origin = request.headers.origin
      if (origin === undefined || !opts.allowedOrigins.has(origin)) {
        metrics.rejectedUpgrades.origin++
        request.log.info({ origin }, 'websocket upgrade refused: origin not allowed')
        void reply.code(403).send({ error: 'origin not allowed' })
        return
      }
    }
    if (sessions.size >= opts.maxPeers) {
      metrics.rejectedUpgrades.capacity++
      request.log.warn({ maxPeers: opts.maxPeers }, 'websocket upgrade refused: server full')
      void reply.code(503).send({ error: 'server full' })
      return
    }
    done()
  }

  function tick(): void {
    for (const s of sessions) {
      if (s.closing) continue
      if (!s.alive) {
        metrics.closed.heartbeat++
        app.log.debug({ id: s.id }, 'terminating a socket that missed a pong')
        terminateSession(s)
        continue
      }
      s.alive = false
      if (s.socket.readyState === OPEN) s.socket.ping()
    }
  }

  function stopTimers(): void {
    if (heartbeat) clearInterval(heartbeat)
    if (ringCheck) clearInterval(ringCheck)
    heartbeat = ringCheck = null
    ice.close()
  }

  /** Close every client with 1001, wait (bounded) for them to go, then stop the ws server. */
  async function preClose(): Promise<void> {
    stopTimers()
    const open = [...sessions].filter((s) => s.socket.readyState !== CLOSED)
    metrics.closed.shutdown += open.length
    const gone = open.map(
      (s) =>
        new Promise<void>((resolve) => {
          s.socket.once('close', () => resolve())
          closeSession(s, CLOSE_GOING_AWAY, 'server shutting down')
        }),
    )
    let timer: NodeJS.Timeout | undefined
    await Promise.race([
      Promise.all(gone),
      new Promise<void>((resolve) => {
        timer = setTimeout(resolve, opts.closeTimeoutMs)
      }),
    ])
    clearTimeout(timer)
    for (const s of sessions) s.socket.terminate()
    await new Promise<void>((resolve) => app.websocketServer.close(() => resolve()))
  }

  app.register(fastifyWebsocket, {
    options: { maxPayload: opts.maxPayload, perMessageDeflate: false, clientTracking: false },
    preClose,
    // Only reached for errors before our handler runs; afterwards onSocketError takes over.
    errorHandler(error, socket) {
      onSocketError.call(socket, error)
    },
  })

  app.register(async (instance) => {
    instance.get('/ws', { websocket: true, onRequest: guardUpgrade }, (socket, request) => onConnection(socket, request))
  })

  app.get('/health', async () => ({ status: 'ok', peers: registry.size }))

  app.get('/metrics', async (_request, reply) => {
    void reply.type('text/plain; version=0.0.4; charset=utf-8')
    return metrics.render(registry.size, sessions.size)
  })

  app.get('/ring', async (): Promise<RingSnapshot> => ({
    peers: registry.ids(),
    reports: Object.fromEntries(reports),
  }))

  app.addHook('onReady', async () => {
    if (opts.heartbeatIntervalMs > 0) {
      heartbeat = setInterval(tick, opts.heartbeatIntervalMs)
      heartbeat.unref()
    }
    // Reports that stopped changing get no answer on arrival: re-check them all now and then.
    if (opts.ringCheckMs > 0) {
      ringCheck = setInterval(() => sessions.forEach(hintSuccessor), opts.ringCheckMs)
      ringCheck.unref()
    }
    ice.startRenewals(sessions, (s, text) => {
      if (s.socket.readyState === OPEN) batch.send(s.socket, text)
    })
  })
  app.addHook('onClose', async () => stopTimers())
}
