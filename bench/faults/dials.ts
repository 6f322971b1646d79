import { firstValueFrom, timeout } from 'rxjs'
import type { Explorer } from '../../src'

export interface DialFailure {
  from: string
  to: string
  error: string
}

export interface Sweep {
  /** Ordered pairs dialled. */
  pairs: number
  failures: DialFailure[]
  ms: number
}

/**
 * Dials every ordered pair of `explorers` (at most `concurrency` at once),
 * sends one message on each socket and waits for the remote to echo it back.
 * A dial or echo not done within `guardMs` counts as failed.
 */
export async function dialSweep(explorers: Explorer[], concurrency: number, guardMs: number): Promise<Sweep> {
  const t0 = performance.now()
  const pairs = explorers.flatMap((a) => explorers.filter((b) => b !== a).map((b) => [a, b] as const))
  const failures: DialFailure[] = []
  let next = 0
  const worker = async (): Promise<void> => {
    while (next < pairs.length) {
      const [a, b] = pairs[next++]
      try {
        await echoOnce(a, b.id, guardMs)
      } catch (error) {
        failures.push({ from: a.id, to: b.id, error: describe(error) })
      }
    }
  }
  await Promise.all(Array.from({ length: concurrency }, worker))
  return { pairs: pairs.length, failures, ms: performance.now() - t0 }
}

/**
 * Sweeps (all ordered pairs each) until one has no failure; throws after
 * `guardMs` with the last sweep's failures. Returns every sweep.
 */
export async function sweepUntilClean(explorers: Explorer[], concurrency: number, dialGuardMs: number, guardMs: number, detail: () => string = () => ''): Promise<Sweep[]> {
  const t0 = performance.now()
  const sweeps: Sweep[] = []
  for (;;) {
    const sweep = await dialSweep(explorers, concurrency, dialGuardMs)
    sweeps.push(sweep)
    if (sweep.failures.length === 0) return sweeps
    if (performance.now() - t0 > guardMs) {
      throw new Error(`dials still failing after ${guardMs} ms: ${sweep.failures.slice(0, 8).map((f) => `${f.from}→${f.to} ${f.error}`).join('; ')}\n${detail()}`)
    }
  }
}

/** Dial, send one message, wait for its echo, close. Throws on a failed dial, a wrong echo or after guardMs. */
export async function echoOnce(from: Explorer, to: string, guardMs: number): Promise<void> {
  const message = `${from.id} → ${to} ${Math.random()}`
  const socket = await firstValueFrom(from.dial$(to).pipe(timeout(guardMs)))
  try {
    const reply = firstValueFrom(socket.data$.pipe(timeout(guardMs)))
    socket.send(message)
    const echoed = new TextDecoder().decode(await reply)
    if (echoed !== message) throw new Error(`wrong echo: ${echoed}`)
  } finally {
    socket.close()
  }
}

function describe(error: unknown): string {
  if (typeof error === 'object' && error !== null && 'code' in error) return String((error as { code: unknown }).code)
  return error instanceof Error ? error.name : String(error)
}
