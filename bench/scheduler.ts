/**
 * VirtualScheduler against rxjs's VirtualTimeScheduler: schedule N one-shot
 * timers with random delays, then run them all.
 *
 *   npx tsx bench/scheduler.ts [--n 200000] [--rxjs-budget-ms 20000] [--json]
 *
 * RxJS's scheduler re-sorts its whole queue on every schedule (and shifts the
 * array on every run), so it is quadratic: it runs at growing sizes until one
 * takes longer than the budget; the ratio is reported at the largest size both
 * ran, with RxJS's time at N extrapolated quadratically from there.
 */
import { VirtualTimeScheduler, type SchedulerLike } from 'rxjs'
import { VirtualScheduler } from '../src/scheduler/virtual-scheduler'

function arg(name: string, fallback: number): number {
  const i = process.argv.indexOf(`--${name}`)
  return i >= 0 ? Number(process.argv[i + 1]) : fallback
}

const n = arg('n', 200_000)
const budgetMs = arg('rxjs-budget-ms', 20_000)
const json = process.argv.includes('--json')

/** Milliseconds to schedule `count` timers and run them; throws if any was missed. */
function run(make: () => SchedulerLike, runAll: (s: SchedulerLike) => void, count: number): number {
  let seed = 12345
  const delays = Array.from({ length: count }, () => ((seed = (Math.imul(seed, 1103515245) + 12345) >>> 0) % 100_000))
  let ran = 0
  const work = () => void ran++
  const start = performance.now()
  const s = make()
  for (const d of delays) s.schedule(work, d)
  runAll(s)
  const ms = performance.now() - start
  if (ran !== count) throw new Error(`ran ${ran} of ${count} timers`)
  return ms
}

const ours = (count: number) =>
  run(() => new VirtualScheduler(), (s) => (s as VirtualScheduler).flush(), count)
const rxjs = (count: number) =>
  run(() => new VirtualTimeScheduler(undefined, Infinity), (s) => (s as VirtualTimeScheduler).flush(), count)

ours(10_000) // warm up the JIT
const oursAtN = ours(n)
const sizes: Array<{ n: number; oursMs: number; rxjsMs: number }> = []
for (let size = 1000; size <= n; size *= 2) {
  const rxjsMs = rxjs(size)
  sizes.push({ n: size, oursMs: ours(size), rxjsMs })
  if (rxjsMs > budgetMs / 4) break // the next doubling would take ~4x as long
}
const last = sizes[sizes.length - 1]
const rxjsAtN = last.n === n ? last.rxjsMs : last.rxjsMs * (n / last.n) ** 2
const result = {
  timers: n,
  virtualSchedulerMs: Math.round(oursAtN),
  rxjsVirtualTimeSchedulerMs: Math.round(rxjsAtN),
  rxjsExtrapolated: last.n !== n,
  ratioAtN: Math.round(rxjsAtN / oursAtN),
  largestMeasured: { n: last.n, virtualSchedulerMs: +last.oursMs.toFixed(2), rxjsMs: Math.round(last.rxjsMs), ratio: Math.round(last.rxjsMs / last.oursMs) },
  sizes: sizes.map((s) => ({ n: s.n, oursMs: +s.oursMs.toFixed(2), rxjsMs: +s.rxjsMs.toFixed(2) })),
}

if (json) {
  console.log(JSON.stringify(result))
} else {
  console.log(`${n} timers: VirtualScheduler ${result.virtualSchedulerMs} ms`)
  for (const s of result.sizes) console.log(`  n=${s.n}: VirtualScheduler ${s.oursMs} ms, rxjs VirtualTimeScheduler ${s.rxjsMs} ms`)
  console.log(
    `rxjs VirtualTimeScheduler at ${n}: ${result.rxjsVirtualTimeSchedulerMs} ms${result.rxjsExtrapolated ? ' (extrapolated, quadratic)' : ''}; ratio ${result.ratioAtN}x` +
      ` (measured ratio at n=${last.n}: ${result.largestMeasured.ratio}x)`,
  )
}
