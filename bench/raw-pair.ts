/**
 * The reference figures for issue 4's benchmarks: a raw simple-peer pair over
 * @roamhq/wrtc on loopback, and the same measurements through the WebRTC
 * transport's Channel, so the abstraction's overhead shows as a ratio.
 *
 *   npx tsx bench/raw-pair.ts [--json] [--trials N]
 */
import type { WrtcImpl } from '../src/transport/webrtc'
import { measureRtt, measureThroughput, median, settings, type Pair, type PairOptions, type Settings } from './pair/link'
import { rawPair } from './pair/raw-link'
import { transportPair } from './pair/transport-link'

export interface PairFigures {
  connectMs: number
  rttMs: number
  throughputMBps: number
}

export interface MeasureOptions extends PairOptions {
  /** Defaults to require('@roamhq/wrtc'). */
  wrtc?: WrtcImpl
}

// eslint-disable-next-line @typescript-eslint/no-require-imports
const nodeWrtc = (): WrtcImpl => require('@roamhq/wrtc') as WrtcImpl

async function measure(open: (wrtc: WrtcImpl, s: Settings) => Promise<Pair>, options: MeasureOptions): Promise<PairFigures> {
  const s = settings(options)
  const wrtc = options.wrtc ?? nodeWrtc()
  // Connecting is quick and noisy: the median of several fresh pairs.
  const connects: number[] = []
  for (let i = 0; i < s.connects; i++) {
    const pair = await open(wrtc, s)
    connects.push(pair.connectMs)
    await pair.close()
  }
  const pair = await open(wrtc, s)
  try {
    const rttMs = await measureRtt(pair, s)
    const throughputMBps = await measureThroughput(pair, s)
    return { connectMs: median(connects), rttMs, throughputMBps }
  } finally {
    await pair.close()
  }
}

/** Plain simple-peer + @roamhq/wrtc on loopback: median connect, median RTT, one-way throughput. */
export const measureRawPair = (options: MeasureOptions = {}): Promise<PairFigures> => measure(rawPair, options)

/** The same, through createWebRtcTransport's Channels. */
export const measureTransportPair = (options: MeasureOptions = {}): Promise<PairFigures> => measure(transportPair, options)

/** The median of each figure over trials. */
export function medianFigures(trials: PairFigures[]): PairFigures {
  return {
    connectMs: median(trials.map((t) => t.connectMs)),
    rttMs: median(trials.map((t) => t.rttMs)),
    throughputMBps: median(trials.map((t) => t.throughputMBps)),
  }
}

async function main(): Promise<void> {
  const json = process.argv.includes('--json')
  const at = process.argv.indexOf('--trials')
  const trials = at >= 0 ? Number(process.argv[at + 1]) : 5
  const raw: PairFigures[] = []
  const transport: PairFigures[] = []
  // Interleaved, so load from anything else on the machine hits both alike.
  for (let i = 0; i < trials; i++) {
    raw.push(await measureRawPair())
    transport.push(await measureTransportPair())
  }
  const r = medianFigures(raw)
  const t = medianFigures(transport)
  // Median of each trial's ratio: a load spike hits both halves of a trial alike.
  const ratioOf = (f: (x: PairFigures) => number) => median(raw.map((x, i) => f(transport[i]) / f(x)))
  const ratio = {
    connect: ratioOf((x) => x.connectMs),
    rtt: ratioOf((x) => x.rttMs),
    throughput: ratioOf((x) => x.throughputMBps),
  }
  if (json) {
    console.log(JSON.stringify({ trials, raw: r, transport: t, ratio, samples: { raw, transport } }, null, 2))
    return
  }
  const row = (name: string, f: PairFigures) =>
    `${name.padEnd(10)} connect ${f.connectMs.toFixed(1).padStart(6)} ms   RTT ${f.rttMs.toFixed(3).padStart(6)} ms   ${f.throughputMBps.toFixed(1).padStart(6)} MB/s`
  console.log(`loopback pair, median of ${trials} trials (each: 10 connects, 200 pings, 64 MiB in 16 KiB messages)`)
  console.log(row('raw', r))
  console.log(row('transport', t))
  console.log(
    `ratio*     connect ${ratio.connect.toFixed(2).padStart(6)} ×    RTT ${ratio.rtt.toFixed(2).padStart(6)} ×    ${(ratio.throughput * 100).toFixed(1).padStart(5)} % of raw throughput`,
  )
}

if (require.main === module) {
  main().catch((e) => {
    console.error(e)
    process.exitCode = 1
  })
}
