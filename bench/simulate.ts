/**
 * The ring at scale, in virtual time:
 *   npm run simulate -- --peers N --lookups L --seed S [--fail P] [--json]
 * Builds N peers joining concurrently, waits for convergence, optionally
 * crashes a fraction P at once and lets the ring repair, then runs L lookups.
 *
 * Churn (bench/churn/run.ts):
 *   npm run simulate -- --peers N --churn-median-minutes M --lifetime exp|pareto --duration-minutes D [--lookup-rate R] [--json]
 * After convergence, peers leave without warning when their session (median M)
 * ends and new ones join, for D virtual minutes, while lookups run.
 *
 * Both modes take the ring's timing: --stabilize-ms, --fix-fingers-ms,
 * --rpc-timeout-ms, --failure-detection-ms, --latency-ms, --ring-check-ms.
 *
 * Attackers: --malicious F [--attack self|accomplice|drop] makes a fraction F
 * of the peers lie on lookups (naming themselves, or the coalition's member
 * closest after the key) or drop what they should forward, once the ring has
 * formed; lookups then start from honest peers only, and `wrongOwners` is the
 * fraction that named a peer other than the live owner (src/testnet/adversary.ts).
 * --lookup-routes R sets the routes each lookup takes (1: one route, no
 * second opinion; default the ring's, src/ring/lookup.ts);
 * --finger-lookup-routes R those of the ring's own finger lookups (default 1).
 *
 * With --workers W (≥ 2) the static run splits the ring into W arcs, each
 * run by a worker thread, in lock-step windows of one link latency
 * (src/testnet/parallel). Deterministic for a seed and W; this script is its
 * own worker (run compiled: `npm run simulate` does).
 */
import { isMainThread } from 'node:worker_threads'
import { createTestnet, type TestnetOptions } from '../src/testnet'
import { ParallelTestnet, runPartitionWorker } from '../src/testnet/parallel'
import { runChurnCommand } from './churn/command'
import { isExplorerError } from '../src/errors'
import { adversaryFromArgs, parseArgs } from './simulate/args'
import { LookupFrames, type LookupStats, runLookups, runParallelLookups } from './simulate/lookups'

async function main() {
  const args = parseArgs(process.argv.slice(2), {
    peers: 'number', lookups: 'number', seed: 'number', fail: 'number', json: 'boolean',
    'max-fingers': 'number', successors: 'number', 'join-window-s': 'number', 'max-rounds': 'number',
    'churn-median-minutes': 'number', lifetime: 'string', 'pareto-shape': 'number', 'duration-minutes': 'number',
    'lookup-rate': 'number', initial: 'string', 'stabilize-ms': 'number', 'fix-fingers-ms': 'number',
    'rpc-timeout-ms': 'number', 'failure-detection-ms': 'number', 'latency-ms': 'number', quiet: 'boolean',
    'lookup-attempts': 'number', 'attempt-timeout-ms': 'number', 'ring-check-ms': 'number', workers: 'number',
    malicious: 'number', attack: 'string', 'lookup-routes': 'number', 'finger-lookup-routes': 'number',
  })
  const adversary = adversaryFromArgs(args)
  if (args['churn-median-minutes'] !== undefined) {
    if (adversary !== undefined) throw new Error('--malicious applies to static runs, not churn')
    if (args.workers !== undefined) throw new Error('--workers applies to static runs, not churn')
    return runChurnCommand(args)
  }
  const peers = (args.peers as number) ?? 1024
  const lookups = (args.lookups as number) ?? 1000
  const seed = (args.seed as number) ?? 1
  const fail = (args.fail as number) ?? 0
  const maxRounds = (args['max-rounds'] as number) ?? 600
  if (!(peers >= 2 && Number.isInteger(peers))) throw new Error('--peers must be an integer ≥ 2')
  if (!(fail >= 0 && fail < 1)) throw new Error('--fail must be in [0, 1)')

  // Rounds are counted in stabilize periods.
  const stabilizeMs = (args['stabilize-ms'] as number) ?? 1000
  const workers = (args.workers as number) ?? 1
  if (!(Number.isInteger(workers) && workers >= 1)) throw new Error('--workers must be an integer ≥ 1')
  const options: TestnetOptions = {
    seed,
    maxFingers: args['max-fingers'] as number | undefined,
    successors: args.successors as number | undefined,
    stabilizeMs,
    fixFingersMs: args['fix-fingers-ms'] as number | undefined,
    rpcTimeoutMs: args['rpc-timeout-ms'] as number | undefined,
    failureDetectionMs: args['failure-detection-ms'] as number | undefined,
    latencyMs: args['latency-ms'] as number | undefined,
    ringCheckMs: args['ring-check-ms'] as number | undefined,
    lookupRoutes: args['lookup-routes'] as number | undefined,
    fingerLookupRoutes: args['finger-lookup-routes'] as number | undefined,
    // Every size joins within the same 10 s: at 16,384 that is 1,600 joins a second.
    joinWindowMs: ((args['join-window-s'] as number) ?? 10) * 1000,
    adversary,
  }
  const started = Date.now()
  const run = workers === 1 ? runInOneThread : runInWorkers
  const outcome = await run(peers, options, { maxMs: maxRounds * stabilizeMs, fail, lookups, workers })
  const result = {
    peers,
    ...(workers > 1 ? { workers } : {}),
    livePeers: outcome.livePeers,
    failedPeers: outcome.failedPeers,
    seed,
    ...(adversary !== undefined ? { attack: adversary.attack, malicious: adversary.fraction, maliciousPeers: outcome.maliciousPeers } : {}),
    ...outcome.lookups,
    ...(outcome.lookupFrames !== undefined ? { framesPerLookup: outcome.lookupFrames / outcome.lookups.lookups } : {}),
    ringCorrect: outcome.ringCorrect,
    fingersCorrect: outcome.fingersCorrect,
    rounds: outcome.rounds,
    ...(outcome.repairRounds !== undefined ? { repairRounds: outcome.repairRounds } : {}),
    chordMeanHops: 0.5 * Math.log2(outcome.livePeers),
    virtualSeconds: outcome.virtualMs / 1000,
    framesSent: outcome.framesSent,
    wallMs: Date.now() - started,
    heapMB: Math.round(outcome.heapUsedBytes / 2 ** 20),
    peakRssMB: Math.round(process.resourceUsage().maxRSS / 1024),
  }
  if (args.json) console.log(JSON.stringify(result))
  else for (const [k, v] of Object.entries(result)) console.log(`${k.padEnd(16)} ${typeof v === 'number' && !Number.isInteger(v) ? v.toFixed(3) : v}`)
}

interface RunPlan {
  maxMs: number
  fail: number
  lookups: number
  workers: number
}

interface Outcome {
  rounds: number
  repairRounds?: number
  livePeers: number
  failedPeers: number
  ringCorrect: boolean
  fingersCorrect: number
  lookups: LookupStats
  /** FindSuccessor and Found frames sent during the lookups (one thread only). */
  lookupFrames?: number
  maliciousPeers?: number
  virtualMs: number
  framesSent: number
  /** Heap in use at the end, garbage included (all threads' heaps with workers). */
  heapUsedBytes: number
}

async function runInOneThread(peers: number, options: TestnetOptions, plan: RunPlan): Promise<Outcome> {
  const lookupFrames = new LookupFrames()
  const net = createTestnet(peers, { ...options, frameTap: lookupFrames.tap })
  const rounds = net.converge(plan.maxMs)
  let failedPeers = 0
  let repairRounds: number | undefined
  if (plan.fail > 0) {
    const victims = [...net.nodes.keys()].filter(() => net.random() < plan.fail)
    failedPeers = victims.length
    net.crash(victims)
    repairRounds = net.converge(plan.maxMs)
  }
  const oracle = net.oracle()
  const ringCorrect = oracle.ringCorrect(net.nodes.values())
  const fingersCorrect = oracle.fingersCorrect(net.nodes.values())
  lookupFrames.counting = true
  const lookups = await runLookups(net, plan.lookups)
  const outcome: Outcome = {
    rounds, repairRounds, livePeers: net.nodes.size, failedPeers, ringCorrect, fingersCorrect, lookups,
    lookupFrames: lookupFrames.frames, maliciousPeers: net.coalition?.members.size,
    virtualMs: net.scheduler.now(), framesSent: net.network.stats.framesSent, heapUsedBytes: process.memoryUsage().heapUsed,
  }
  net.close()
  return outcome
}

async function runInWorkers(peers: number, options: TestnetOptions, plan: RunPlan): Promise<Outcome> {
  // This very file is each worker's script, and workers do not run TypeScript.
  if (__filename.endsWith('.ts')) throw new Error('--workers needs the compiled script: run it with `npm run simulate -- ...`')
  const net = new ParallelTestnet(peers, { ...options, partitions: plan.workers, workerScript: __filename })
  try {
    const rounds = await net.converge(plan.maxMs)
    let failedPeers = 0
    let repairRounds: number | undefined
    if (plan.fail > 0) {
      const victims = net.liveIds.filter(() => net.random() < plan.fail)
      failedPeers = victims.length
      await net.crash(victims)
      repairRounds = await net.converge(plan.maxMs)
    }
    const { ringCorrect, fingersCorrect } = await net.report()
    const lookups = await runParallelLookups(net, plan.lookups)
    const stats = await net.stats()
    return {
      rounds, repairRounds, livePeers: net.liveIds.length, failedPeers, ringCorrect, fingersCorrect, lookups,
      virtualMs: net.now(), framesSent: stats.framesSent, heapUsedBytes: stats.heapUsedBytes + process.memoryUsage().heapUsed,
    }
  } finally {
    await net.close()
  }
}

if (isMainThread) {
  main().catch((error) => {
    console.error(isExplorerError(error) ? `${error.code}: ${error.message}` : error instanceof Error ? error.message : error)
    process.exit(1)
  })
} else runPartitionWorker()
