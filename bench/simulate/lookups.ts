import type { Testnet } from '../../src/testnet'
import { LookupTally, randomRingId } from '../../src/testnet'
import type { ParallelTestnet } from '../../src/testnet/parallel'

export interface LookupStats {
  lookups: number
  failedLookups: number
  meanHops: number
  p50Hops: number
  p99Hops: number
  maxHops: number
}

/** Lookups start in batches this big, run concurrently in virtual time. */
const BATCH = 1000
/** Virtual time is stepped this much at a time until a batch has answered (timeouts bound it). */
const STEP_MS = 10
const MAX_WAIT_MS = 60_000

/**
 * L lookups of random keys from random live peers. A lookup fails unless it
 * reaches the live peer responsible for the key.
 */
export async function runLookups(net: Testnet, count: number): Promise<LookupStats> {
  const oracle = net.oracle()
  const live = [...net.nodes.values()]
  const tally = new LookupTally((key) => oracle.owner(key))
  for (let done = 0; done < count; done += BATCH) {
    for (let i = done; i < Math.min(count, done + BATCH); i++) {
      const from = live[Math.floor(net.random() * live.length)]
      tally.start(from, randomRingId(net.random))
    }
    for (let waited = 0; tally.pending > 0 && waited < MAX_WAIT_MS; waited += STEP_MS) net.scheduler.advanceBy(STEP_MS)
  }
  const { hops, failed } = tally.take()
  return summarize(count, hops, failed)
}

/** The same over a parallel testnet: the partitions run the lookups, the coordinator draws them. */
export async function runParallelLookups(net: ParallelTestnet, count: number): Promise<LookupStats> {
  const live = net.liveIds
  for (let done = 0; done < count; done += BATCH) {
    const items: { from: number; key: number }[] = []
    for (let i = done; i < Math.min(count, done + BATCH); i++) {
      const from = live[Math.floor(net.random() * live.length)]
      items.push({ from, key: randomRingId(net.random) })
    }
    await net.startLookups(items)
    let progress = await net.progress()
    for (let waited = 0; progress.pendingLookups > 0 && waited < MAX_WAIT_MS; waited += STEP_MS) progress = await net.advanceTo(net.now() + STEP_MS)
  }
  const { hops, failed } = await net.lookupResults()
  return summarize(count, hops, failed)
}

function summarize(count: number, hops: number[], failed: number): LookupStats {
  hops.sort((a, b) => a - b)
  const pick = (q: number) => (hops.length ? hops[Math.min(hops.length - 1, Math.floor(q * hops.length))] : 0)
  return {
    lookups: count,
    failedLookups: failed,
    meanHops: hops.length ? hops.reduce((a, b) => a + b, 0) / hops.length : 0,
    p50Hops: pick(0.5),
    p99Hops: pick(0.99),
    maxHops: hops.length ? hops[hops.length - 1] : 0,
  }
}
