/** `createSignalServer({ redis })`: a URL, or a URL with settings. */
export interface RedisRegistryOptions {
  /** `redis://[user:password@]host:port[/db]`, or `rediss://` for TLS. Redis ≥ 7.0 or Valkey ≥ 7.2. */
  url: string
  /** How long an instance's ids outlive its last lease renewal (renewed every third of it). Default 5,000 ms. */
  leaseMs?: number
  /** Prefix of every key and channel, so that several clusters can share one Redis. Default `wx:`. */
  keyPrefix?: string
  /** A Redis command not answered within this fails (REGISTRY_UNAVAILABLE to the peer). Default 2,000 ms. */
  commandTimeoutMs?: number
}

export interface ResolvedRedisOptions {
  url: string
  leaseMs: number
  keyPrefix: string
  commandTimeoutMs: number
}

export const REDIS_DEFAULTS = { leaseMs: 5_000, keyPrefix: 'wx:', commandTimeoutMs: 2_000 } as const

const bad = (message: string) => new TypeError(`createSignalServer: redis ${message}`)

/** Applies defaults; a malformed URL or setting throws at once. */
export function resolveRedisOptions(value: string | RedisRegistryOptions): ResolvedRedisOptions {
  const options = typeof value === 'string' ? { url: value } : value
  if (typeof options !== 'object' || options === null || typeof options.url !== 'string') throw bad('must be a URL string or { url, ... }')
  let protocol: string
  try {
    protocol = new URL(options.url).protocol
  } catch {
    throw bad(`URL is not a URL: ${JSON.stringify(options.url.slice(0, 100))}`)
  }
  if (protocol !== 'redis:' && protocol !== 'rediss:') throw bad(`URL must be redis: or rediss:, got ${protocol}`)
  const leaseMs = options.leaseMs ?? REDIS_DEFAULTS.leaseMs
  const commandTimeoutMs = options.commandTimeoutMs ?? REDIS_DEFAULTS.commandTimeoutMs
  if (!Number.isInteger(leaseMs) || leaseMs < 300) throw bad(`leaseMs must be an integer >= 300, got ${String(leaseMs)}`)
  if (!Number.isInteger(commandTimeoutMs) || commandTimeoutMs < 1) throw bad(`commandTimeoutMs must be an integer >= 1, got ${String(commandTimeoutMs)}`)
  const keyPrefix = options.keyPrefix ?? REDIS_DEFAULTS.keyPrefix
  if (typeof keyPrefix !== 'string') throw bad('keyPrefix must be a string')
  return { url: options.url, leaseMs, keyPrefix, commandTimeoutMs }
}
