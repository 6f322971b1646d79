import { RingOp } from '../../src/ring/messages'
import type { Testnet } from '../../src/testnet'
import { LookupTally, randomRingId } from '../../src/testnet'
import type { ParallelTestnet } from '../../src/testnet/parallel'
import { FrameType } from '../../src/wire/frame'
import { ringOpOf } from '../churn/traffic'

export interface LookupStats {
  lookups: number
  /** Lookups that did not return the live owner: a wrong owner or an error. */
  failedLookups: number
  /** Fraction of the lookups that returned a peer other than the live owner. */
  wrongOwners: number
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
 * Lookup frames (FindSuccessor and Found, every hop) while `counting`: the
 * testnet's frame tap. Maintenance lookups made meanwhile count too (few in
 * a settled ring).
 */
export class LookupFrames {
  counting = false
  frames = 0
  readonly tap = (_from: number, _to: number, frame: Uint8Array): void => {
    if (!this.counting || frame[1] !== FrameType.Ring) return
    const op = ringOpOf(frame)
    if (op === RingOp.FindSuccessor || op === RingOp.Found) this.frames++
  }
}

/**
 * L lookups of random keys from random live honest peers (with a coalition
 * of malicious peers, it attacks from now on). A lookup fails unless it
 * reaches the live peer responsible for the key.
 */
export async function runLookups(net: Testnet, count: number): Promise<LookupStats> {
  const oracle = net.oracle()
  const coalition = net.coalition
  if (coalition !== null) coalition.active = true
  const live = [...net.nodes.values()].filter((node) => coalition === null || !coalition.members.has(node.id))
  const tally = new LookupTally((key) => oracle.owner(key))
  for (let done = 0; done < count; done += BATCH) {
    for (let i = done; i < Math.min(count, done + BATCH); i++) {
      const from = live[Math.floor(net.random() * live.length)]
      tally.start(from, randomRingId(net.random))
    }
    for (let waited = 0; tally.pending > 0 && waited < MAX_WAIT_MS; waited += STEP_MS) net.scheduler.advanceBy(STEP_MS)
  }
  const { hops, failed, wrong } = tally.take()
  return summarize(count, hops, failed, wrong)
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
  const { hops, failed, wrong } = await net.lookupResults()
  return summarize(count, hops, failed, wrong)
}

function summarize(count: number, hops: number[], failed: number, wrong: number): LookupStats {
  hops.sort((a, b) => a - b)
  const pick = (q: number) => (hops.length ? hops[Math.min(hops.length - 1, Math.floor(q * hops.length))] : 0)
  return {
    lookups: count,
    failedLookups: failed,
    wrongOwners: count === 0 ? 0 : wrong / count,
    meanHops: hops.length ? hops.reduce((a, b) => a + b, 0) / hops.length : 0,
    p50Hops: pick(0.5),
    p99Hops: pick(0.99),
    maxHops: hops.length ? hops[hops.length - 1] : 0,
  }
}
