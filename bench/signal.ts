/**
 * npm run bench:signal [-- --json] [--rounds N] [--pattern partner|random] [--only relay|idle]
 * npm run bench:signal -- --cluster [...]   (the cluster over Redis: bench/signal/cluster.ts)
 *
 * Our signalling server vs PeerServer (npm `peer`) in one run, under the same
 * load from the same generator (this process, raw WebSocket clients):
 *  (a) relay rate: 1,000 clients × 100 signals and 5,000 clients × 10, each
 *      round timed from the first send to the last delivery counted at the receivers;
 *  (b) RSS of each server process with 10,000 idle joined clients.
 * Each server runs in its own child process (fresh for each scenario); relay
 * rounds alternate between the two servers.
 */
import { cpuMicros, buildLoad, closeSwarm, median, memory, mib, openSwarm, relayRound, spawnServer, stopServer, type Kind, type Pattern, type ServerChild, type Swarm } from './signal/harness'

/** The two servers compared here (ours as it is now: the proven join). */
type Compared = Extract<Kind, 'ours' | 'peerjs'>
const KINDS: Compared[] = ['ours', 'peerjs']
const argv = process.argv.slice(2)
const JSON_OUT = argv.includes('--json')
const flag = (name: string, fallback: string) => {
  const i = argv.indexOf(name)
  return i >= 0 && argv[i + 1] ? argv[i + 1] : fallback
}
const ROUNDS = Number(flag('--rounds', '5'))
const PATTERN = flag('--pattern', 'partner') as Pattern
/** `--only relay` or `--only idle` runs half the benchmark (for profiling); the default runs both. */
const ONLY = flag('--only', 'all')
const log = (...a: unknown[]) => {
  if (!JSON_OUT) console.log(...a)
}

const spawn = (kind: Compared): Promise<ServerChild> => spawnServer([kind])

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
async function relayScenario(n: number, k: number): Promise<Record<Compared, RelayResult>> {
  const servers = {} as Record<Compared, ServerChild>
  const swarms = {} as Record<Compared, Swarm>
  const acc = {} as Record<Compared, { rates: number[]; wall: number; cpu: number; genCpu: number }>
  for (const kind of KINDS) {
    servers[kind] = await spawn(kind)
    swarms[kind] = await openSwarm(kind, [servers[kind]], n)
    await relayRound(swarms[kind], buildLoad(kind, swarms[kind], k, 0, PATTERN), n * k) // warm-up, not counted
    acc[kind] = { rates: [], wall: 0, cpu: 0, genCpu: 0 }
  }
  for (let r = 1; r <= ROUNDS; r++) {
    for (const kind of KINDS) {
      const a = acc[kind]
      const load = buildLoad(kind, swarms[kind], k, r, PATTERN)
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
  const out = {} as Record<Compared, RelayResult>
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

async function idleScenario(kind: Compared, n: number) {
  const server = await spawn(kind)
  const before = await memory(server)
  const swarm = await openSwarm(kind, [server], n)
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

async function main(): Promise<void> {
  const started = Date.now()
  const scenarios: Array<[number, number]> = [
    [1000, 100],
    [5000, 10],
  ]
  const relay: Record<Compared, RelayResult[]> = { ours: [], peerjs: [] }
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

const run = argv.includes('--cluster') ? () => import('./signal/cluster').then((m) => m.main(argv)) : main
run().then(
  () => process.exit(0),
  (err) => {
    console.error(err)
    process.exit(1)
  },
)
