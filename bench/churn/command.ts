/** `npm run simulate -- --churn-median-minutes M ...`: flags to ChurnOptions, progress on stderr, the result on stdout. */
import type { LifetimeKind } from './lifetimes'
import { runChurn, type ChurnResult } from './run'

type Args = Record<string, number | boolean | string | undefined>

export function runChurnCommand(args: Args): void {
  const lifetimeKind = (args.lifetime as string | undefined) ?? 'exp'
  if (lifetimeKind !== 'exp' && lifetimeKind !== 'pareto') throw new Error(`--lifetime must be exp or pareto, got ${lifetimeKind}`)
  const initial = (args.initial as string | undefined) ?? 'stationary'
  if (initial !== 'stationary' && initial !== 'fresh') throw new Error(`--initial must be stationary or fresh, got ${initial}`)
  const peers = (args.peers as number) ?? 1000
  if (args.lookups !== undefined || args.fail !== undefined) throw new Error('--lookups and --fail are for the static simulation; churn uses --lookup-rate')
  const result = runChurn({
    peers,
    seed: (args.seed as number) ?? 1,
    lifetime: lifetimeKind as LifetimeKind,
    medianMinutes: args['churn-median-minutes'] as number,
    paretoShape: args['pareto-shape'] as number | undefined,
    durationMinutes: (args['duration-minutes'] as number) ?? 30,
    lookupRate: args['lookup-rate'] as number | undefined,
    initial,
    maxFingers: args['max-fingers'] as number | undefined,
    successors: args.successors as number | undefined,
    stabilizeMs: args['stabilize-ms'] as number | undefined,
    fixFingersMs: args['fix-fingers-ms'] as number | undefined,
    rpcTimeoutMs: args['rpc-timeout-ms'] as number | undefined,
    lookupRoutes: args['lookup-routes'] as number | undefined,
    fingerLookupRoutes: args['finger-lookup-routes'] as number | undefined,
    failureDetectionMs: args['failure-detection-ms'] as number | undefined,
    latencyMs: args['latency-ms'] as number | undefined,
    ringCheckMs: args['ring-check-ms'] as number | undefined,
    lookupAttempts: args['lookup-attempts'] as number | undefined,
    attemptTimeoutMs: args['attempt-timeout-ms'] as number | undefined,
    joinWindowMs: args['join-window-s'] !== undefined ? (args['join-window-s'] as number) * 1000 : undefined,
    maxConvergeMs: args['max-rounds'] !== undefined ? (args['max-rounds'] as number) * 1000 : undefined,
    onProgress: args.quiet ? undefined : (line) => console.error(line),
  })
  if (args.json) console.log(JSON.stringify(result))
  else printResult(result)
}

function printResult(result: ChurnResult): void {
  for (const [k, v] of Object.entries(result)) {
    if (k === 'timeline') continue
    const text = typeof v === 'object' ? JSON.stringify(v) : typeof v === 'number' && !Number.isInteger(v) ? String(v) : String(v)
    console.log(`${k.padEnd(30)} ${text}`)
  }
}
