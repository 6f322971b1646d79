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
 */
import { createTestnet } from '../src/testnet'
import { runChurnCommand } from './churn/command'
import { parseArgs } from './simulate/args'
import { runLookups } from './simulate/lookups'

async function main() {
  const args = parseArgs(process.argv.slice(2), {
    peers: 'number', lookups: 'number', seed: 'number', fail: 'number', json: 'boolean',
    'max-fingers': 'number', successors: 'number', 'join-window-s': 'number', 'max-rounds': 'number',
    'churn-median-minutes': 'number', lifetime: 'string', 'pareto-shape': 'number', 'duration-minutes': 'number',
    'lookup-rate': 'number', initial: 'string', 'stabilize-ms': 'number', 'fix-fingers-ms': 'number',
    'rpc-timeout-ms': 'number', 'failure-detection-ms': 'number', 'latency-ms': 'number', quiet: 'boolean',
    'lookup-attempts': 'number', 'attempt-timeout-ms': 'number', 'ring-check-ms': 'number',
  })
  if (args['churn-median-minutes'] !== undefined) return runChurnCommand(args)
  const peers = (args.peers as number) ?? 1024
  const lookups = (args.lookups as number) ?? 1000
  const seed = (args.seed as number) ?? 1
  const fail = (args.fail as number) ?? 0
  const maxRounds = (args['max-rounds'] as number) ?? 600
  if (!(peers >= 2 && Number.isInteger(peers))) throw new Error('--peers must be an integer ≥ 2')
  if (!(fail >= 0 && fail < 1)) throw new Error('--fail must be in [0, 1)')

  // Rounds are counted in stabilize periods.
  const stabilizeMs = (args['stabilize-ms'] as number) ?? 1000
  const started = Date.now()
  const net = createTestnet(peers, {
    seed,
    maxFingers: args['max-fingers'] as number | undefined,
    successors: args.successors as number | undefined,
    stabilizeMs,
    fixFingersMs: args['fix-fingers-ms'] as number | undefined,
    rpcTimeoutMs: args['rpc-timeout-ms'] as number | undefined,
    failureDetectionMs: args['failure-detection-ms'] as number | undefined,
    latencyMs: args['latency-ms'] as number | undefined,
    ringCheckMs: args['ring-check-ms'] as number | undefined,
    // Every size joins within the same 10 s: at 16,384 that is 1,600 joins a second.
    joinWindowMs: ((args['join-window-s'] as number) ?? 10) * 1000,
  })
  const rounds = net.converge(maxRounds * stabilizeMs)

  let failed = 0
  let repairRounds: number | undefined
  if (fail > 0) {
    const victims = [...net.nodes.keys()].filter(() => net.random() < fail)
    failed = victims.length
    net.crash(victims)
    repairRounds = net.converge(maxRounds * stabilizeMs)
  }

  const oracle = net.oracle()
  const ringCorrect = oracle.ringCorrect(net.nodes.values())
  const fingersCorrect = oracle.fingersCorrect(net.nodes.values())
  const stats = await runLookups(net, lookups)
  const result = {
    peers,
    livePeers: net.nodes.size,
    failedPeers: failed,
    seed,
    ...stats,
    ringCorrect,
    fingersCorrect,
    rounds,
    ...(repairRounds !== undefined ? { repairRounds } : {}),
    chordMeanHops: 0.5 * Math.log2(net.nodes.size),
    virtualSeconds: net.scheduler.now() / 1000,
    framesSent: net.network.stats.framesSent,
    wallMs: Date.now() - started,
    heapMB: Math.round(process.memoryUsage().heapUsed / 2 ** 20),
    peakRssMB: Math.round(process.resourceUsage().maxRSS / 1024),
  }
  net.close()
  if (args.json) console.log(JSON.stringify(result))
  else for (const [k, v] of Object.entries(result)) console.log(`${k.padEnd(16)} ${typeof v === 'number' && !Number.isInteger(v) ? v.toFixed(3) : v}`)
}

main().catch((error) => {
  console.error(error instanceof Error ? error.message : error)
  process.exit(1)
})
