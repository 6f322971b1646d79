/**
 * `npm start`: the signalling server with the live ring dashboard at `/` and
 * the demo chat page at `/demo`, plus the Node demo peers of
 * scripts/demo-peers.ts. PORT (default 9000) and HOST (default 0.0.0.0) as
 * for the sig-server CLI; DEMO_PEERS sets how many Node peers to start.
 *
 * The demo page needs the library's browser bundle: it is built here from
 * src/ with esbuild (scripts/build-browser.ts, about a second), so it always
 * matches the source and a fresh clone needs nothing but `npm ci`.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createSignalServer } from '../signal-server/server'
import { registerDashboard } from '../signal-server/dashboard'
import { registerDemo } from '../signal-server/demo'
import { serverUrls } from '../signal-server/urls'
import { buildBrowser } from './build-browser'
import { startDemoPeers, type DemoPeer } from './demo-peers'

/** The IIFE browser bundle of src/, built into a temporary folder and read back. */
async function browserBundle(): Promise<string> {
  const out = mkdtempSync(join(tmpdir(), 'webrtc-explorer-demo-'))
  try {
    return readFileSync((await buildBrowser(undefined, out)).iife, 'utf8')
  } finally {
    rmSync(out, { recursive: true, force: true })
  }
}

async function main(): Promise<void> {
  const port = Number(process.env.PORT ?? 9000)
  const host = process.env.HOST ?? '0.0.0.0'
  const peerCount = Number(process.env.DEMO_PEERS ?? 4)
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new Error(`PORT must be 0–65535, got ${process.env.PORT}`)
  if (!Number.isInteger(peerCount) || peerCount < 0) throw new Error(`DEMO_PEERS must be an integer >= 0, got ${process.env.DEMO_PEERS}`)

  const app = createSignalServer({ logger: { level: process.env.LOG_LEVEL ?? 'warn' }, dashboard: registerDashboard })
  registerDemo(app, { bundle: await browserBundle() })
  await app.listen({ port, host })
  const address = app.server.address()
  const urls = serverUrls(host, typeof address === 'object' && address ? address.port : port)
  const signalUrl = urls.ws
  process.stdout.write(`Signalling Server Started on ${signalUrl}\n`)
  process.stdout.write(`Ring dashboard:  ${urls.http}\n`)
  process.stdout.write(`Demo chat page:  ${urls.http}demo   (dial a Node peer below, or open two tabs)\n`)
  for (const url of urls.lan) process.stdout.write(`On your network: ${url.replace(/^ws:/, 'http:').replace(/\/ws$/, '/demo')}\n`)

  const peers: DemoPeer[] = await startDemoPeers(signalUrl, peerCount, (line) => process.stdout.write(line + '\n'))
  process.stdout.write('Ctrl-C to stop.\n')

  let stopping = false
  const stop = (): void => {
    if (stopping) return
    stopping = true
    Promise.allSettled(peers.map((p) => p.close()))
      .then(() => app.close())
      .then(
        () => process.exit(0),
        (err: unknown) => {
          process.stderr.write(`error while stopping: ${(err as Error).message}\n`)
          process.exit(1)
        },
      )
  }
  process.on('SIGINT', stop)
  process.on('SIGTERM', stop)
}

main().catch((err: unknown) => {
  process.stderr.write(`start: ${(err as Error).message ?? String(err)}\n`)
  process.exit(1)
})
