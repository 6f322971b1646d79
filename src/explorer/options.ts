import { asyncScheduler, type SchedulerLike } from 'rxjs'
import { ExplorerError } from '../errors'
import { isIdentity, newIdentity, type Identity } from '../identity'
import { parseId } from '../ids'
import { RING_DEFAULTS, type RingTimingOptions } from '../ring/options'
import type { AbusePolicy } from '../router/router'
import { resolveSocketOptions, type ResolvedSocketOptions, type SocketOptions } from '../sockets/options'
import type { Transport } from '../transport/types'
import type { WrtcImpl } from '../transport/webrtc'
import { resolveWebSocket, type WebSocketConstructor } from './websocket'

export interface ExplorerOptions extends Partial<RingTimingOptions>, SocketOptions {
  /**
   * The signalling server's WebSocket URL, e.g. `wss://signal.example.org/ws`. Required.
   * Several (instances of one cluster): the explorer starts at a random one and moves to the next whenever a connection fails or is lost.
   */
  signalUrl: string | readonly string[]
  /**
   * Who this peer is: its id is derived from the identity's key. Default: a
   * fresh one (a new id every run); persist `identity.export()` and pass
   * `await importIdentity(saved)` to keep an id (docs/api.md, "Identity").
   */
  identity?: Identity
  /** WebRTC implementation: the browser's by default; in Node pass `require('@roamhq/wrtc')`. */
  wrtc?: WrtcImpl
  /** RTCPeerConnections this peer creates per minute at most, in bursts of up to half that (browsers cap a tab's total; a joining peer opens 20–40). Default 120. */
  maxPeersPerMinute?: number
  /** STUN/TURN servers for WebRTC. Default: those the signalling server hands out (its own STUN, TURN if configured; docs/nat.md). */
  iceServers?: RTCIceServer[]
  /** Finger channels kept at most. Default 16. */
  maxFingers?: number
  /** Successor list length. Default 16. */
  successors?: number
  /** False: no relayed links (a peer then cannot keep a successor, predecessor or finger it has no direct path to). Default true. */
  relayedLinks?: boolean
  /** A direct channel whose remote answered but that is not open after this long gets a relayed link beside it. Default 1500. */
  relayAfterMs?: number
  /** False: a channel whose network path went down is dropped and replaced, never renewed by an ICE restart (docs/nat.md). Default true. */
  iceRestarts?: boolean
  /** Direct channels kept at most. Default 256. */
  maxChannels?: number
  /** Independent routes each lookup asks over (1 to 16). Default 6 (docs/protocol.md, "Lookups you can check"). */
  lookupRoutes?: number
  /** Routes the ring's own finger lookups ask over (1 to 16). Default 1: they are most of its traffic (docs/reliability.md, "Lookups under attack"). */
  fingerLookupRoutes?: number
  /** When a neighbour's malformed frames get its channel closed. Default 16 within 10 s (docs/protocol.md, "Hostile input"). */
  abusePolicy?: Partial<AbusePolicy>
  /** WebSocket constructor: default the global one, else the `ws` package (Node 20). */
  WebSocket?: WebSocketConstructor
  /** How long the server may take to answer a join. Default 10 s. */
  serverTimeoutMs?: number
  /** Rounds of asking the server for bootstrap peers before listen() fails with JOIN_FAILED. Default 10. */
  joinAttempts?: number
  /** listen() fails with JOIN_FAILED when not in the ring by then. Default 30 s. */
  joinTimeoutMs?: number
  /** Reconnecting to a lost server backs off from this... Default 1 s. */
  reconnectMinMs?: number
  /** ...to at most this (with jitter). Default 30 s. */
  reconnectMaxMs?: number
  /** Ring state is reported to the server (for GET /ring and the dashboard) at most this often. Default 1 s. */
  reportMs?: number
  /** Advanced: channels from this transport instead of WebRTC (the in-memory one in tests and simulation). */
  transport?: Transport
  /** Advanced: every timer of the peer runs here (a virtual-time scheduler in tests). Default: rxjs `asyncScheduler`. */
  scheduler?: SchedulerLike
  /** Advanced: randomness for jitter and request ids (a seeded one in tests). Default: `Math.random`. */
  random?: () => number
}

export interface ResolvedExplorerOptions {
  signalUrl: readonly string[]
  identity: Identity
  id: number
  ring: RingTimingOptions & { maxFingers: number; successors: number; maxChannels: number; lookupRoutes: number; fingerLookupRoutes: number; abusePolicy: Partial<AbusePolicy>; relayedLinks: boolean; relayAfterMs: number; iceRestarts: boolean }
  sockets: ResolvedSocketOptions
  WebSocket: WebSocketConstructor
  serverTimeoutMs: number
  joinAttempts: number
  joinTimeoutMs: number
  reconnectMinMs: number
  reconnectMaxMs: number
  reportMs: number
  scheduler: SchedulerLike
  random: () => number
}

const EXPLORER_DEFAULTS = {
  serverTimeoutMs: 10_000,
  joinAttempts: 10,
  joinTimeoutMs: 30_000,
  reconnectMinMs: 1000,
  reconnectMaxMs: 30_000,
  reportMs: 1000,
}

/** Fills defaults; any misuse throws BAD_OPTIONS (or BAD_ID) at once. */
export function resolveExplorerOptions(options: ExplorerOptions): ResolvedExplorerOptions {
  if (typeof options !== 'object' || options === null) throw bad('createExplorer needs an options object with signalUrl')
  const signalUrl = checkUrls(options.signalUrl)
  if ('id' in options) throw bad('the id option is gone: ids are derived from keys. Pass identity: await importIdentity(saved) to keep an id (docs/api.md)')
  if (options.identity !== undefined && !isIdentity(options.identity)) throw bad('identity must come from createIdentity() or importIdentity()')
  const identity = options.identity ?? newIdentity()
  const number = (name: keyof ExplorerOptions, fallback: number, min = 0): number => {
    const value = options[name] ?? fallback
    if (typeof value !== 'number' || !Number.isFinite(value) || value < min) throw bad(`${name} must be a finite number ≥ ${min}, got ${String(value)}`)
    return value
  }
  const resolved: ResolvedExplorerOptions = {
    signalUrl,
    identity,
    id: parseId(identity.id),
    ring: {
      stabilizeMs: number('stabilizeMs', RING_DEFAULTS.stabilizeMs, 1),
      fixFingersMs: number('fixFingersMs', RING_DEFAULTS.fixFingersMs, 1),
      rpcTimeoutMs: number('rpcTimeoutMs', RING_DEFAULTS.rpcTimeoutMs, 1),
      connectTimeoutMs: number('connectTimeoutMs', RING_DEFAULTS.connectTimeoutMs, 1),
      maxFingers: number('maxFingers', RING_DEFAULTS.maxFingers, 1),
      successors: number('successors', RING_DEFAULTS.successors, 1),
      maxChannels: number('maxChannels', RING_DEFAULTS.maxChannels, 1),
      // At most 16 and whole: checked by the ring's lookups and fix-fingers (BAD_OPTIONS), when the ring node is built.
      lookupRoutes: number('lookupRoutes', RING_DEFAULTS.lookupRoutes, 1),
      fingerLookupRoutes: number('fingerLookupRoutes', RING_DEFAULTS.fingerLookupRoutes, 1),
      // Checked by the router (BAD_OPTIONS), when the ring node is built.
      abusePolicy: options.abusePolicy ?? {},
      relayedLinks: flag(options.relayedLinks, 'relayedLinks', true),
      relayAfterMs: number('relayAfterMs', RING_DEFAULTS.relayAfterMs, 0),
      iceRestarts: flag(options.iceRestarts, 'iceRestarts', true),
    },
    sockets: resolveSocketOptions(options),
    WebSocket: resolveWebSocket(options.WebSocket),
    serverTimeoutMs: number('serverTimeoutMs', EXPLORER_DEFAULTS.serverTimeoutMs, 1),
    joinAttempts: number('joinAttempts', EXPLORER_DEFAULTS.joinAttempts, 1),
    joinTimeoutMs: number('joinTimeoutMs', EXPLORER_DEFAULTS.joinTimeoutMs, 1),
    reconnectMinMs: number('reconnectMinMs', EXPLORER_DEFAULTS.reconnectMinMs, 1),
    reconnectMaxMs: number('reconnectMaxMs', EXPLORER_DEFAULTS.reconnectMaxMs, 1),
    reportMs: number('reportMs', EXPLORER_DEFAULTS.reportMs, 1),
    scheduler: checkScheduler(options.scheduler),
    random: checkRandom(options.random),
  }
  if (resolved.reconnectMaxMs < resolved.reconnectMinMs) throw bad('reconnectMaxMs must be ≥ reconnectMinMs')
  return resolved
}

function checkUrls(value: unknown): readonly string[] {
  if (!Array.isArray(value)) return [checkUrl(value)]
  if (value.length === 0) throw bad('signalUrl is an empty list: give at least one WebSocket URL')
  return value.map(checkUrl)
}

function checkUrl(value: unknown): string {
  if (typeof value !== 'string' || value === '') throw bad('signalUrl is required: the signalling server\'s WebSocket URL, e.g. "ws://localhost:9000/ws"')
  let url: URL
  try {
    url = new URL(value)
  } catch {
    throw bad(`signalUrl is not a URL: ${JSON.stringify(value.slice(0, 100))}`)
  }
  if (url.protocol !== 'ws:' && url.protocol !== 'wss:') throw bad(`signalUrl must be a ws: or wss: URL, got ${url.protocol}`)
  return value
}

function flag(value: unknown, name: string, fallback: boolean): boolean {
  if (value === undefined) return fallback
  if (typeof value !== 'boolean') throw bad(`${name} must be true or false, got ${String(value)}`)
  return value
}

function checkScheduler(value: unknown): SchedulerLike {
  if (value === undefined) return asyncScheduler
  const scheduler = value as Partial<SchedulerLike> | null
  if (typeof scheduler !== 'object' || scheduler === null || typeof scheduler.now !== 'function' || typeof scheduler.schedule !== 'function') {
    throw bad('scheduler must be an rxjs SchedulerLike (now() and schedule())')
  }
  return value as SchedulerLike
}

function checkRandom(value: unknown): () => number {
  if (value === undefined) return Math.random
  if (typeof value !== 'function') throw bad('random must be a function returning numbers in [0, 1)')
  return value as () => number
}

const bad = (message: string) => new ExplorerError('BAD_OPTIONS', message)
