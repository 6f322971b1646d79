import type { FastifyBaseLogger } from 'fastify'
import type { Redis, RedisOptions } from 'ioredis'
import type { ClusterMetrics } from './metrics'
import type { ResolvedRedisOptions } from './options'
import { CLAIM, RELAY, RELEASE, RENEW, REPORT, RESIGN, SYNC } from './scripts'

const SCRIPTS = { claim: CLAIM, release: RELEASE, report: REPORT, relay: RELAY, renew: RENEW, sync: SYNC, resign: RESIGN }
export type ScriptName = keyof typeof SCRIPTS
type ScriptFn = (...args: Array<string | number>) => Promise<unknown>

/**
 * The two connections to Redis/Valkey (commands, and one in subscriber mode),
 * set to fail fast: nothing queues while disconnected, nothing is resent
 * after a reconnect, and a command Redis does not answer in time fails. The
 * caller turns a failure into REGISTRY_UNAVAILABLE; nothing ever waits on Redis
 * without a bound. Every round trip is timed and every failure counted.
 */
export class RedisStore {
  readonly commands: Redis
  readonly subscriber: Redis
  private readonly keys: string[]

  constructor(
    private readonly options: ResolvedRedisOptions,
    readonly instance: string,
    private readonly metrics: ClusterMetrics,
    log: FastifyBaseLogger,
  ) {
    // Loaded here, not at the top: the embedded server never loads the client.
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const { Redis: Client } = require('ioredis') as typeof import('ioredis')
    const common: RedisOptions = {
      connectionName: `webrtc-explorer-signal-${instance}`,
      // Reconnect quickly and keep trying: an outage ends when Redis is back.
      retryStrategy: (attempt) => Math.min(50 * 2 ** attempt, 1000),
      connectTimeout: options.commandTimeoutMs,
    }
    this.commands = new Client(options.url, {
      ...common,
      enableOfflineQueue: false,
      maxRetriesPerRequest: 0,
      autoResendUnfulfilledCommands: false,
      commandTimeout: options.commandTimeoutMs,
    })
    // Subscriptions may wait for the connection (and are made again after each reconnect).
    this.subscriber = new Client(options.url, common)
    let down = false
    const onError = (err: Error) => {
      this.metrics.errors++
      if (!down) log.warn({ err: err.message }, 'redis connection error; retrying')
      down = true
    }
    this.commands.on('error', onError)
    this.subscriber.on('error', onError)
    this.commands.on('ready', () => {
      if (down) log.info('redis connection ready again')
      down = false
    })
    let subscribed = false
    this.subscriber.on('ready', () => {
      if (subscribed) {
        this.metrics.resubscribes++
        log.warn('redis pub/sub connection re-established; signals published meanwhile were lost')
      }
      subscribed = true
    })
    for (const [name, lua] of Object.entries(SCRIPTS)) this.commands.defineCommand(`wx_${name}`, { numberOfKeys: 5, lua })
    const p = options.keyPrefix
    this.keys = [`${p}instances`, `${p}owners`, `${p}ids`, `${p}reports`, `${p}inst:${instance}`]
  }

  /** Both connections are ready: commands can run and signals can arrive. */
  get up(): boolean {
    return this.commands.status === 'ready' && this.subscriber.status === 'ready'
  }

  key(name: 'ids' | 'reports'): string {
    return this.keys[name === 'ids' ? 2 : 3]
  }

  channel(instance: string): string {
    return `${this.options.keyPrefix}sig:${instance}`
  }

  /** Runs one of the registry scripts (EVALSHA, EVAL after a Redis restart emptied its script cache). */
  script(name: ScriptName, args: Array<string | number> = []): Promise<unknown> {
    const fn = (this.commands as unknown as Record<string, ScriptFn>)[`wx_${name}`]
    return this.timed(() => fn.call(this.commands, ...this.keys, this.instance, this.options.keyPrefix, ...args))
  }

  /** Any other command, timed and counted the same way. */
  timed<T>(run: () => Promise<T>): Promise<T> {
    const started = process.hrtime.bigint()
    return run().then(
      (value) => {
        this.metrics.observe(Number(process.hrtime.bigint() - started) / 1e9)
        return value
      },
      (err: unknown) => {
        this.metrics.errors++
        throw err
      },
    )
  }

  /** Resolves once both connections are ready, or false after `ms`. */
  ready(ms: number): Promise<boolean> {
    return new Promise((resolve) => {
      const check = () => {
        if (!this.up) return
        cleanup()
        resolve(true)
      }
      const timer = setTimeout(() => {
        cleanup()
        resolve(false)
      }, ms)
      const cleanup = () => {
        clearTimeout(timer)
        this.commands.off('ready', check)
        this.subscriber.off('ready', check)
      }
      this.commands.on('ready', check)
      this.subscriber.on('ready', check)
      check()
    })
  }

  close(): void {
    this.commands.disconnect()
    this.subscriber.disconnect()
  }
}
