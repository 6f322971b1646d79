/**
 * Timing loops shared by the Node and the Chromium halves of bench/noise.ts
 * (this file is bundled into the page too: no Node imports). The machine is
 * shared, so every variant is measured once per round, rounds interleave the
 * variants, and the figure is the median over rounds.
 */
const now = (): number => globalThis.performance.now()

/** Milliseconds per call of `op`, run (after `warmup` calls) until at least `minMs` passed. */
export async function msPerOp(op: () => unknown, minMs: number, warmup = 10): Promise<number> {
  for (let i = 0; i < warmup; i++) await op()
  let ops = 0
  const start = now()
  let elapsed = 0
  while (elapsed < minMs) {
    for (let i = 0; i < 4; i++) await op()
    ops += 4
    elapsed = now() - start
  }
  return elapsed / ops
}

/** The same for a synchronous op (no await per call, as the frame boxes are used). */
export function msPerOpSync(op: () => unknown, minMs: number, warmup = 10): number {
  for (let i = 0; i < warmup; i++) op()
  let ops = 0
  const start = now()
  let elapsed = 0
  while (elapsed < minMs) {
    for (let i = 0; i < 4; i++) op()
    ops += 4
    elapsed = now() - start
  }
  return elapsed / ops
}

/** MB/s (10^6 bytes) when each op handles `bytes`. */
export const megabytesPerSec = (ms: number, bytes: number): number => bytes / ms / 1000

/** One figure: its name says the unit. */
export interface Variant {
  name: string
  measure(): Promise<number> | number
}

const median = (xs: number[]): number => {
  const sorted = [...xs].sort((a, b) => a - b)
  const mid = sorted.length >> 1
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2
}

/** Each variant once per round, `rounds` times; the median of each. */
export async function interleave(variants: Variant[], rounds: number): Promise<Record<string, number>> {
  const samples = variants.map(() => [] as number[])
  for (let round = 0; round < rounds; round++) {
    for (let i = 0; i < variants.length; i++) samples[i].push(await variants[i].measure())
  }
  return Object.fromEntries(variants.map((v, i) => [v.name, median(samples[i])]))
}
