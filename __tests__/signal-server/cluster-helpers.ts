import type { SignalServerOptions } from '../../signal-server'
import type { RedisRegistryOptions } from '../../signal-server/redis/options'
import { RedisServer } from '../helpers/redis-server'
import { start, type Started } from './helpers'

export { metric } from '../explorer/helpers'

let clusters = 0

/**
 * `n` instances in this process sharing one Redis, under a key prefix of
 * their own (several clusters may share a test's redis-server).
 */
export async function startCluster(
  redisUrl: string,
  n: number,
  options: SignalServerOptions = {},
  redis: Partial<RedisRegistryOptions> = {},
): Promise<Started[]> {
  const keyPrefix = `t${++clusters}:${process.pid}:`
  const instances: Started[] = []
  for (let i = 0; i < n; i++) instances.push(await start({ ...options, redis: { url: redisUrl, keyPrefix, ...redis } }))
  return instances
}

export async function getJson(url: string): Promise<{ status: number; body: Record<string, unknown> }> {
  const res = await fetch(url)
  return { status: res.status, body: (await res.json()) as Record<string, unknown> }
}

/** A redis-server for the enclosing describe block: started before its tests, stopped after them. */
export function redisForSuite(): () => RedisServer {
  let redis: RedisServer | undefined
  beforeAll(async () => {
    redis = await RedisServer.start()
  })
  afterAll(async () => {
    await redis?.stop()
  })
  return () => redis!
}
