import Fastify, { type FastifyInstance, type FastifyReply, type FastifyRequest, type HookHandlerDoneFunction } from 'fastify'
import fastifyWebsocket from '@fastify/websocket'
import type { RawData, WebSocket } from 'ws'
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
  type SignalErrorCode,
} from './protocol'
import { Admission } from './admission'
import { checkJoinProof, newNonce } from './join-proof'
import { MemoryRegistry } from './memory-registry'
import type { Claim, PeerRegistry, RegistryHooks, RingView } from './peer-registry'
import { RedisRegistry } from './redis/registry'
import { DebugRequestLog } from './request-log'
import { joinedReply, successorHint } from './ring-hints'
import { registerRoutes } from './routes'
import {
  describeFailure,
  validateEnvelope,
  validateJoin,
  validateLeave,
  validateReport,
  validateSignal,
} from './schemas'
import { Session } from './session'
import { releaseUpgradeRequest } from './upgrade'
import { WriteBatcher } from './write-batch'
import type { ValidateFunction } from 'ajv'

const OPEN = 1
const CLOSED = 3

const kSession = Symbol('signal-session')
type SessionSocket = WebSocket & { [kSession]: Session }
const sessionOf = (socket: WebSocket): Session => (socket as SessionSocket)[kSession]

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
  const sessions = new Set<Session>()
  const metrics = new Metrics()
  const rate = opts.rateLimit
  const admission = opts.admission ? new Admission(opts.admission) : null
  const batch = new WriteBatcher()
  const ice = new IceService(resolveIceOptions(options), app.log)
  ice.attach(app.server)
  let heartbeat: NodeJS.Timeout | null = null
  let ringCheck: NodeJS.Timeout | null = null

  const hooks: RegistryHooks = {
    deliver,
    refuse(sender, code, message) {
      if (!sender.closing) sendError(sender, code, message)
    },
    evict(s, reason) {
      // The registry has dropped the id already: only this instance's own accounts are left to settle.
      s.id = null
      admission?.left(s.address)
      sendError(s, 'ID_TAKEN', reason)
      closeSession(s, CLOSE_GOING_AWAY, 'id owned at another instance')
    },
  }
  const registry: PeerRegistry = opts.redis ? new RedisRegistry(opts.redis, hooks, app.log, opts.ringCheckMs) : new MemoryRegistry()

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
   * signature over the nonce) → registry claim → joined. The claim (in memory
   * at once; clustered, a round trip to Redis) comes only after the proof and
   * admission passed. Every refusal opens a new challenge; a used nonce is
   * never accepted twice.
   */
  function onJoin(s: Session, msg: unknown): void {
    if (!validateJoin(msg)) {
      const { badId, text } = describeFailure(validateJoin)
      return refuseJoin(s, badId ? 'BAD_ID' : 'BAD_MESSAGE', text)
    }
    if (s.id !== null) {
      return refuseJoin(s, 'BAD_MESSAGE', `already joined as ${s.id}; send {"type":"leave"} before joining again`)
    }
    if (s.joining !== null) return refuseJoin(s, 'BAD_MESSAGE', `a join as ${s.joining} is in progress`)
    const verdict = admission?.attempt(s.address) ?? 'ok'
    if (verdict === 'RATE_LIMITED') return refuseJoin(s, 'RATE_LIMITED', 'too many joins from this address; slow down')
    const failure = checkJoinProof(msg, s.nonce)
    if (failure !== null) return refuseJoin(s, failure.code, failure.message)
    if (verdict === 'TOO_MANY_PEERS') return refuseJoin(s, 'TOO_MANY_PEERS', `this address already holds ${opts.admission ? opts.admission.maxPeersPerAddress : 0} ids`)
    s.nonce = null
    // Counted from the claim on, so that joins in flight together cannot pass the address's cap.
    admission?.joined(s.address)
    claimId(s, msg.id)
  }

  function claimId(s: Session, id: string): void {
    const claim = registry.claim(id, s, '')
    if (!(claim instanceof Promise)) return answerJoin(s, id, claim)
    s.joining = id
    const landed = (result: Claim): void => {
      if (s.joining !== id) {
        // Left or closed while the claim was in flight (cancelJoin settled the address's count).
        if (result.ok) registry.release(id, s)
        return
      }
      s.joining = null
      answerJoin(s, id, result)
    }
    claim.then(landed, () => landed({ ok: false, code: 'REGISTRY_UNAVAILABLE', message: `cannot claim ${id}: the shared registry failed; retry later` }))
  }

  function answerJoin(s: Session, id: string, claim: Claim): void {
    if (!claim.ok) {
      admission?.left(s.address)
      return refuseJoin(s, claim.code, claim.message)
    }
    s.id = id
    metrics.joinsTotal++
    app.log.debug({ id, peers: registry.localSize }, 'peer joined')
    batch.send(s.socket, JSON.stringify(joinedReply(id, claim.view, opts.successorCount, ice.issue(s, id))))
  }

  /** A leave or close while a claim is in flight cancels the join (the claim is released when it lands). False: none was. */
  function cancelJoin(s: Session): boolean {
    if (s.joining === null) return false
    s.joining = null
    admission?.left(s.address)
    return true
  }

  function onSignal(s: Session, msg: unknown): void {
    if (!validateSignal(msg)) return fail(s, validateSignal)
    if (s.id === null) return sendError(s, 'NOT_JOINED', 'join before sending signals')
    const target = registry.local(msg.to)
    if (target === undefined && !registry.clustered) return sendError(s, 'UNKNOWN_PEER', `no peer with id ${msg.to} is joined`)
    let data: string
    try {
      data = JSON.stringify(msg.data)
    } catch {
      // V8 parses deep nesting iteratively but stringifies it recursively.
      return sendError(s, 'BAD_MESSAGE', 'data is nested too deeply to relay')
    }
    const frame = SIGNAL_HEAD + s.id + SIGNAL_MIDDLE + data + '}'
    // Not joined here: the registry relays it to the instance that has it, or answers UNKNOWN_PEER later.
    if (target === undefined) return registry.forward(s, msg.to, frame)
    if (!deliver(target, frame)) sendError(s, 'UNKNOWN_PEER', `peer ${msg.to} is not reading; dropped`)
  }

  /** Sends a signal frame to a peer joined here; false when the peer was stuck and is dropped instead. */
  function deliver(target: Session, frame: string | Buffer): boolean {
    const socket = target.socket
    if (socket.bufferedAmount > opts.maxBufferedBytes) {
      // The target does not read: it is dead or hostile. Drop it rather than buffer without bound.
      metrics.closed.stuck++
      app.log.info({ id: target.id, buffered: socket.bufferedAmount }, 'terminating a peer that stopped reading')
      terminateSession(target)
      return false
    }
    batch.send(socket, frame)
    metrics.messagesRelayed++
    return true
  }

  function deregister(s: Session): void {
    cancelJoin(s)
    const id = s.id
    if (id === null) return
    s.id = null
    admission?.left(s.address)
    if (registry.release(id, s)) app.log.debug({ id, peers: registry.localSize }, 'peer left')
  }

  function onLeave(s: Session, msg: unknown): void {
    if (!validateLeave(msg)) return fail(s, validateLeave)
    if (cancelJoin(s)) return challenge(s)
    if (s.id === null) return sendError(s, 'NOT_JOINED', 'not joined, nothing to leave')
    deregister(s)
    challenge(s)
  }

  function onReport(s: Session, msg: unknown): void {
    if (!validateReport(msg)) return fail(s, validateReport)
    if (s.id === null) return sendError(s, 'NOT_JOINED', 'join before reporting ring state')
    const id = s.id
    // Copy field by field: nothing the client sent beyond the schema is kept.
    const view = registry.report(id, {
      successors: msg.successors.slice(),
      predecessor: msg.predecessor,
      fingers: msg.fingers.map((f) => ({ row: f.row, id: f.id })),
      at: Date.now(),
    })
    if (!(view instanceof Promise)) return hintSuccessor(s, view)
    view.then(
      (fresh) => {
        if (s.id === id) hintSuccessor(s, fresh)
      },
      () => undefined, // no hint this time; the sweep tries again
    )
  }

  /** Tells `s` of a closer successor than the one it last reported, if the registry knows one. */
  function hintSuccessor(s: Session, view: RingView | null): void {
    const id = s.id
    const report = id === null ? undefined : registry.reportOf(id)
    if (id === null || report === undefined || view === null || s.closing || s.socket.readyState !== OPEN) return
    const hint = successorHint(view, (peer) => view.inRing(peer), id, report.successors[0])
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
    releaseUpgradeRequest(socket, request, onSocketError)
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

  registerRoutes(app, registry, metrics, () => sessions.size)

  app.addHook('onReady', async () => {
    if (opts.heartbeatIntervalMs > 0) {
      heartbeat = setInterval(tick, opts.heartbeatIntervalMs)
      heartbeat.unref()
    }
    // Reports that stopped changing get no answer on arrival: re-check them all now and then.
    if (opts.ringCheckMs > 0) {
      ringCheck = setInterval(() => {
        const view = registry.sweepView()
        if (view !== null) sessions.forEach((s) => hintSuccessor(s, view))
      }, opts.ringCheckMs)
      ringCheck.unref()
    }
    ice.startRenewals(sessions, (s, text) => {
      if (s.socket.readyState === OPEN) batch.send(s.socket, text)
    })
    await registry.start()
  })
  app.addHook('onClose', async () => {
    stopTimers()
    await registry.close()
  })
}
