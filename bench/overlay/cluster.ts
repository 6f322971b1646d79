import type { AddressInfo } from 'node:net'
import { createSignalServer } from '../../signal-server'
import { createExplorer, type Explorer, type ExplorerOptions } from '../../src'
import { fingerStart, formatId } from '../../src/ids'
import { estimateRingSize } from '../../src/ring/finger-table'
import { RingOracle } from '../../src/testnet'
import type { WrtcImpl } from '../../src/transport/webrtc'

export interface Cluster {
  explorers: Explorer[]
  /** From the first listen() until every ring pointer and finger row was right. */
  stableMs: number
  close(): Promise<void>
}

/** Ring rounds of 200 ms: how the tests and this benchmark run the overlay. */
export const BENCH_TIMING = { stabilizeMs: 200, fixFingersMs: 100, rpcTimeoutMs: 1500, connectTimeoutMs: 3000, reportMs: 200 }

/**
 * `peers` explorers over real WebRTC against a signalling server on loopback,
 * all listening at once; resolves when the overlay is stable (see problems()).
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
  while (!stable(explorers)) {
    if (performance.now() - t0 > timeoutMs) throw new Error(`the overlay was not stable within ${timeoutMs} ms: ${problems(explorers).join(', ')}`)
    await new Promise((resolve) => setTimeout(resolve, 5))
  }
  const stableMs = performance.now() - t0
  return {
    explorers,
    stableMs,
    close: async () => {
      await Promise.all(explorers.map((e) => e.close()))
      await server.close()
    },
  }
}

function stable(explorers: Explorer[]): boolean {
  return problems(explorers).length === 0
}

/**
 * What is still wrong: ring pointers, and finger rows that differ from the
 * true owner of their start among the rows the peer chooses (a row whose
 * owner is the peer itself is left empty).
 */
function problems(explorers: Explorer[]): string[] {
  const rings = explorers.map((e) => e.ring)
  const oracle = new RingOracle(rings.map((r) => r.id))
  const found: string[] = []
  for (const r of rings) {
    if (!r.joined || r.successor !== oracle.successorOf(r.id) || r.predecessor !== oracle.predecessorOf(r.id)) found.push(`${formatId(r.id)} ring pointers`)
    for (const row of r.fingerTable.chooseRows(estimateRingSize(r.id, r.successors))) {
      const owner = oracle.owner(fingerStart(r.id, row))
      if (r.fingerTable.get(row) !== (owner === r.id ? undefined : owner)) found.push(`${formatId(r.id)} row ${row}`)
    }
  }
  return found
}
