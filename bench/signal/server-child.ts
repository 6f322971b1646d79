/**
 * One server per process, so that RSS is per server. bench/signal.ts bundles this
 * file with esbuild (dependencies left external) and runs it with plain node:
 *   NODE_PATH=node_modules node --expose-gc server-child.cjs ours|peerjs [redis-url key-prefix]
 * (ours with a Redis URL: one instance of a cluster.)
 * Reports {port, path} on IPC, answers {cmd:'mem'} with RSS after a full GC and {cmd:'cpu'} with CPU µs used.
 */
import type { AddressInfo } from 'node:net'
import type { Server } from 'node:http'

const [kind, redisUrl, keyPrefix] = process.argv.slice(2)
const send = (m: unknown) => process.send!(m)

async function startOurs(): Promise<{ port: number; path: string }> {
  // require, not import(): only the server being measured gets loaded into this process
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const { createSignalServer } = require('../../signal-server') as typeof import('../../signal-server')
  const app = createSignalServer({
    // Raised so the benchmark load is neither capped nor rate limited (the limiter still runs).
    maxPeers: 50_000,
    rateLimit: { burst: 1_000_000, perSecond: 1_000_000, closeAfter: 1_000_000 },
    logger: false,
    ...(redisUrl ? { redis: { url: redisUrl, keyPrefix } } : {}),
  })
  await app.listen({ port: 0, host: '127.0.0.1' })
  return { port: (app.server.address() as AddressInfo).port, path: '/ws' }
}

async function startPeerJs(): Promise<{ port: number; path: string }> {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const { PeerServer } = require('peer') as typeof import('peer')
  return new Promise((resolve) => {
    const app = PeerServer(
      {
        port: 0,
        host: '127.0.0.1',
        path: '/',
        key: 'peerjs',
        // Raised so the benchmark load is not capped (default 5,000) and idle clients are not expired.
        concurrent_limit: 1_000_000,
        alive_timeout: 3_600_000,
      },
      (server: Server) => resolve({ port: (server.address() as AddressInfo).port, path: '/peerjs' }),
    )
    app.on('error', () => undefined) // an unhandled 'error' on the express app would throw
  })
}

async function main(): Promise<void> {
  const started = kind === 'ours' ? await startOurs() : kind === 'peerjs' ? await startPeerJs() : null
  if (!started) throw new Error(`unknown server kind ${kind}`)
  process.on('message', (m: { cmd: string }) => {
    if (m.cmd === 'mem') {
      const gc = (globalThis as { gc?: () => void }).gc
      gc?.()
      gc?.()
      const mem = process.memoryUsage()
      send({ rss: mem.rss, heapUsed: mem.heapUsed, external: mem.external })
    } else if (m.cmd === 'cpu') {
      const { user, system } = process.cpuUsage()
      send({ cpuMicros: user + system })
    } else if (m.cmd === 'stop') {
      process.exit(0)
    }
  })
  process.on('disconnect', () => process.exit(0))
  send({ ready: true, ...started })
}

main().catch((err) => {
  console.error(err)
  process.exit(1)
})
