/**
 * npm run bench:signal -- --cluster [--json] [--rounds N] [--pattern partner|random] [--only relay|idle|latency] [--baseline REF]
 *                                   [--cpu-budget CORES]
 *                                   [--targets before,embedded,redis×1,redis×2,redis×2/halves]
 *
 * The signalling server as a cluster over Redis, in one run, under the same
 * load from the same generator (this process):
 *  - before:   the embedded server as it was before the cluster (git REF, default
 *              the merge base with main), built from a `git archive` of that commit;
 *  - embedded: the embedded server now (no options: registry in memory);
 *  - redis×1:  one instance with Redis;
 *  - redis×2:  two instances with Redis, clients split over both (client i at
 *              instance ⌊i/2⌋ mod 2, so that with the partner pattern half of the
 *              signals cross instances);
 *  - redis×2/halves: the same two instances, the first half of the clients at one
 *              and the second half at the other (almost no signal crosses): what
 *              two instances give when their peers mostly signal each other.
 * (a) relay rate, rounds alternating over the four; (b) RSS per connected client
 * (10,000 idle joined clients, fresh processes); (c) signal latency, one
 * message at a time: same instance vs across instances.
 * A redis-server (Debian's, or REDIS_SERVER) is started on a free port.
 * `--cpu-budget C` caps every server process at C cores (cpu-budget.ts): how
 * the instances scale when each has CPU of its own, which a machine with two
 * cores shared by the generator, Redis and the instances cannot show otherwise.
 */
import { execSync } from 'node:child_process'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { RedisServer } from '../../__tests__/helpers/redis-server'
import { encodeFrame } from './raw-client'
import {
  PROTOCOLS, ROOT, buildChild, buildLoad, closeSwarm, cpuMicros, median, memory, mib, openSwarm, relayRound, spawnServer, stopServer,
  setCpuBudget, type Kind, type Pattern, type ServerChild, type Swarm,
} from './harness'
import { CpuBudget } from './cpu-budget'

type Name = 'before' | 'embedded' | 'redis×1' | 'redis×2' | 'redis×2/halves'
const ALL: Name[] = ['before', 'embedded', 'redis×1', 'redis×2', 'redis×2/halves']

interface Target {
  name: Name
  /** How its clients join: 'ours-unproven' for a baseline from before the proven join. */
  kind: Kind
  servers: ServerChild[]
  serverOf: (i: number) => number
}

/** The code before the cluster: a plain copy of `ref`'s tree (no checkout, no worktree), built like ours. */
function baselineTree(ref: string): { tree: string; commit: string; kind: Kind } {
  const commit = execSync(`git rev-parse ${ref}`, { cwd: ROOT, encoding: 'utf8' }).trim()
  const tree = fs.mkdtempSync(path.join(os.tmpdir(), 'bench-baseline-'))
  execSync(`git archive ${commit} | tar -x -C ${tree}`, { cwd: ROOT, shell: '/bin/bash' })
  process.once('exit', () => fs.rmSync(tree, { recursive: true, force: true }))
  return { tree, commit, kind: fs.existsSync(path.join(tree, 'signal-server/join-proof.ts')) ? 'ours' : 'ours-unproven' }
}

/** CPU seconds a process has used so far (utime + stime from /proc). */
function processCpuSeconds(pid: number): number {
  const fields = fs.readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ')
  return (Number(fields[11]) + Number(fields[12])) / 100
}

export async function main(argv: string[]): Promise<void> {
  const flag = (name: string, fallback: string) => {
    const i = argv.indexOf(name)
    return i >= 0 && argv[i + 1] ? argv[i + 1] : fallback
  }
  const JSON_OUT = argv.includes('--json')
  const ROUNDS = Number(flag('--rounds', '5'))
  const PATTERN = flag('--pattern', 'partner') as Pattern
  const ONLY = flag('--only', 'all')
  const NAMES = flag('--targets', ALL.join()).split(',') as Name[]
  const CPU_BUDGET = argv.includes('--cpu-budget') ? Number(flag('--cpu-budget', '')) : null
  if (CPU_BUDGET !== null) setCpuBudget(CpuBudget.create(CPU_BUDGET))
  if (NAMES.some((n) => !ALL.includes(n))) throw new Error(`--targets: each one of ${ALL.join(', ')}`)
  const log = (...a: unknown[]) => {
    if (!JSON_OUT) console.log(...a)
  }
  const started = Date.now()
  const baseline = baselineTree(flag('--baseline', execSync('git merge-base HEAD main', { cwd: ROOT, encoding: 'utf8' }).trim()))
  const redis = await RedisServer.start()
  log(`${redis.version()} on ${redis.url}; "before" is ${baseline.commit.slice(0, 10)}${baseline.kind === 'ours' ? '' : ' (joins without proofs)'}${CPU_BUDGET === null ? '' : `; each server process capped at ${CPU_BUDGET} cores`}`)
  let prefixes = 0

  async function spawnTarget(name: Name, n: number): Promise<Target> {
    const prefix = `bench${++prefixes}:`
    switch (name) {
      case 'before':
        return { name, kind: baseline.kind, servers: [await spawnServer(['ours'], buildChild(baseline.tree))], serverOf: () => 0 }
      case 'embedded':
        return { name, kind: 'ours', servers: [await spawnServer(['ours'])], serverOf: () => 0 }
      case 'redis×1':
        return { name, kind: 'ours', servers: [await spawnServer(['ours', redis.url, prefix])], serverOf: () => 0 }
      case 'redis×2':
      case 'redis×2/halves':
        return {
          name,
          kind: 'ours',
          servers: [await spawnServer(['ours', redis.url, prefix]), await spawnServer(['ours', redis.url, prefix])],
          serverOf: name === 'redis×2' ? (i) => (i >> 1) & 1 : (i) => (i < n / 2 ? 0 : 1),
        }
    }
  }
  const stopTarget = (t: Target) => Promise.all(t.servers.map(stopServer))
  const targetCpu = async (t: Target) => (await Promise.all(t.servers.map(cpuMicros))).reduce((a, b) => a + b, 0) / 1e6
  const redisCpu = () => processCpuSeconds(redis.pid!)

  /** Share of the load's signals whose target is at another instance. */
  const crossShare = (t: Target, swarm: Swarm, load: (i: number) => number[]) => {
    let cross = 0
    let all = 0
    swarm.ids.forEach((_, i) => {
      for (const to of load(i)) {
        all++
        if (t.serverOf(i) !== t.serverOf(to)) cross++
      }
    })
    return cross / all
  }

  async function relayScenario(n: number, k: number) {
    const targets: Target[] = []
    const swarms = new Map<Name, Swarm>()
    const acc = new Map<Name, { rates: number[]; wall: number; cpu: number; redisCpu: number; genCpu: number }>()
    for (const name of NAMES) {
      const t = await spawnTarget(name, n)
      targets.push(t)
      const swarm = await openSwarm(t.kind, t.servers, n, t.serverOf)
      swarms.set(name, swarm)
      await relayRound(swarm, buildLoad(t.kind, swarm, k, 0, PATTERN), n * k) // warm-up, not counted
      acc.set(name, { rates: [], wall: 0, cpu: 0, redisCpu: 0, genCpu: 0 })
    }
    for (let r = 1; r <= ROUNDS; r++) {
      for (const t of targets) {
        const a = acc.get(t.name)!
        const swarm = swarms.get(t.name)!
        const load = buildLoad(t.kind, swarm, k, r, PATTERN)
        const [cpu0, redis0, gen0] = [await targetCpu(t), redisCpu(), process.cpuUsage()]
        const { rate, seconds } = await relayRound(swarm, load, n * k)
        const gen = process.cpuUsage(gen0)
        a.genCpu += (gen.user + gen.system) / 1e6
        a.cpu += (await targetCpu(t)) - cpu0
        a.redisCpu += redisCpu() - redis0
        a.wall += seconds
        a.rates.push(Math.round(rate))
      }
    }
    const partnerOf = (i: number) => [(i + 1) % n]
    const out = targets.map((t) => {
      const a = acc.get(t.name)!
      const swarm = swarms.get(t.name)!
      closeSwarm(swarm)
      return {
        target: t.name, clients: n, signalsPerClient: k, rates: a.rates, median: Math.round(median(a.rates)), errors: swarm.errors,
        crossInstanceShare: PATTERN === 'partner' ? Number(crossShare(t, swarm, partnerOf).toFixed(2)) : null,
        cpuShare: { servers: +(a.cpu / a.wall).toFixed(2), redis: +(a.redisCpu / a.wall).toFixed(2), generator: +(a.genCpu / a.wall).toFixed(2) },
        /** Signals relayed per CPU-second of the servers and Redis together: the cost, whatever CPU the machine had to spare. */
        perCpuSecond: Math.round((n * k * ROUNDS) / (a.cpu + a.redisCpu)),
      }
    })
    await Promise.all(targets.map(stopTarget))
    return out
  }

  async function idleScenario(name: Name, n: number) {
    const t = await spawnTarget(name, n)
    const rss = async () => (await Promise.all(t.servers.map(memory))).reduce((sum, m) => sum + m.rss, 0)
    const empty = await rss()
    const swarm = await openSwarm(t.kind, t.servers, n, t.serverOf)
    const samples: number[] = []
    for (let i = 0; i < 3; i++) {
      await new Promise((r) => setTimeout(r, 300))
      samples.push(await rss())
    }
    const loaded = median(samples)
    closeSwarm(swarm)
    await stopTarget(t)
    return { target: name, clients: n, processes: t.servers.length, rssBytes: loaded, rssEmptyBytes: empty, bytesPerClient: Math.round((loaded - empty) / n), errors: swarm.errors }
  }

  /** One signal at a time from client `from` to client `to`; µs until it arrives. */
  async function latencies(swarm: Swarm, from: number, to: number, samples: number): Promise<number[]> {
    const frame = encodeFrame(PROTOCOLS.ours.signalFrame(swarm.ids[to], 0))
    const out: number[] = []
    for (let s = 0; s < samples; s++) {
      const t0 = process.hrtime.bigint()
      await new Promise<void>((resolve) => {
        swarm.onDelivery = resolve
        swarm.clients[from].write(frame)
      })
      out.push(Number(process.hrtime.bigint() - t0) / 1e3)
    }
    swarm.onDelivery = null
    return out
  }

  async function latencyScenario(samples: number) {
    const embedded = await spawnTarget('embedded', 2)
    const cluster = await spawnTarget('redis×2', 3)
    // Clients 0, 1 at the first instance, 2 at the second.
    const e = await openSwarm('ours', embedded.servers, 2)
    const c = await openSwarm('ours', cluster.servers, 3, (i) => (i === 2 ? 1 : 0))
    const runs = { embedded: [] as number[], sameInstance: [] as number[], crossInstance: [] as number[] }
    // Interleaved in slices, so that the machine's other work weighs on all three alike.
    for (let slice = 0; slice < 10; slice++) {
      runs.embedded.push(...(await latencies(e, 0, 1, samples / 10)))
      runs.sameInstance.push(...(await latencies(c, 0, 1, samples / 10)))
      runs.crossInstance.push(...(await latencies(c, 0, 2, samples / 10)))
    }
    closeSwarm(e)
    closeSwarm(c)
    await Promise.all([stopTarget(embedded), stopTarget(cluster)])
    const stats = (xs: number[]) => {
      const s = [...xs].sort((a, b) => a - b)
      return { medianUs: Math.round(median(s)), p99Us: Math.round(s[Math.floor(s.length * 0.99)]) }
    }
    return { samples, embedded: stats(runs.embedded), sameInstance: stats(runs.sameInstance), crossInstance: stats(runs.crossInstance) }
  }

  const relay: Array<Awaited<ReturnType<typeof relayScenario>>> = []
  if (ONLY === 'all' || ONLY === 'relay') {
    for (const [n, k] of [[1000, 100], [2500, 20]]) {
      const results = await relayScenario(n, k)
      relay.push(results)
      for (const r of results) {
        log(`${r.target.padEnd(14)} ${n} clients × ${k}: ${r.median.toLocaleString()} msg/s (rounds ${r.rates.join(', ')}; cross-instance ${r.crossInstanceShare ?? '-'}; ${r.perCpuSecond.toLocaleString()} per CPU-s; CPU share: servers ${r.cpuShare.servers}, redis ${r.cpuShare.redis}, generator ${r.cpuShare.generator})`)
      }
    }
  }
  const idle: Array<Awaited<ReturnType<typeof idleScenario>>> = []
  if (ONLY === 'all' || ONLY === 'idle') {
    for (const name of NAMES.filter((n) => n !== 'redis×2/halves')) {
      const result = await idleScenario(name, 10_000)
      idle.push(result)
      log(`${name.padEnd(14)} 10,000 idle joined clients: RSS ${mib(result.rssBytes)} over ${result.processes} process(es) (empty ${mib(result.rssEmptyBytes)}), ${(result.bytesPerClient / 1024).toFixed(2)} KiB per client`)
    }
  }
  const latency = ONLY === 'all' || ONLY === 'latency' ? await latencyScenario(2000) : null
  if (latency) {
    for (const key of ['embedded', 'sameInstance', 'crossInstance'] as const) log(`latency ${key.padEnd(13)} median ${latency[key].medianUs} µs, p99 ${latency[key].p99Us} µs`)
  }
  await redis.stop()

  const rateOf = (results: typeof relay[number], name: Name) => results.find((r) => r.target === name)?.median ?? NaN
  const rssOf = (name: Name) => idle.find((r) => r.target === name)
  const ratio = (a: number, b: number) => Number((a / b).toFixed(2))
  const out = {
    pattern: PATTERN,
    rounds: ROUNDS,
    cpuBudget: CPU_BUDGET,
    baseline: baseline.commit,
    redis: redis.version(),
    relay: relay.map((results) => ({
      clients: results[0].clients,
      signalsPerClient: results[0].signalsPerClient,
      results,
      embeddedVsBefore: ratio(rateOf(results, 'embedded'), rateOf(results, 'before')),
      redis1VsEmbedded: ratio(rateOf(results, 'redis×1'), rateOf(results, 'embedded')),
      redis2VsRedis1: ratio(rateOf(results, 'redis×2'), rateOf(results, 'redis×1')),
      redis2HalvesVsRedis1: ratio(rateOf(results, 'redis×2/halves'), rateOf(results, 'redis×1')),
    })),
    idle10k: idle,
    embeddedRssVsBefore: rssOf('embedded') && rssOf('before') ? ratio(rssOf('embedded')!.rssBytes, rssOf('before')!.rssBytes) : null,
    latency,
    unexpectedFrames: [...relay.flat(), ...idle].reduce((a, r) => a + r.errors, 0),
    seconds: Math.round((Date.now() - started) / 1000),
    node: process.version,
  }
  if (JSON_OUT) return console.log(JSON.stringify(out))
  for (const r of out.relay) {
    log(`relay ${r.clients}×${r.signalsPerClient}: embedded/before ${r.embeddedVsBefore}× (target ≥ 0.95), redis×1/embedded ${r.redis1VsEmbedded}× (target ≥ 0.7), redis×2/redis×1 ${r.redis2VsRedis1}× (target ≥ 1.3), halves ${r.redis2HalvesVsRedis1}×`)
  }
  if (out.embeddedRssVsBefore !== null) log(`RSS at 10,000 clients, embedded/before: ${out.embeddedRssVsBefore} (target ≤ 1.05)`)
  log(`unexpected frames: ${out.unexpectedFrames}; took ${out.seconds} s`)
}
