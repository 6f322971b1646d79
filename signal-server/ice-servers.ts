/**
 * The ICE servers a joining peer is handed (the `joined` reply's
 * `iceServers`, renewed with an `ice-servers` message before TURN
 * credentials expire):
 * 1. the server's own STUN responder (./stun.ts), unless disabled: a UDP
 *    port of the signalling host, by default the same number as its HTTP
 *    port, advertised as `stun:<the host name the client used>:<port>` (the
 *    WebSocket upgrade's Host header: a name the client can reach us by);
 * 2. the ICE servers configured as they are (e.g. another STUN server);
 * 3. TURN, with credentials in coturn's `use-auth-secret` scheme (the TURN
 *    REST API draft): username `<expiry unix seconds>:<peer id>`,
 *    credential base64(HMAC-SHA1(secret, username)). coturn checks the
 *    expiry when an allocation is made; allocations made before it live on.
 */
import { createHmac } from 'node:crypto'
import type { IceServer } from '../src/protocol/signal-server'

export interface TurnOptions {
  /** `turn:` / `turns:` URLs of TURN servers sharing `secret` (coturn: `use-auth-secret`, `static-auth-secret`). */
  urls: string[]
  secret: string
  /** How long minted credentials are valid. Default 86,400 (a day); renewed at half of it. */
  ttlSeconds?: number
}

export interface StunResponderOptions {
  /** UDP port to answer STUN on. Default: the HTTP server's port number (UDP and TCP ports are separate). */
  port?: number
  /** The URL to advertise instead of `stun:<Host header's host>:<port>` (e.g. when UDP reaches this host under another name). */
  url?: string
}

export interface ResolvedIceOptions {
  stun: { port: number | null; url: string | null } | null
  iceServers: IceServer[]
  turn: { urls: string[]; secret: string; ttlSeconds: number } | null
}

export const DEFAULT_TURN_TTL_SECONDS = 86_400

const misuse = (message: string): TypeError => new TypeError(`createSignalServer: ${message}`)

function checkUrls(name: string, urls: unknown, schemes: RegExp): string[] {
  if (!Array.isArray(urls) || urls.some((u) => typeof u !== 'string' || !schemes.test(u))) {
    throw misuse(`${name} must be an array of ${schemes.source.replace(/[\^()]/g, '')} URLs, got ${JSON.stringify(urls)}`)
  }
  return [...urls] as string[]
}

export function resolveIceOptions(options: { iceServers?: IceServer[]; turn?: TurnOptions; stun?: StunResponderOptions | false }): ResolvedIceOptions {
  const iceServers = (options.iceServers ?? []).map((server, i) => {
    if (typeof server !== 'object' || server === null) throw misuse(`iceServers[${i}] must be an RTCIceServer object`)
    const urls = checkUrls(`iceServers[${i}].urls`, typeof server.urls === 'string' ? [server.urls] : server.urls, /^(stuns?|turns?):/)
    return { ...server, urls: typeof server.urls === 'string' ? urls[0] : urls }
  })
  let turn: ResolvedIceOptions['turn'] = null
  if (options.turn !== undefined) {
    const urls = checkUrls('turn.urls', options.turn.urls, /^(turns?):/)
    if (urls.length === 0) throw misuse('turn.urls is empty')
    if (typeof options.turn.secret !== 'string' || options.turn.secret.length === 0) throw misuse('turn.secret must be a non-empty string (coturn: static-auth-secret)')
    const ttlSeconds = options.turn.ttlSeconds ?? DEFAULT_TURN_TTL_SECONDS
    if (!Number.isInteger(ttlSeconds) || ttlSeconds < 2) throw misuse(`turn.ttlSeconds must be an integer >= 2, got ${String(ttlSeconds)}`)
    turn = { urls, secret: options.turn.secret, ttlSeconds }
  }
  let stun: ResolvedIceOptions['stun'] = null
  if (options.stun !== false) {
    const { port = null, url = null } = options.stun ?? {}
    if (port !== null && !(Number.isInteger(port) && port >= 0 && port <= 65535)) throw misuse(`stun.port must be a port number, got ${String(port)}`)
    if (url !== null) checkUrls('stun.url', [url], /^(stuns?):/)
    stun = { port, url }
  }
  return { stun, iceServers, turn }
}

/** coturn's use-auth-secret credential for `username`. */
export const turnCredential = (secret: string, username: string): string => createHmac('sha1', secret).update(username).digest('base64')

/** A Host header's host part when it is a plain name or address (never echoed back otherwise). */
export function hostOf(header: string | undefined): string | null {
  if (header === undefined) return null
  const match = /^(\[[0-9a-fA-F:.]+\]|[A-Za-z0-9.-]{1,253})(:\d{1,5})?$/.exec(header)
  return match === null ? null : match[1]
}

/** What one peer gets: `stunPort` is where our responder answers (null: none), `host` the name it reached us by. */
export function iceServersFor(ice: ResolvedIceOptions, id: string, host: string | null, stunPort: number | null, nowMs: number): IceServer[] {
  const servers: IceServer[] = []
  if (ice.stun !== null && stunPort !== null) {
    const url = ice.stun.url ?? (host === null ? null : `stun:${host}:${stunPort}`)
    if (url !== null) servers.push({ urls: url })
  }
  servers.push(...ice.iceServers)
  if (ice.turn !== null) {
    const username = `${Math.floor(nowMs / 1000) + ice.turn.ttlSeconds}:${id}`
    servers.push({ urls: ice.turn.urls, username, credential: turnCredential(ice.turn.secret, username) })
  }
  return servers
}
