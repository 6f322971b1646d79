/**
 * npm run bench:signal [-- --json] [--rounds N] [--pattern partner|random] [--only relay|idle]
 *
 * Our signalling server vs PeerServer (npm `peer`) in one run, under the same
 * load from the same generator (this process, raw WebSocket clients):
 *  (a) relay rate: 1,000 clients × 100 signals and 5,000 clients × 10, each
 *      round timed from the first send to the last delivery counted at the receivers;
 *  (b) RSS of each server process with 10,000 idle joined clients.
 * Each server runs in its own child process (fresh for each scenario); relay
 * rounds alternate between the two servers.
 */
import { fork, type ChildProcess } from 'node:child_process'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { buildSync } from 'esbuild'
import { RawClient, encodeFrame } from './signal/raw-client'

type Kind = 'ours' | 'peerjs'
const KINDS: Kind[] = ['ours', 'peerjs']
const argv = process.argv.slice(2)
const JSON_OUT = argv.includes('--json')
const flag = (name: string, fallback: string) => {
  const i = argv.indexOf(name)
  return i >= 0 && argv[i + 1] ? argv[i + 1] : fallback
}
const ROUNDS = Number(flag('--rounds', '5'))
const PATTERN = flag('--pattern', 'partner') as 'partner' | 'random'
/** `--only relay` or `--only idle` runs half the benchmark (for profiling); the default runs both. */
const ONLY = flag('--only', 'all')
const log = (...a: unknown[]) => {
  if (!JSON_OUT) console.log(...a)
}

/** A trickle-ICE candidate, the most common signal (≈ 200 bytes of JSON). */
const candidate = (seq: number) => ({
  type: 'candidate',
  candidate: 'candidate:842163049 1 udp 1677729535 192.0.2.10 56143 typ srflx raddr 0.0.0.0 rport 0 generation 0 ufrag sXP5 network-cost 999',
  sdpMid: '0',
  sdpMLineIndex: 0,
  seq,
})

/** What differs between the two servers: URL, join, the relay frame, and how a delivery looks. */
interface Protocol {
  path: (id: string) => string
  joinFrame: (id: string) => Buffer | null
  isJoined: (p: Buffer) => boolean
  signalFrame: (to: string, seq: number) => string
  isDelivery: (p: Buffer) => boolean
}

const startsWith = (p: Buffer, prefix: Buffer) => p.length >= prefix.length && p.compare(prefix, 0, prefix.length, 0, prefix.length) === 0
const OURS_JOINED = Buffer.from('{"type":"joined"')
const OURS_SIGNAL = Buffer.from('{"type":"signal"')
const PEER_OPEN = Buffer.from('{"type":"OPEN"')
const PEER_CANDIDATE = Buffer.from('{"type":"CANDIDATE"')

const PROTOCOLS: Record<Kind, Protocol> = {
  ours: {
    path: () => '/ws',
    joinFrame: (id) => encodeFrame(JSON.stringify({ type: 'join', id })),
    isJoined: (p) => startsWith(p, OURS_JOINED),
    signalFrame: (to, seq) => JSON.stringify({ type: 'signal', to, data: candidate(seq) }),
    isDelivery: (p) => startsWith(p, OURS_SIGNAL),
  },
  peerjs: {
    path: (id) => `/peerjs?key=peerjs&id=${id}&token=t${id}`,
    joinFrame: () => null, // joining is the connection itself; the server answers OPEN
    isJoined: (p) => startsWith(p, PEER_OPEN),
    signalFrame: (to, seq) => JSON.stringify({ type: 'CANDIDATE', dst: to, payload: candidate(seq) }),
    isDelivery: (p) => startsWith(p, PEER_CANDIDATE),
  },
}

interface ServerChild {
  child: ChildProcess
  port: number
  path: string
}

/**
 * Both servers run as plain JavaScript (no TypeScript loader in the measured
 * process, as in production where the package ships compiled): the child is
 * bundled once with esbuild, npm dependencies left external.
 */
const ROOT = path.resolve(__dirname, '..')
let childScript: string | null = null
function buildChild(): string {
  if (childScript) return childScript
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'bench-signal-'))
  childScript = path.join(dir, 'server-child.cjs')
  buildSync({
    entryPoints: [path.join(__dirname, 'signal/server-child.ts')],
    bundle: true,
    platform: 'node',
    format: 'cjs',
    target: 'node20',
    packages: 'external',
    outfile: childScript,
    logLevel: 'warning',
  })
  process.once('exit', () => fs.rmSync(dir, { recursive: true, force: true }))
  return childScript
}

function spawnServer(kind: Kind): Promise<ServerChild> {
  // BENCH_CPU_PROF=<dir> writes a V8 CPU profile per server process (open in Chrome DevTools).
  const prof = process.env.BENCH_CPU_PROF ? ['--cpu-prof', '--cpu-prof-dir', path.resolve(process.env.BENCH_CPU_PROF)] : []
  const child = fork(buildChild(), [kind], {
    execArgv: ['--expose-gc', ...prof],
    env: { ...process.env, NODE_PATH: path.join(ROOT, 'node_modules') },
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  })
  return new Promise((resolve, reject) => {
    child.once('message', (m: { ready?: boolean; port: number; path: string }) => resolve({ child, port: m.port, path: m.path }))
    child.once('exit', (code) => reject(new Error(`${kind} server exited with ${code}`)))
  })
}

function memory(s: ServerChild): Promise<{ rss: number; heapUsed: number }> {
  return new Promise((resolve) => {
    s.child.once('message', (m: { rss: number; heapUsed: number }) => resolve(m))
    s.child.send({ cmd: 'mem' })
  })
}

function cpuMicros(s: ServerChild): Promise<number> {
  return new Promise((resolve) => {
    s.child.once('message', (m: { cpuMicros: number }) => resolve(m.cpuMicros))
    s.child.send({ cmd: 'cpu' })
  })
}

async function stopServer(s: ServerChild): Promise<void> {
  const exited = new Promise((resolve) => s.child.once('exit', resolve))
  s.child.send({ cmd: 'stop' })
  await exited
}

/** Distinct source addresses per run, so runs never compete for ephemeral ports. */
let addressCounter = 0
const nextLocalAddress = () => {
  addressCounter++
  return `127.0.${(addressCounter >> 8) & 0xff}.${(addressCounter & 0xff) || 1}`
}

const idOf = (i: number) => (0x100000000000 + i * 104729).toString(16).padStart(12, '0')

interface Swarm {
  clients: RawClient[]
  ids: string[]
  delivered: number
  errors: number
  onDelivery: (() => void) | null
}

/** Opens n clients (at most `parallel` handshakes at a time) and waits until each is joined. */
async function openSwarm(kind: Kind, server: ServerChild, n: number, parallel = 250): Promise<Swarm> {
  const proto = PROTOCOLS[kind]
  const localAddress = nextLocalAddress()
  const swarm: Swarm = { clients: [], ids: [], delivered: 0, errors: 0, onDelivery: null }
  for (let start = 0; start < n; start += parallel) {
    const batch: Array<Promise<void>> = []
    for (let i = start; i < Math.min(n, start + parallel); i++) {
      const id = idOf(i)
      let joined!: () => void
      const isJoined = new Promise<void>((resolve) => (joined = resolve))
      let isUp = false
      const client = new RawClient(server.port, server.path === '/ws' ? proto.path(id) : proto.path(id), localAddress, {
        onText(p) {
          if (proto.isDelivery(p)) {
            swarm.delivered++
            swarm.onDelivery?.()
          } else if (!isUp && proto.isJoined(p)) {
            isUp = true
            joined()
          } else {
            swarm.errors++
          }
        },
      })
      swarm.clients.push(client)
      swarm.ids.push(id)
      batch.push(
        client.ready.then(() => {
          const join = proto.joinFrame(id)
          if (join) client.write(join)
          return isJoined
        }),
      )
    }
    await Promise.all(batch)
  }
  return swarm
}

function closeSwarm(swarm: Swarm): void {
  for (const c of swarm.clients) c.destroy()
}

/** Pre-encodes each client's k signals (one buffer, one write per client). */
function buildLoad(kind: Kind, swarm: Swarm, k: number, round: number): Buffer[] {
  const proto = PROTOCOLS[kind]
  const n = swarm.ids.length
  let seed = 1 + round
  const random = () => (seed = (seed * 48271) % 2147483647)
  return swarm.ids.map((_, i) => {
    const frames: Buffer[] = []
    for (let s = 0; s < k; s++) {
      let target = (i + 1) % n // partner: a burst of candidates to one peer, as in a WebRTC handshake
      if (PATTERN === 'random') {
        target = random() % n
        if (target === i) target = (i + 1) % n
      }
      frames.push(encodeFrame(proto.signalFrame(swarm.ids[target], s)))
    }
    return Buffer.concat(frames)
  })
}

/** One round: every client writes its k signals; resolves when all n·k are delivered. */
function relayRound(swarm: Swarm, load: Buffer[], expected: number): Promise<{ seconds: number; rate: number }> {
  return new Promise((resolve, reject) => {
    const base = swarm.delivered
    const timer = setTimeout(() => reject(new Error(`round stalled: ${swarm.delivered - base}/${expected} delivered`)), 60_000)
    let t0 = 0n
    swarm.onDelivery = () => {
      if (swarm.delivered - base === expected) {
        const seconds = Number(process.hrtime.bigint() - t0) / 1e9
        swarm.onDelivery = null
        clearTimeout(timer)
        resolve({ seconds, rate: expected / seconds })
      }
    }
    t0 = process.hrtime.bigint()
    for (let i = 0; i < load.length; i++) swarm.clients[i].write(load[i])
  })
}

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b)
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2
}

interface RelayResult {
  clients: number
  signalsPerClient: number
  rates: number[]
  median: number
  errors: number
  /** Server CPU time / wall time over the measured rounds: ≈ 1 means the server (one core) was the bottleneck. */
  serverCpuShare: number
  /** The same for this load generator. */
  generatorCpuShare: number
}

/**
 * Both servers up at once, each with its own swarm of n clients; rounds alternate
 * between them (ours, PeerServer, ours, ...) so that whatever else the machine is
 * doing weighs on both alike.
 */
async function relayScenario(n: number, k: number): Promise<Record<Kind, RelayResult>> {
  const servers = {} as Record<Kind, ServerChild>
  const swarms = {} as Record<Kind, Swarm>
  const acc = {} as Record<Kind, { rates: number[]; wall: number; cpu: number; genCpu: number }>
  for (const kind of KINDS) {
    servers[kind] = await spawnServer(kind)
    swarms[kind] = await openSwarm(kind, servers[kind], n)
    await relayRound(swarms[kind], buildLoad(kind, swarms[kind], k, 0), n * k) // warm-up, not counted
    acc[kind] = { rates: [], wall: 0, cpu: 0, genCpu: 0 }
  }
  for (let r = 1; r <= ROUNDS; r++) {
    for (const kind of KINDS) {
      const a = acc[kind]
      const load = buildLoad(kind, swarms[kind], k, r)
      const cpuBefore = await cpuMicros(servers[kind])
      const genBefore = process.cpuUsage()
      const { rate, seconds } = await relayRound(swarms[kind], load, n * k)
      const genUsed = process.cpuUsage(genBefore)
      a.genCpu += genUsed.user + genUsed.system
      a.cpu += (await cpuMicros(servers[kind])) - cpuBefore
      a.wall += seconds
      a.rates.push(Math.round(rate))
    }
  }
  const out = {} as Record<Kind, RelayResult>
  for (const kind of KINDS) {
    closeSwarm(swarms[kind])
    await stopServer(servers[kind])
    const a = acc[kind]
    out[kind] = {
      clients: n, signalsPerClient: k, rates: a.rates, median: Math.round(median(a.rates)), errors: swarms[kind].errors,
      serverCpuShare: Number((a.cpu / 1e6 / a.wall).toFixed(2)),
      generatorCpuShare: Number((a.genCpu / 1e6 / a.wall).toFixed(2)),
    }
  }
  return out
}

async function idleScenario(kind: Kind, n: number) {
  const server = await spawnServer(kind)
  const before = await memory(server)
  const swarm = await openSwarm(kind, server, n)
  // let the server settle, then take the median of three post-GC samples (RSS is noisy)
  const samples: Array<{ rss: number; heapUsed: number }> = []
  for (let i = 0; i < 3; i++) {
    await new Promise((r) => setTimeout(r, 300))
    samples.push(await memory(server))
  }
  samples.sort((a, b) => a.rss - b.rss)
  const after = samples[1]
  closeSwarm(swarm)
  await stopServer(server)
  return { clients: n, rssBytes: after.rss, heapUsedBytes: after.heapUsed, rssEmptyBytes: before.rss, errors: swarm.errors }
}

const mib = (b: number) => `${(b / 1048576).toFixed(1)} MiB`

async function main(): Promise<void> {
  const started = Date.now()
  const scenarios: Array<[number, number]> = [
    [1000, 100],
    [5000, 10],
  ]
  const relay: Record<Kind, RelayResult[]> = { ours: [], peerjs: [] }
  for (const [n, k] of ONLY === 'idle' ? [] : scenarios) {
    const results = await relayScenario(n, k)
    for (const kind of KINDS) {
      const result = results[kind]
      relay[kind].push(result)
      log(`${kind.padEnd(6)} ${n} clients × ${k} signals: ${result.median.toLocaleString()} msg/s (rounds ${result.rates.join(', ')}; CPU share: server ${result.serverCpuShare}, generator ${result.generatorCpuShare})`)
    }
  }
  const idle: Record<string, Awaited<ReturnType<typeof idleScenario>>> = {}
  for (const kind of ONLY === 'relay' ? [] : KINDS) {
    idle[kind] = await idleScenario(kind, 10_000)
    log(`${kind.padEnd(6)} 10,000 idle joined clients: RSS ${mib(idle[kind].rssBytes)} (empty ${mib(idle[kind].rssEmptyBytes)}, heap ${mib(idle[kind].heapUsedBytes)})`)
  }
  const measured = relay.ours.map((ours, i) => ({ ours, peerjs: relay.peerjs[i] }))
  const out = {
    pattern: PATTERN,
    rounds: ROUNDS,
    relay: measured.map(({ ours, peerjs }) => ({
      clients: ours.clients,
      signalsPerClient: ours.signalsPerClient,
      oursMsgPerSec: ours.median,
      peerjsMsgPerSec: peerjs.median,
      ratio: Number((ours.median / peerjs.median).toFixed(2)),
      oursRounds: ours.rates,
      peerjsRounds: peerjs.rates,
      oursCpuShare: { server: ours.serverCpuShare, generator: ours.generatorCpuShare },
      peerjsCpuShare: { server: peerjs.serverCpuShare, generator: peerjs.generatorCpuShare },
    })),
    idle10k: idle.ours && idle.peerjs
      ? {
          oursRssBytes: idle.ours.rssBytes,
          peerjsRssBytes: idle.peerjs.rssBytes,
          rssRatio: Number((idle.ours.rssBytes / idle.peerjs.rssBytes).toFixed(2)),
          oursHeapUsedBytes: idle.ours.heapUsedBytes,
          peerjsHeapUsedBytes: idle.peerjs.heapUsedBytes,
        }
      : null,
    unexpectedFrames: [...relay.ours, ...relay.peerjs, ...Object.values(idle)].reduce((a, r) => a + r.errors, 0),
    seconds: Math.round((Date.now() - started) / 1000),
    node: process.version,
  }
  if (JSON_OUT) {
    console.log(JSON.stringify(out))
  } else {
    for (const r of out.relay) {
      log(`relay ${r.clients}×${r.signalsPerClient}: ours ${r.oursMsgPerSec.toLocaleString()} msg/s, PeerServer ${r.peerjsMsgPerSec.toLocaleString()} msg/s, ratio ${r.ratio}× (target ≥ 1.2×)`)
    }
    if (out.idle10k) {
      log(`RSS at 10,000 clients: ours ${mib(out.idle10k.oursRssBytes)}, PeerServer ${mib(out.idle10k.peerjsRssBytes)}, ratio ${out.idle10k.rssRatio} (target ≤ 1)`)
    }
    log(`unexpected frames: ${out.unexpectedFrames}; took ${out.seconds} s`)
  }
}

main().then(
  () => process.exit(0),
  (err) => {
    console.error(err)
    process.exit(1)
  },
)
