#!/usr/bin/env node
import { parseArgs } from 'node:util'
import { version } from './package.json'
import { createSignalServer } from './server'
import { registerDashboard } from './dashboard'
import { ICE_ENV, ICE_FLAGS, ICE_USAGE, iceOptionsFrom } from './ice-cli'
import { serverUrls } from './urls'

const USAGE = `Usage: sig-server [--port N] [--host H] [--stun URL] [--turn URL --turn-secret S]

Runs the webrtc-explorer signalling server (WebSocket at /ws, plus /health,
/metrics, /ring and the live ring dashboard at / over HTTP).

Options:
  -p, --port N    TCP port (default: $PORT or 9000; 0 picks a free one)
  -H, --host H    interface to bind (default: $HOST or 0.0.0.0)
  -v, --version   print the version
  -h, --help      show this help
${ICE_USAGE}

Environment:
  PORT, HOST      as above; flags win over the environment
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

  let ice
  try {
    ice = iceOptionsFrom(values, process.env)
  } catch (err) {
    fail((err as Error).message)
  }
  const app = createSignalServer({ logger: { level: process.env.LOG_LEVEL ?? 'info' }, dashboard: registerDashboard, ...ice })
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
