/**
 * How soon a newcomer is routable right after a peer vanished, tried as a
 * new user would: real WebRTC (@roamhq/wrtc) on loopback, a signalling
 * server with its defaults, every explorer with its defaults. A ring of
 * `--ring` peers (default 5) plus a victim whose id is the newcomer's true
 * successor (the peer the server lists first to the newcomer). Each trial:
 * the victim joins, the ring settles, the victim goes, and at once a fresh
 * explorer listens, dials a ring peer and echoes. Two ways to go:
 * - `kill`: the victim lives in a child process, killed with SIGKILL: no
 *   leave, no goodbye (a crashed machine, a tab whose process died);
 * - `close`: `explorer.close()` (the polite close: its channels and its
 *   WebSocket close).
 * Figures: median and worst, from the victim's end to the newcomer's first
 * echo (and to its listen() resolving), and until the ring peer's dial back
 * to the newcomer echoed. Target: the first echo within 2 s (issue 14).
 *
 *   npm run bench:newcomer [-- --json] [--trials 10] [--ring 5] [--only kill|close]
 */
import type { AddressInfo } from 'node:net'
import { firstValueFrom, timeout } from 'rxjs'
import { createSignalServer } from '../signal-server'
import { createExplorer, type Explorer } from '../src'
import { explorerInternals } from '../src/explorer/internals'
import { newIdentity, type Identity } from '../src/identity'
import { parseId } from '../src/ids'
import { RingOracle } from '../src/testnet'
import type { WrtcImpl } from '../src/transport/webrtc'
import { spawnPeers } from './faults/crash-peers'

// eslint-disable-next-line @typescript-eslint/no-require-imports
const wrtc = require('@roamhq/wrtc') as WrtcImpl

// simple-peer warns for each ICE candidate the native side will not take after a peer closed: noise here.
const warn = console.warn.bind(console)
console.warn = (...args: unknown[]) => void (args[0] === 'Ignoring unsupported ICE candidate.' || warn(...args))

type Kind = 'kill' | 'close'

interface Trial {
  /** From the victim's end until the newcomer's listen() resolved... */
  listenMs: number
  /** ...until its first dial to a ring peer echoed... */
  echoMs: number
  /** ...and until that ring peer's dial back to it echoed (others reach it: the ring has taken it in). */
  inboundMs: number
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))

const echoServer = (explorer: Explorer): void => {
  explorer.incoming$.subscribe((socket) => socket.data$.subscribe({ next: (data) => socket.send(data), error: () => undefined, complete: () => socket.close() }))
}

/** Every listed peer is joined with the true successor and predecessor. */
function ringRight(explorers: Explorer[], victim: string | null): boolean {
  const rings = explorers.map((e) => explorerInternals(e).ring)
  const ids = rings.map((r) => r.id)
  if (victim !== null) ids.push(parseId(victim))
  const oracle = new RingOracle(ids)
  return rings.every((r) => r.joined && r.successor === oracle.successorOf(r.id) && r.predecessor === oracle.predecessorOf(r.id))
}

async function until(check: () => boolean, guardMs: number, what: string): Promise<void> {
  const t0 = performance.now()
  while (!check()) {
    if (performance.now() - t0 > guardMs) throw new Error(`${what}: not within ${guardMs} ms`)
    await sleep(20)
  }
}

/** A newcomer identity, and a victim identity whose id is the newcomer's successor among the ring's ids. */
function pair(ring: Explorer[]): { newcomer: Identity; victim: Identity } {
  const ids = ring.map((e) => parseId(e.id))
  const newcomer = newIdentity()
  const n = parseId(newcomer.id)
  const successor = new RingOracle([...ids, n]).successorOf(n)
  const inArc = (x: number) => (n < successor ? n < x && x < successor : x > n || x < successor)
  for (;;) {
    const victim = newIdentity()
    if (inArc(parseId(victim.id))) return { newcomer, victim }
  }
}

async function trial(kind: Kind, ring: Explorer[], signalUrl: string): Promise<Trial> {
  const { newcomer: who, victim: victimIdentity } = pair(ring)
  let end: () => Promise<void>
  if (kind === 'kill') {
    const child = await spawnPeers(signalUrl, [victimIdentity], {})
    end = () => child.kill()
  } else {
    const victim = createExplorer({ signalUrl, wrtc, identity: victimIdentity })
    echoServer(victim)
    await victim.listen()
    end = () => victim.close()
  }
  await until(() => ringRight(ring, victimIdentity.id), 60_000, 'the ring with the victim')
  // The dial goes to the ring peer farthest from the newcomer's arc: through the ring, not next door.
  const target = ring[Math.floor(ring.length / 2)]
  await end()
  const t0 = performance.now()
  const newcomer = createExplorer({ signalUrl, wrtc, identity: who })
  echoServer(newcomer)
  try {
    await newcomer.listen()
    const listenMs = performance.now() - t0
    await echo(newcomer, target.id)
    const echoMs = performance.now() - t0
    await echo(target, newcomer.id)
    return { listenMs, echoMs, inboundMs: performance.now() - t0 }
  } finally {
    await newcomer.close()
    await until(() => ringRight(ring, null), 60_000, 'the ring after the trial')
  }
}

/** `from` dials `to`, sends a message and waits for it to come back. */
async function echo(from: Explorer, to: string): Promise<void> {
  const socket = await firstValueFrom(from.dial$(to))
  const echoed = firstValueFrom(socket.data$.pipe(timeout(30_000)))
  socket.send('hello')
  await echoed
  socket.close()
}

const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b)
  return s.length % 2 ? s[s.length >> 1] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2
}

const arg = (name: string, fallback: string): string => {
  const at = process.argv.indexOf(name)
  return at >= 0 ? process.argv[at + 1] : fallback
}

async function main(): Promise<void> {
  const json = process.argv.includes('--json')
  const trials = Number(arg('--trials', '10'))
  const size = Number(arg('--ring', '5'))
  const only = arg('--only', '')
  const kinds = (['kill', 'close'] as Kind[]).filter((k) => only === '' || k === only)
  const server = createSignalServer()
  await server.listen({ port: 0, host: '127.0.0.1' })
  const signalUrl = `ws://127.0.0.1:${(server.server.address() as AddressInfo).port}/ws`
  const ring = Array.from({ length: size }, () => createExplorer({ signalUrl, wrtc }))
  ring.forEach(echoServer)
  const results = []
  try {
    for (const e of ring) await e.listen()
    await until(() => ringRight(ring, null), 60_000, 'the ring')
    for (const kind of kinds) {
      const runs: Trial[] = []
      for (let i = 0; i < trials; i++) {
        const t = await trial(kind, ring, signalUrl)
        runs.push(t)
        if (!json) console.log(`${kind} #${i + 1}: listen ${t.listenMs.toFixed(0)} ms, echo ${t.echoMs.toFixed(0)} ms, dialled back ${t.inboundMs.toFixed(0)} ms`)
      }
      const echo = runs.map((r) => r.echoMs)
      const listen = runs.map((r) => r.listenMs)
      const inbound = runs.map((r) => r.inboundMs)
      results.push({
        kind, trials, ring: size,
        echoMs: { median: Math.round(median(echo)), worst: Math.round(Math.max(...echo)) },
        listenMs: { median: Math.round(median(listen)), worst: Math.round(Math.max(...listen)) },
        inboundMs: { median: Math.round(median(inbound)), worst: Math.round(Math.max(...inbound)) },
        withinTarget: echo.filter((ms) => ms <= 2000).length,
      })
    }
  } finally {
    await Promise.all(ring.map((e) => e.close()))
    await server.close()
  }
  if (json) console.log(JSON.stringify({ targetMs: 2000, results }))
  else {
    for (const r of results) {
      console.log(`${r.kind}: newcomer echoed after ${r.echoMs.median} ms median, ${r.echoMs.worst} ms worst (listen ${r.listenMs.median} / ${r.listenMs.worst} ms); ${r.withinTarget} of ${r.trials} within 2 s; the ring peer's dial back echoed after ${r.inboundMs.median} / ${r.inboundMs.worst} ms`)
    }
  }
  process.exit(0)
}

void main()
