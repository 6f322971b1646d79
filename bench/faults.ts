/**
 * issue 6's fault benchmark, over real WebRTC (@roamhq/wrtc) on loopback.
 *
 * - repair: 16 peers form a ring; 4 of them crash; time until the 12
 *   survivors' ring pointers are right, and until a sweep in which every
 *   ordered pair of survivors (132) dials and echoes. Two kinds of crash:
 *   `kill` (the 4 live in a child process, SIGKILL: silence, as a crashed
 *   machine or a lost network) and `close` (their RTCPeerConnections and
 *   WebSocket close without any overlay message, as when a tab closes).
 * - transfer: 10 MiB (640 numbered 16 KiB messages) over a 3-hop routed path
 *   p1 → p2 → p3 → p4; once 30 % arrived, one intermediate is killed
 *   (SIGKILL); time, longest stall, retransmissions; arrival byte-exact
 *   (SHA-256), in order, without duplicates. Also the same transfer without
 *   a crash, for reference.
 *
 * Figures are medians over trials.
 *
 *   npm run bench:faults [-- --json] [--trials 3] [--only repair|transfer]
 */
import type { AddressInfo } from 'node:net'
import { createSignalServer } from '../signal-server'
import type { WrtcImpl } from '../src/transport/webrtc'
import { crashAndRepair, startFaultRing, type CrashKind, type RepairFigures } from './faults/repair'
import { startTransferRing, transferThroughCrash, type TransferFigures } from './faults/transfer'

// eslint-disable-next-line @typescript-eslint/no-require-imports
const wrtc = require('@roamhq/wrtc') as WrtcImpl

// simple-peer warns for each ICE candidate that arrives after its peer closed: noise here.
const warn = console.warn.bind(console)
console.warn = (...args: unknown[]) => void (args[0] === 'Ignoring unsupported ICE candidate.' || warn(...args))

const median = (values: number[]): number => {
  const sorted = [...values].sort((a, b) => a - b)
  const mid = sorted.length >> 1
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2
}
const round = (n: number) => Math.round(n)

function arg(name: string, fallback: string): string {
  const i = process.argv.indexOf(`--${name}`)
  return i >= 0 && i + 1 < process.argv.length ? process.argv[i + 1] : fallback
}

async function withServer<T>(body: (url: string) => Promise<T>): Promise<T> {
  const app = createSignalServer({ rateLimit: false })
  await app.listen({ port: 0, host: '127.0.0.1' })
  try {
    return await body(`ws://127.0.0.1:${(app.server.address() as AddressInfo).port}/ws`)
  } finally {
    await app.close()
  }
}

type RepairRun = RepairFigures & { formedMs: number }

async function repairTrial(kind: CrashKind, log: (line: string) => void): Promise<RepairRun> {
  return withServer(async (url) => {
    const ring = await startFaultRing(url, 12, 4, wrtc, { kind })
    try {
      const f = await crashAndRepair(ring)
      const sweeps = f.sweeps.map((s) => `${s.failures} failed (${s.ms} ms)`).join(', ')
      log(`repair/${kind.padEnd(5)} formed in ${round(ring.formedMs)} ms; 4 of 16 crash (${f.channelsToVictims} channels from ${f.survivorsTouching} survivors): ring right after ${round(f.ringMs)} ms, all 132 dials after ${round(f.dialsMs)} ms, the last channel to a dead peer closed after ${round(f.channelsClosedMs)} ms; sweeps: ${sweeps}`)
      return { ...f, formedMs: ring.formedMs }
    } finally {
      await ring.close()
    }
  })
}

async function transferTrial(killedHop: 0 | 1 | 2, log: (line: string) => void): Promise<TransferFigures> {
  return withServer(async (url) => {
    // The victim is the intermediate to kill (p2 or p3); without a crash p3 lives in the child anyway.
    const ring = await startTransferRing(url, wrtc, killedHop === 1 ? 2 : 3)
    try {
      const f = await transferThroughCrash(ring, killedHop)
      const what = killedHop === 0 ? 'no crash' : `${f.killed} (intermediate ${killedHop}) killed after ${f.killedAfterMessages} messages`
      const check = f.hashMatch && f.inOrder && f.duplicates === 0 && f.bytes === 10 * 1024 * 1024 ? 'byte-exact, in order, no duplicates' : `WRONG: ${JSON.stringify({ bytes: f.bytes, hash: f.hashMatch, inOrder: f.inOrder, duplicates: f.duplicates })}`
      log(`transfer  ${f.path.join(' → ')}, ${what}: 10 MiB in ${round(f.ms)} ms (${f.mbps.toFixed(2)} MB/s), longest stall ${round(f.stallMs)} ms, ${f.sender.retransmitted} frames resent after ${f.sender.timeouts} timeouts (${f.sender.maxTimeoutsInARow} in a row); ${check}`)
      return f
    } finally {
      await ring.close()
    }
  })
}

async function main(): Promise<void> {
  const json = process.argv.includes('--json')
  const trials = Number(arg('trials', '3'))
  const only = arg('only', 'all')
  const log = (line: string) => (json ? undefined : console.log(line))
  const repairs: Record<CrashKind, RepairRun[]> = { kill: [], close: [] }
  const transfers: Record<string, TransferFigures[]> = { none: [], hop1: [], hop2: [] }
  for (let t = 0; t < trials; t++) {
    if (only === 'all' || only === 'repair') {
      for (const kind of ['kill', 'close'] as const) repairs[kind].push(await repairTrial(kind, log))
    }
    if (only === 'all' || only === 'transfer') {
      transfers.none.push(await transferTrial(0, log))
      transfers.hop2.push(await transferTrial(2, log))
      transfers.hop1.push(await transferTrial(1, log))
    }
  }
  const repairSummary = (runs: RepairRun[]) => runs.length === 0 ? null : {
    ringMsMedian: round(median(runs.map((r) => r.ringMs))),
    dialsMsMedian: round(median(runs.map((r) => r.dialsMs))),
    channelsClosedMsMedian: round(median(runs.map((r) => r.channelsClosedMs))),
    runs: runs.map((r) => ({ formedMs: round(r.formedMs), channelsToVictims: r.channelsToVictims, ringMs: round(r.ringMs), dialsMs: round(r.dialsMs), channelsClosedMs: round(r.channelsClosedMs), sweeps: r.sweeps })),
  }
  const transferSummary = (runs: TransferFigures[]) => runs.length === 0 ? null : {
    msMedian: round(median(runs.map((r) => r.ms))),
    mbpsMedian: Number(median(runs.map((r) => r.mbps)).toFixed(2)),
    stallMsMedian: round(median(runs.map((r) => r.stallMs))),
    retransmittedMedian: median(runs.map((r) => r.sender.retransmitted)),
    allExact: runs.every((r) => r.hashMatch && r.inOrder && r.duplicates === 0 && r.bytes === 10 * 1024 * 1024),
    runs: runs.map((r) => ({ ms: round(r.ms), stallMs: round(r.stallMs), killedAtMs: round(r.killedAtMs), sender: r.sender })),
  }
  const summary = {
    trials,
    repair: { kill: repairSummary(repairs.kill), close: repairSummary(repairs.close) },
    transfer: { noCrash: transferSummary(transfers.none), secondIntermediateKilled: transferSummary(transfers.hop2), firstIntermediateKilled: transferSummary(transfers.hop1) },
  }
  if (json) {
    console.log(JSON.stringify(summary))
    return
  }
  console.log(`\nmedians over ${trials} trials`)
  for (const kind of ['kill', 'close'] as const) {
    const r = summary.repair[kind]
    if (r) console.log(`repair/${kind.padEnd(5)} ring right after ${r.ringMsMedian} ms, all 132 dials after ${r.dialsMsMedian} ms, every channel to them closed after ${r.channelsClosedMsMedian} ms`)
  }
  for (const [name, t] of Object.entries(summary.transfer)) {
    if (t) console.log(`transfer ${name.padEnd(24)} 10 MiB in ${t.msMedian} ms (${t.mbpsMedian} MB/s), longest stall ${t.stallMsMedian} ms, ${t.retransmittedMedian} frames resent; all exact: ${t.allExact}`)
  }
}

main().then(
  () => process.exit(0),
  (error) => {
    console.error(error)
    process.exit(1)
  },
)
