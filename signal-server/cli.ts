#!/usr/bin/env node
import { parseArgs } from 'node:util'
import { version } from './package.json'
import { createSignalServer } from './server'
import { registerDashboard } from './dashboard'
import { ICE_ENV, ICE_FLAGS, ICE_USAGE, iceOptionsFrom } from './ice-cli'
import { serverUrls } from './urls'

const USAGE = `Usage: sig-server [--port N] [--host H] [--redis URL] [--stun URL] [--turn URL --turn-secret S]

Runs the webrtc-explorer signalling server (WebSocket at /ws, plus /health,
/metrics, /ring and the live ring dashboard at / over HTTP).

Options:
  -p, --port N    TCP port (default: $PORT or 9000; 0 picks a free one)
  -H, --host H    interface to bind (default: $HOST or 0.0.0.0)
  --redis URL     share the registry with other instances through Redis or
                  Valkey, e.g. redis://10.0.0.5:6379 (default: $REDIS_URL;
                  neither: one process, registry in memory)
  -v, --version   print the version
  -h, --help      show this help
${ICE_USAGE}

Environment:
  PORT, HOST, REDIS_URL  as above; flags win over the environment
  LOG_LEVEL       pino level (default: info; each HTTP request is logged at debug)
${ICE_ENV}
`

function fail(message: string): never {
  process.stderr.write(`sig-server: ${message}\n\n${USAGE}`)
  process.exit(2)
}

function parsePort(value: string): number {
  if (!/^\d+$/.test(value) || Number(value) > 65535) fail(`invalid port ${JSON.stringify(value)}`)
  return Number(value)
}

async function main(): Promise<void> {
  let parsed
  try {
    parsed = parseArgs({
      options: {
        port: { type: 'string', short: 'p' },
        host: { type: 'string', short: 'H' },
        redis: { type: 'string' },
        help: { type: 'boolean', short: 'h' },
        version: { type: 'boolean', short: 'v' },
        ...ICE_FLAGS,
      },
      strict: true,
      allowPositionals: false,
    })
  } catch (err) {
    fail((err as Error).message)
  }
  const { values } = parsed
  if (values.help) {
    process.stdout.write(USAGE)
    return
  }
  if (values.version) {
    process.stdout.write(`${version}\n`)
    return
  }
  const port = parsePort(values.port ?? process.env.PORT ?? '9000')
  const host = values.host ?? process.env.HOST ?? '0.0.0.0'

  const redis = values.redis ?? (process.env.REDIS_URL || undefined)
  let app
  try {
    const ice = iceOptionsFrom(values, process.env)
    app = createSignalServer({ logger: { level: process.env.LOG_LEVEL ?? 'info' }, dashboard: registerDashboard, redis, ...ice })
  } catch (err) {
    fail((err as Error).message)
  }
  await app.listen({ port, host })
  const address = app.server.address()
  const urls = serverUrls(host, typeof address === 'object' && address ? address.port : port)
  process.stdout.write(`Signalling Server Started on ${urls.ws}\n`)
  process.stdout.write(`Ring dashboard:  ${urls.http}\n`)
  for (const url of urls.lan) process.stdout.write(`On your network: ${url}\n`)

  let stopping = false
  const stop = (signal: NodeJS.Signals): void => {
    if (stopping) return
    stopping = true
    app.log.info({ signal }, 'shutting down')
    app.close().then(
      () => process.exit(0),
      (err: unknown) => {
        app.log.error({ err }, 'error while shutting down')
        process.exit(1)
      },
    )
  }
  process.on('SIGINT', stop)
  process.on('SIGTERM', stop)
}

main().catch((err: unknown) => {
  process.stderr.write(`sig-server: ${(err as Error).message ?? String(err)}\n`)
  process.exit(1)
})
