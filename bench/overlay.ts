/**
 * issue 4's overlay benchmark, in one run on loopback. Each trial measures:
 * - a raw simple-peer pair (connect, RTT, throughput): the reference;
 * - a 16-peer overlay over real WebRTC: time from the first listen() until
 *   every ring pointer and finger row is right;
 * - routed sockets in a second 16-peer overlay at the default maintenance pace:
 *   RTT at 1, 2 and 3 hops, throughput at 1 and 3 hops, each as a ratio to
 *   that trial's raw pair.
 * Figures are medians over trials; ratios are against the median raw pair.
 *
 *   npm run bench:overlay [-- --json] [--peers 16] [--trials 3]
 */
import type { Explorer } from '../src'
import { explorerInternals } from '../src/explorer/internals'
import { MAX_PAYLOAD_BYTES } from '../src/wire/frame'
import { copyOnlyAead } from './copy-only-aead'
import { seededRandom } from '../src/testnet'
import type { WrtcImpl } from '../src/transport/webrtc'
import { measureRtt, measureThroughput, median, settings } from './pair/link'
import { measureRawPair, medianFigures, type PairFigures } from './raw-pair'
import { BENCH_TIMING, startCluster } from './overlay/cluster'
import { pairsByHops } from './overlay/paths'
import { socketPair, type SocketPair } from './overlay/socket-pair'

// eslint-disable-next-line @typescript-eslint/no-require-imports
const wrtc = require('@roamhq/wrtc') as WrtcImpl

const HOPS = [1, 2, 3]
const THROUGHPUT_HOPS = [1, 3]
const TARGETS = { throughput1: 0.7, addedRttPerHop: 1.5, stableMs: 5000, sealedOfCopyOnly: 0.85 }
const THROUGHPUT = settings({ bytes: 64 * 1024 * 1024, messageBytes: MAX_PAYLOAD_BYTES })
const DATA_TIMING = { stabilizeMs: 1000, fixFingersMs: 1000, rpcTimeoutMs: 4000, connectTimeoutMs: 15_000, reportMs: 1000 }

interface Trial {
  raw: PairFigures
  listenedMs: number
  ringMs: number
  stableMs: number
  rttMs: Record<number, number>
  /** Forwarding steps of a round trip for the pair measured at each hop count (2h, or 2h − 1). */
  roundTripHops: Record<number, number>
  throughputMBps: Record<number, number>
  /** 1 hop: sealed sockets (measured again after the copy-only ones, so neither order is favoured) and copy-only ones. */
  sealing?: { sealedMBps: number; copyOnlyMBps: number }
}

async function trial(peers: number, seed: number, log: (line: string) => void): Promise<Trial> {
  const raw = await measureRawPair({ wrtc })
  log(`raw pair         connect ${raw.connectMs.toFixed(1)} ms   RTT ${raw.rttMs.toFixed(3)} ms   ${raw.throughputMBps.toFixed(1)} MB/s`)
  const forming = await startCluster(peers, wrtc)
  log(`overlay          ${peers} peers: all listening after ${forming.listenedMs.toFixed(0)} ms, ring right after ${forming.ringMs.toFixed(0)} ms, fingers too (stable) after ${forming.stableMs.toFixed(0)} ms`)
  const result: Trial = { raw, listenedMs: forming.listenedMs, ringMs: forming.ringMs, stableMs: forming.stableMs, rttMs: {}, roundTripHops: {}, throughputMBps: {} }
  if (forming.problems.length > 0) log(`  not stable within 60 s: ${forming.problems.join('; ')}`)
  await forming.close()
  // Sockets are measured in an overlay at the default pace of maintenance (1 s rounds):
  // 16 peers at 100 ms rounds in one process would compete with them for the one JS thread.
  const cluster = await startCluster(peers, wrtc, DATA_TIMING)
  if (cluster.problems.length > 0) log(`  (the socket overlay was not stable either: ${cluster.problems.length} problems)`)
  try {
    const { symmetric, nearly } = await pairsByHops(cluster.explorers, HOPS, seededRandom(seed))
    for (const hops of HOPS) {
      const pair = symmetric.get(hops) ?? nearly.get(hops)
      if (!pair) {
        log(`  no pair ${hops} hops apart in this overlay`)
        continue
      }
      // A pair h there and h − 1 back stands in for h both ways: its RTT has one hop less to add.
      const roundTrip = pair.hops + pair.hopsBack
      result.rttMs[hops] = await measureRtt(pair, settings({ pings: 200 }))
      result.roundTripHops[hops] = roundTrip
      let line = `  ${hops} hop${hops > 1 ? 's' : ' '}          RTT ${result.rttMs[hops].toFixed(3)} ms${pair.hopsBack === hops ? '' : ` (${pair.hopsBack} back)`}`
      if (THROUGHPUT_HOPS.includes(hops)) {
        // Messages of one full frame each: the raw pair sends 16 KiB messages too.
        result.throughputMBps[hops] = await measureThroughput(pair, THROUGHPUT)
        line += `   ${result.throughputMBps[hops].toFixed(1)} MB/s`
        if (hops === 1) {
          const copyOnlyMBps = await copyOnlyThroughput(cluster.explorers, pair)
          const again = await measureThroughput(pair, THROUGHPUT)
          if (copyOnlyMBps !== undefined) {
            result.sealing = { sealedMBps: (result.throughputMBps[hops] + again) / 2, copyOnlyMBps }
            line += ` (again ${again.toFixed(1)}; copy-only AEAD ${copyOnlyMBps.toFixed(1)} MB/s)`
          }
        }
      }
      log(line)
      await pair.close()
    }
  } finally {
    await cluster.close()
  }
  return result
}

/**
 * The same two peers' throughput over a socket whose AEAD only copies (the
 * unencrypted path's stand-in): every explorer makes its new handshakes with
 * it for this one socket, then goes back to the shipped cipher.
 */
async function copyOnlyThroughput(explorers: Explorer[], sealed: SocketPair): Promise<number | undefined> {
  const handshakes = explorers.map((e) => explorerInternals(e).sockets.handshakes)
  const shipped = handshakes.map((h) => h.aead)
  handshakes.forEach((h) => (h.aead = copyOnlyAead))
  try {
    const pair = await socketPair(...sealed.ends)
    if (pair === null) return undefined
    try {
      return await measureThroughput(pair, THROUGHPUT)
    } finally {
      await pair.close()
    }
  } finally {
    handshakes.forEach((h, i) => (h.aead = shipped[i]))
  }
}

async function main(): Promise<void> {
  const argv = process.argv.slice(2)
  const value = (name: string, fallback: number) => (argv.includes(`--${name}`) ? Number(argv[argv.indexOf(`--${name}`) + 1]) : fallback)
  const json = argv.includes('--json')
  const peers = value('peers', 16)
  const trials = value('trials', 3)
  const log = (line: string) => !json && console.log(line)

  const results: Trial[] = []
  for (let i = 0; i < trials; i++) {
    log(`trial ${i + 1}/${trials}`)
    results.push(await trial(peers, i + 1, log))
  }
  const perTrial = (f: (t: Trial) => number | undefined) => median(results.map(f).filter((x): x is number => x !== undefined && Number.isFinite(x)))
  // The reference is the median raw pair: one raw measurement that hit a stall must not skew a whole trial.
  const raw = medianFigures(results.map((t) => t.raw))
  const rttRatio = Object.fromEntries(HOPS.map((h) => [h, perTrial((t) => t.rttMs[h] / raw.rttMs)]))
  // One more hop each way is two more forwarding steps per round trip.
  const addedRtt = Object.fromEntries(
    HOPS.slice(1).map((h) => [h, perTrial((t) => ((t.rttMs[h] - t.rttMs[h - 1]) / raw.rttMs) * (2 / (t.roundTripHops[h] - t.roundTripHops[h - 1])))]),
  )
  const throughputRatio = Object.fromEntries(THROUGHPUT_HOPS.map((h) => [h, perTrial((t) => t.throughputMBps[h] / raw.throughputMBps)]))
  // Sealed against copy-only on the same pair in the same trial.
  const sealedOfCopyOnly = perTrial((t) => (t.sealing === undefined ? undefined : t.sealing.sealedMBps / t.sealing.copyOnlyMBps))
  // A trial that never got stable counts as Infinity, not as missing.
  const stableMs = median(results.map((t) => t.stableMs))
  const summary = {
    peers,
    trials,
    timing: { forming: BENCH_TIMING, sockets: DATA_TIMING },
    raw,
    listenedMs: perTrial((t) => t.listenedMs),
    ringMs: median(results.map((t) => t.ringMs)),
    stableMs,
    rttMs: Object.fromEntries(HOPS.map((h) => [h, perTrial((t) => t.rttMs[h])])),
    throughputMBps: Object.fromEntries(THROUGHPUT_HOPS.map((h) => [h, perTrial((t) => t.throughputMBps[h])])),
    ratios: { rtt: rttRatio, addedRttPerHop: addedRtt, throughput: throughputRatio, sealedOfCopyOnly1Hop: sealedOfCopyOnly },
    targets: {
      throughput1HopAtLeast70PercentOfRaw: throughputRatio[1] >= TARGETS.throughput1,
      eachHopAddsAtMost1_5RawRtt: HOPS.slice(1).every((h) => addedRtt[h] <= TARGETS.addedRttPerHop),
      stableWithin5s: stableMs <= TARGETS.stableMs,
      sealed1HopAtLeast85PercentOfCopyOnly: sealedOfCopyOnly >= TARGETS.sealedOfCopyOnly,
    },
    samples: results,
  }
  if (json) {
    console.log(JSON.stringify(summary, null, 2))
    return
  }
  const r = summary.raw
  log('')
  log(`medians of ${trials} trials, ratios against the median raw pair`)
  log(`raw pair        connect ${r.connectMs.toFixed(1)} ms   RTT ${r.rttMs.toFixed(3)} ms   ${r.throughputMBps.toFixed(1)} MB/s`)
  log(`${peers}-peer overlay stable after ${stableMs.toFixed(0)} ms (target ≤ ${TARGETS.stableMs}); all listening after ${summary.listenedMs.toFixed(0)} ms, ring right after ${summary.ringMs.toFixed(0)} ms`)
  log(`ring timing: ${JSON.stringify(BENCH_TIMING)} to form; sockets measured at ${JSON.stringify(DATA_TIMING)}`)
  for (const h of HOPS) {
    const added = h > 1 ? `   this hop adds ${addedRtt[h].toFixed(2)} × raw RTT (target ≤ ${TARGETS.addedRttPerHop})` : ''
    log(`RTT ${h} hop${h > 1 ? 's' : ' '}      ${summary.rttMs[h].toFixed(3)} ms = ${rttRatio[h].toFixed(2)} × raw${added}`)
  }
  for (const h of THROUGHPUT_HOPS) {
    log(`throughput ${h} hop${h > 1 ? 's' : ' '} ${summary.throughputMBps[h].toFixed(1)} MB/s = ${(throughputRatio[h] * 100).toFixed(1)} % of raw${h === 1 ? ` (target ≥ ${TARGETS.throughput1 * 100} %)` : ''}`)
  }
  log(`sealed sockets, 1 hop: ${(sealedOfCopyOnly * 100).toFixed(1)} % of the same pair's throughput with a copy-only AEAD (target ≥ ${TARGETS.sealedOfCopyOnly * 100} %)`)
  log(`targets: ${Object.entries(summary.targets).map(([k, met]) => `${k} ${met ? 'met' : 'MISSED'}`).join(', ')}`)
}

main().catch((error) => {
  console.error(error)
  process.exitCode = 1
})
