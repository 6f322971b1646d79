import type { SignalServerOptions } from './options'

/** sig-server's ICE flags (parseArgs options) and their usage text. */
export const ICE_FLAGS = {
  stun: { type: 'string', multiple: true },
  turn: { type: 'string', multiple: true },
  'turn-secret': { type: 'string' },
  'turn-ttl': { type: 'string' },
  'stun-port': { type: 'string' },
} as const

export const ICE_USAGE = `  --stun URL         a STUN server to hand out too (repeatable)
  --turn URL         a TURN server sharing --turn-secret, e.g. turn:turn.example.org:3478 (repeatable)
  --turn-secret S    coturn's static-auth-secret: peers get credentials valid --turn-ttl seconds
  --turn-ttl N       TURN credential lifetime in seconds (default 86400, renewed at half)
  --stun-port N|off  UDP port of our own STUN responder (default: the --port number); off: none`

export const ICE_ENV = `  STUN_URLS, TURN_URLS   comma-separated, as --stun / --turn
  TURN_SECRET, TURN_TTL, STUN_PORT   as the flags (prefer TURN_SECRET: flags show in ps)`

interface IceFlagValues {
  stun?: string[]
  turn?: string[]
  'turn-secret'?: string
  'turn-ttl'?: string
  'stun-port'?: string
}

const list = (flag: string[] | undefined, env: string | undefined): string[] =>
  flag ?? (env ?? '').split(',').map((u) => u.trim()).filter((u) => u !== '')

/** The server options the flags (else the environment) ask for; throws an Error saying what is wrong. */
export function iceOptionsFrom(values: IceFlagValues, env: NodeJS.ProcessEnv): Pick<SignalServerOptions, 'stun' | 'iceServers' | 'turn'> {
  const stunUrls = list(values.stun, env.STUN_URLS)
  const turnUrls = list(values.turn, env.TURN_URLS)
  const secret = values['turn-secret'] ?? env.TURN_SECRET
  const ttl = values['turn-ttl'] ?? env.TURN_TTL
  const stunPort = values['stun-port'] ?? env.STUN_PORT
  if (turnUrls.length > 0 && !secret) throw new Error('--turn needs --turn-secret (or TURN_SECRET): the secret shared with coturn')
  if (secret && turnUrls.length === 0) throw new Error('--turn-secret without any --turn URL')
  if (ttl !== undefined && !/^\d+$/.test(ttl)) throw new Error(`invalid --turn-ttl ${JSON.stringify(ttl)}`)
  if (stunPort !== undefined && stunPort !== 'off' && !(/^\d+$/.test(stunPort) && Number(stunPort) <= 65535)) {
    throw new Error(`invalid --stun-port ${JSON.stringify(stunPort)} (a port number, or off)`)
  }
  return {
    stun: stunPort === 'off' ? false : stunPort === undefined ? {} : { port: Number(stunPort) },
    ...(stunUrls.length > 0 ? { iceServers: [{ urls: stunUrls }] } : {}),
    ...(turnUrls.length > 0 ? { turn: { urls: turnUrls, secret: secret!, ...(ttl !== undefined ? { ttlSeconds: Number(ttl) } : {}) } } : {}),
  }
}
