/**
 * How bench/noise.ts times its variants, in Node and in Chromium alike (this
 * file is bundled into the page too: no Node imports). The machine is shared
 * by several agents, so time is CPU time of the process doing the work (Node's
 * process.cpuUsage; in Chromium, over the DevTools protocol, the page's main
 * thread's ThreadTime, or the renderer's ProcessTime for work on other
 * threads: WebCrypto), which others' load does not inflate as it does wall
 * time (it still shares the cores' caches and hyperthreads); every variant
 * runs once per round, rounds interleave the variants, figures are medians.
 */

/** One thing to time: an operation, and the bytes it handles (0: report ms per op, not MB/s). */
export interface Variant {
  name: string
  bytes: number
  /** Part of the work runs on other threads (WebCrypto): count the whole process, not the calling thread. */
  offThread?: boolean
  op(): unknown
}

/** Runs `op` `count` times, awaiting it when it returns a Promise. */
export async function runOps(op: () => unknown, count: number): Promise<void> {
  for (let i = 0; i < count; i++) {
    const result = op()
    if (result instanceof Promise) await result
  }
}

/** CPU ms spent running variant `index` `count` times. */
export type TimeOps = (index: number, count: number) => Promise<number>

const median = (xs: number[]): number => {
  const sorted = [...xs].sort((a, b) => a - b)
  const mid = sorted.length >> 1
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2
}

/** ms per op, or MB/s (10^6 bytes) for a variant that handles bytes. */
const figure = (variant: Pick<Variant, 'bytes'>, msPerOp: number): number => (variant.bytes > 0 ? variant.bytes / msPerOp / 1000 : msPerOp)

/**
 * Each variant once per round for at least `minMs` of CPU time, in batches
 * that double until one takes half of that (the renderer's ProcessTime ticks
 * in 10 ms steps, so a batch must be long); after one warm-up batch each, and
 * each round after an untimed quarter batch, which absorbs what the previous
 * variant left behind (a garbage collection of its buffers, late promise jobs).
 */
export async function interleave(variants: Pick<Variant, 'name' | 'bytes' | 'offThread'>[], timeOps: TimeOps, rounds: number, minMs: number): Promise<Record<string, number>> {
  const batch = variants.map(() => 4)
  for (let i = 0; i < variants.length; i++) await timeOps(i, batch[i])
  const samples = variants.map(() => [] as number[])
  for (let round = 0; round < rounds; round++) {
    for (let i = 0; i < variants.length; i++) {
      await timeOps(i, Math.max(1, batch[i] >> 2))
      let ms = 0
      let ops = 0
      while (ms < minMs) {
        const spent = await timeOps(i, batch[i])
        ms += spent
        ops += batch[i]
        if (spent < minMs / 2) batch[i] *= 2
      }
      samples[i].push(figure(variants[i], ms / ops))
    }
  }
  return Object.fromEntries(variants.map((v, i) => [`${v.name} ${v.bytes > 0 ? 'MB/s' : 'ms'}`, median(samples[i])]))
}
