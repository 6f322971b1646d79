import type { FastifyInstance, FastifyServerOptions } from 'fastify'
import { DEFAULT_ADMISSION, type AdmissionOptions } from './admission'
import type { IceServer } from '../src/protocol/signal-server'
import type { StunResponderOptions, TurnOptions } from './ice-servers'
import { resolveRedisOptions, type RedisRegistryOptions, type ResolvedRedisOptions } from './redis/options'

/** Per-socket token bucket. Every incoming frame takes one token. */
export interface RateLimitOptions {
  /** Bucket size: how many messages a socket may send in one burst. */
  burst: number
  /** Refill rate in tokens (messages) per second. */
  perSecond: number
  /** Consecutive rate-limited messages after which the socket is closed with 1008. */
  closeAfter: number
}

export interface SignalServerOptions {
  /** Largest accepted WebSocket frame in bytes; bigger frames close the socket with 1009. Default 64 KiB. */
  maxPayload?: number
  /** Per-socket token bucket; `false` disables it. Default `{ burst: 200, perSecond: 50, closeAfter: 100 }`. */
  rateLimit?: Partial<RateLimitOptions> | false
  /** Most concurrent WebSocket connections (joined or not); further upgrades get HTTP 503. Default 10,000. */
  maxPeers?: number
  /** Ping every this many ms; a socket that has not answered the previous ping is terminated. 0 disables. Default 30,000. */
  heartbeatIntervalMs?: number
  /** If set, a WebSocket upgrade must carry one of these exact `Origin` values, else HTTP 403. */
  allowedOrigins?: readonly string[]
  /** How many successor ids the `joined` reply carries. Default 8. */
  successorCount?: number
  /** A peer whose outgoing buffer exceeds this many bytes is considered stuck and terminated. Default 4 MiB. */
  maxBufferedBytes?: number
  /** On close, how long to wait for clients to answer the 1001 close before terminating them. Default 2,000 ms. */
  closeTimeoutMs?: number
  /** Every this many ms, a peer whose reported successor skips a closer peer in the ring gets a `hint` (see ring-hints.ts). 0 disables. Default 2,000. */
  ringCheckMs?: number
  /** Joins per client address (live ids, join rate); `false` disables. Default `{ maxPeersPerAddress: 128, joinsPerSecond: 4, joinBurst: 64 }`. */
  admission?: Partial<AdmissionOptions> | false
  /**
   * Behind a reverse proxy or load balancer: which `X-Forwarded-For` hops to
   * believe for the client address (Fastify's `trustProxy`: true, a hop
   * count, or addresses/CIDRs). Default false: the TCP peer's address.
   * (Mounted as a plugin, the host app's own `trustProxy` applies.)
   */
  trustProxy?: FastifyServerOptions['trustProxy']
  /** Passed to Fastify (pino). Default off. */
  logger?: FastifyServerOptions['logger']
  /** Called with the app before any route of ours is added: register `GET /` (the dashboard) here. */
  dashboard?: (app: FastifyInstance) => void
  /** Our own STUN responder (docs/nat.md); `false` turns it off. Default: on, at the HTTP port's number over UDP. */
  stun?: StunResponderOptions | false
  /** More ICE servers handed to every peer as they are (e.g. another STUN server). */
  iceServers?: IceServer[]
  /** TURN servers sharing a secret with us (coturn's use-auth-secret): each peer gets its own short-lived credentials. */
  turn?: TurnOptions
  /** Share one registry among many instances through Redis/Valkey (a `redis://` URL, or `{ url, leaseMs, ... }`). Default: in memory. */
  redis?: string | RedisRegistryOptions
}

export interface ResolvedOptions {
  maxPayload: number
  rateLimit: RateLimitOptions | false
  maxPeers: number
  heartbeatIntervalMs: number
  allowedOrigins: ReadonlySet<string> | null
  successorCount: number
  maxBufferedBytes: number
  closeTimeoutMs: number
  ringCheckMs: number
  admission: AdmissionOptions | false
  redis: ResolvedRedisOptions | null
}

export const DEFAULT_RATE_LIMIT: RateLimitOptions = { burst: 200, perSecond: 50, closeAfter: 100 }

export const DEFAULTS = {
  maxPayload: 64 * 1024,
  maxPeers: 10_000,
  heartbeatIntervalMs: 30_000,
  successorCount: 8,
  maxBufferedBytes: 4 * 1024 * 1024,
  closeTimeoutMs: 2_000,
  ringCheckMs: 2_000,
} as const

function check(name: string, value: number, min: number, integer = true): number {
  if (typeof value !== 'number' || Number.isNaN(value) || value < min || (integer && !Number.isInteger(value))) {
    throw new TypeError(`createSignalServer: ${name} must be ${integer ? 'an integer' : 'a number'} >= ${min}, got ${String(value)}`)
  }
  return value
}

/** Applies defaults and rejects nonsense at once (misuse throws). */
export function resolveOptions(options: SignalServerOptions = {}): ResolvedOptions {
  let rateLimit: RateLimitOptions | false = false
  if (options.rateLimit !== false) {
    const r = { ...DEFAULT_RATE_LIMIT, ...(options.rateLimit ?? {}) }
    rateLimit = {
      burst: check('rateLimit.burst', r.burst, 1, false),
      perSecond: check('rateLimit.perSecond', r.perSecond, 0, false),
      closeAfter: check('rateLimit.closeAfter', r.closeAfter, 1),
    }
  }
  return {
    maxPayload: check('maxPayload', options.maxPayload ?? DEFAULTS.maxPayload, 64),
    rateLimit,
    maxPeers: check('maxPeers', options.maxPeers ?? DEFAULTS.maxPeers, 1),
    heartbeatIntervalMs: check('heartbeatIntervalMs', options.heartbeatIntervalMs ?? DEFAULTS.heartbeatIntervalMs, 0),
    allowedOrigins: options.allowedOrigins ? new Set(options.allowedOrigins) : null,
    successorCount: check('successorCount', options.successorCount ?? DEFAULTS.successorCount, 0),
    maxBufferedBytes: check('maxBufferedBytes', options.maxBufferedBytes ?? DEFAULTS.maxBufferedBytes, 1024),
    closeTimeoutMs: check('closeTimeoutMs', options.closeTimeoutMs ?? DEFAULTS.closeTimeoutMs, 0),
    ringCheckMs: check('ringCheckMs', options.ringCheckMs ?? DEFAULTS.ringCheckMs, 0),
    admission: resolveAdmission(options.admission),
    redis: options.redis === undefined ? null : resolveRedisOptions(options.redis),
  }
}

function resolveAdmission(option: SignalServerOptions['admission']): AdmissionOptions | false {
  if (option === false) return false
  const a = { ...DEFAULT_ADMISSION, ...(option ?? {}) }
  return {
    maxPeersPerAddress: check('admission.maxPeersPerAddress', a.maxPeersPerAddress, 1),
    joinsPerSecond: check('admission.joinsPerSecond', a.joinsPerSecond, 0, false),
    joinBurst: check('admission.joinBurst', a.joinBurst, 1, false),
  }
}
