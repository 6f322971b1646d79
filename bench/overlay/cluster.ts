import type { AddressInfo } from 'node:net'
import { createSignalServer } from '../../signal-server'
import { createExplorer, type Explorer, type ExplorerOptions } from '../../src'
import { explorerInternals } from '../../src/explorer/internals'
import { fingerStart, formatId } from '../../src/ids'
import { estimateRingSize } from '../../src/ring/finger-table'
import { RingOracle } from '../../src/testnet'
import type { WrtcImpl } from '../../src/transport/webrtc'

export interface Cluster {
  explorers: Explorer[]
  /** From the first listen() until every listen() resolved... */
  listenedMs: number
  /** ...until every successor and predecessor was right... */
  ringMs: number
  /** ...and until every finger row was right too (Infinity if not within the timeout). */
  stableMs: number
  /** What was still wrong at the timeout; empty when stable. */
  problems: string[]
  close(): Promise<void>
}

/** Ring rounds of 100 ms (loopback: round trips take a fraction of a millisecond). */
export const BENCH_TIMING = { stabilizeMs: 100, fixFingersMs: 50, rpcTimeoutMs: 1500, connectTimeoutMs: 3000, reportMs: 200 }

/**
 * `peers` explorers over real WebRTC against a signalling server on loopback,
 * all listening at once; resolves when the overlay is stable (see problems()),
 * or after `timeoutMs` with what was still wrong.
 */
export async function startCluster(peers: number, wrtc: WrtcImpl, options: Partial<ExplorerOptions> = {}, timeoutMs = 60_000): Promise<Cluster> {
  const server = createSignalServer({ rateLimit: false })
  await server.listen({ port: 0, host: '127.0.0.1' })
  const signalUrl = `ws://127.0.0.1:${(server.server.address() as AddressInfo).port}/ws`
  const explorers = Array.from({ length: peers }, () => createExplorer({ signalUrl, wrtc, ...BENCH_TIMING, ...options }))
  // Accept every socket; the benchmark's links read them (an echo here would answer twice).
  explorers.forEach((e) => e.incoming$.subscribe())
  const t0 = performance.now()
  await Promise.all(explorers.map((e) => e.listen()))
  const listenedMs = performance.now() - t0
  let ringMs = Infinity
  let found = problems(explorers)
  while (found.length > 0 && performance.now() - t0 < timeoutMs) {
    await new Promise((resolve) => setTimeout(resolve, 5))
    found = problems(explorers)
    if (ringMs === Infinity && !found.some((p) => p.endsWith('ring pointers'))) ringMs = performance.now() - t0
  }
  return {
    explorers,
    listenedMs,
    ringMs,
    stableMs: found.length === 0 ? performance.now() - t0 : Infinity,
    problems: found,
    close: async () => {
      await Promise.all(explorers.map((e) => e.close()))
      await server.close()
    },
  }
}

/**
 * What is still wrong: ring pointers, and finger rows that differ from the
 * true owner of their start among the rows the peer chooses (a row whose
 * owner is the peer itself is left empty).
 */
function problems(explorers: Explorer[]): string[] {
  const rings = explorers.map((e) => explorerInternals(e).ring)
  const oracle = new RingOracle(rings.map((r) => r.id))
  const found: string[] = []
  for (const r of rings) {
    if (!r.joined || r.successor !== oracle.successorOf(r.id) || r.predecessor !== oracle.predecessorOf(r.id)) found.push(`${formatId(r.id)} ring pointers`)
    for (const row of r.fingerTable.chooseRows(estimateRingSize(r.id, r.successors))) {
      const owner = oracle.owner(fingerStart(r.id, row))
      const want = owner === r.id ? undefined : owner
      const has = r.fingerTable.get(row)
      if (has !== want) {
        const name = (id: number | undefined) => (id === undefined ? 'none' : formatId(id))
        found.push(`${formatId(r.id)} row ${row} → ${name(has)}, want ${name(want)}${want !== undefined && !r.channels.has(want) ? ' (no channel to it)' : ''}`)
      }
    }
  }
  return found
}
