import type { Testnet } from '../../src/testnet'
import { randomRingId } from '../../src/testnet'

export interface LookupStats {
  lookups: number
  failedLookups: number
  meanHops: number
  p50Hops: number
  p99Hops: number
  maxHops: number
}

/**
 * L lookups of random keys from random live peers, in batches run
 * concurrently in virtual time. A lookup fails unless it reaches the live
 * peer responsible for the key.
 */
export async function runLookups(net: Testnet, count: number, batch = 1000): Promise<LookupStats> {
  const oracle = net.oracle()
  const live = [...net.nodes.values()]
  const hops: number[] = []
  let failed = 0
  for (let done = 0; done < count; done += batch) {
    const pending: Promise<void>[] = []
    let open = 0
    for (let i = done; i < Math.min(count, done + batch); i++) {
      const from = live[Math.floor(net.random() * live.length)]
      const key = randomRingId(net.random)
      open++
      pending.push(
        new Promise<void>((resolve) => {
          const settle = () => {
            open--
            resolve()
          }
          from.lookup$(key).subscribe({
            next: ({ owner, hops: h }) => {
              if (owner === oracle.owner(key)) hops.push(h)
              else failed++
            },
            error: () => {
              failed++
              settle()
            },
            complete: settle,
          })
        }),
      )
    }
    // Step virtual time only until the batch has answered (timeouts bound it).
    for (let waited = 0; open > 0 && waited < 60_000; waited += 10) net.scheduler.advanceBy(10)
    await Promise.all(pending)
  }
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
