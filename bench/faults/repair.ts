import { createExplorer, type Explorer, type ExplorerOptions } from '../../src'
import { explorerInternals } from '../../src/explorer/internals'
import { newIdentity } from '../../src/identity'
import { formatId } from '../../src/ids'
import type { WrtcImpl } from '../../src/transport/webrtc'
import { spawnPeers, type PeerState } from './crash-peers'
import { sweepUntilClean } from './dials'
import { describeRing, fingerProblems, localState, ringProblems } from './ring-state'

/**
 * Ring rounds of 200 ms, as in the overlay integration test; a server that
 * goes away is retried after 200 ms … 2 s (jittered, doubling); dials give up
 * after 4 s (a sweep retries them).
 */
export const FAULT_TIMING: Partial<ExplorerOptions> = {
  stabilizeMs: 200, fixFingersMs: 100, rpcTimeoutMs: 1500, connectTimeoutMs: 3000, reportMs: 200,
  reconnectMinMs: 200, reconnectMaxMs: 2000, dialTimeoutMs: 4000,
}

/**
 * How the victims go:
 * - `kill`: they live in a child process, killed with SIGKILL (a crash, a
 *   machine or network gone): nothing reaches anyone, their neighbours learn
 *   it from silence;
 * - `close`: in this process, their ring closes (every channel, so every
 *   RTCPeerConnection, torn down at once: SCTP ABORT reaches the other end)
 *   and then the explorer (the server sees its WebSocket close) without any
 *   overlay message: what closing a browser tab does.
 */
export type CrashKind = 'kill' | 'close'

/** The peers that will crash. */
export interface Victims {
  readonly ids: string[]
  readonly alive: boolean
  states(): Promise<PeerState[]>
  /** Resolves once they are gone. */
  kill(): Promise<void>
}

/** Victims in this process: `kill()` closes their transport without a word (see CrashKind `close`). */
export function inProcessVictims(explorers: Explorer[]): Victims {
  let alive = true
  return {
    ids: explorers.map((e) => e.id),
    get alive() {
      return alive
    },
    states: async () => explorers.map(localState),
    kill: async () => {
      if (!alive) return
      alive = false
      // The ring first: with its router closed, not even a socket's Close can leave.
      for (const e of explorers) explorerInternals(e).ring.close()
      await Promise.all(explorers.map((e) => e.close()))
    },
  }
}

/** A ring whose `victims` can crash (see CrashKind). */
export interface FaultRing {
  /** The in-process peers: the survivors. */
  explorers: Explorer[]
  victims: Victims
  kind: CrashKind
  /** From the first listen() until every ring pointer and finger row was right. */
  formedMs: number
  /** Every peer's state, victims included (while they live). */
  states(): Promise<PeerState[]>
  close(): Promise<void>
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))

/** Polls `check` (a list of what is still wrong) until it is empty; throws with the last list after `guardMs`. */
export async function until(check: () => Promise<string[]> | string[], guardMs: number, what: string, detail?: () => Promise<string>): Promise<number> {
  const t0 = performance.now()
  let problems = await check()
  while (problems.length > 0) {
    if (performance.now() - t0 > guardMs) {
      const extra = detail ? `\n${await detail()}` : ''
      throw new Error(`${what}: still wrong after ${guardMs} ms: ${problems.slice(0, 8).join('; ')}${extra}`)
    }
    await sleep(20)
    problems = await check()
  }
  return performance.now() - t0
}

/** Every accepted socket echoes each message back. */
export function echo(explorer: Explorer): void {
  explorer.incoming$.subscribe((socket) => socket.data$.subscribe({ next: (data) => socket.send(data), error: () => undefined, complete: () => socket.close() }))
}

/**
 * `local` explorers in this process and `victims` that can crash (in a child
 * process for `kill`, here for `close`) join one ring through the server at
 * `signalUrl`; resolves once every successor, predecessor and finger row is
 * right. Whatever fails, nothing is left running.
 */
export async function startFaultRing(
  signalUrl: string, local: number, victims: number, wrtc: WrtcImpl,
  { kind = 'kill', options = FAULT_TIMING, perLocal = () => ({}), guardMs = 60_000 }: { kind?: CrashKind; options?: Partial<ExplorerOptions>; perLocal?: (index: number) => Partial<ExplorerOptions>; guardMs?: number } = {},
): Promise<FaultRing> {
  const explorers = Array.from({ length: local }, (_, i) => createExplorer({ ...options, ...perLocal(i), signalUrl, wrtc }))
  explorers.forEach(echo)
  const t0 = performance.now()
  const doomed = kind === 'close' ? Array.from({ length: victims }, () => createExplorer({ ...options, signalUrl, wrtc })) : []
  doomed.forEach(echo)
  const victims$: Promise<Victims> = kind === 'kill'
    ? spawnPeers(signalUrl, Array.from({ length: victims }, newIdentity), options)
    : Promise.all(doomed.map((e) => e.listen())).then(() => inProcessVictims(doomed))
  let proc: Victims | null = null
  const states = async () => [...explorers.map(localState), ...(proc?.alive ? await proc.states() : [])]
  const close = async () => {
    await proc?.kill()
    await Promise.all([...explorers, ...doomed].map((e) => e.close()))
  }
  try {
    ;[proc] = await Promise.all([victims$, ...explorers.map((e) => e.listen())])
    await until(async () => {
      const all = await states()
      return [...ringProblems(all), ...fingerProblems(all)]
    }, guardMs, 'the ring to form', async () => describeRing(await states()))
  } catch (error) {
    proc ??= await victims$.catch(() => null)
    await close()
    throw error
  }
  return { explorers, victims: proc, kind, formedMs: performance.now() - t0, states, close }
}

export interface RepairFigures {
  victims: string[]
  /** Survivors with a channel to at least one victim at the crash, and such channels in all. */
  survivorsTouching: number
  channelsToVictims: number
  kind: CrashKind
  /** From the crash until every survivor's successor and predecessor were right (among survivors). */
  ringMs: number
  /** ...until a sweep in which every ordered pair of survivors dialled and echoed (the sweep's end). */
  dialsMs: number
  /**
   * ...until no survivor had a channel to a victim left (libwebrtc declared
   * each connection failed, or the ring dropped it). Last: routes into a
   * dead channel are lost until then.
   */
  channelsClosedMs: number
  /** Every sweep, the failing ones first: pairs, failures by code, duration. */
  sweeps: { ms: number; failures: number; codes: Record<string, number> }[]
}

/**
 * Crashes the victims (see CrashKind), then measures how long the survivors take
 * to repair the ring, and until all of them can dial each other again.
 */
export async function crashAndRepair(ring: FaultRing, concurrency = 8, guardMs = 60_000): Promise<RepairFigures> {
  const victims = ring.victims.ids
  const victimIds = new Set(victims.map((id) => parseInt(id, 16)))
  let channelsToVictims = 0
  let survivorsTouching = 0
  for (const e of ring.explorers) {
    const n = explorerInternals(e).ring.channels.remotes().filter((id) => victimIds.has(id)).length
    channelsToVictims += n
    if (n > 0) survivorsTouching++
  }
  const t0 = performance.now()
  await ring.victims.kill()
  const survivors = () => ring.explorers.map(localState)
  await until(() => ringProblems(survivors()), guardMs, 'the ring to repair', async () => describeRing(survivors(), [...victimIds]))
  const ringMs = performance.now() - t0
  const sweeps = await sweepUntilClean(ring.explorers, concurrency, FAULT_TIMING.dialTimeoutMs! + 1000, guardMs - ringMs, () => describeRing(survivors(), [...victimIds]))
  const dialsMs = performance.now() - t0
  const deadChannels = () => ring.explorers.flatMap((e) => explorerInternals(e).ring.channels.remotes().filter((id) => victimIds.has(id)).map((id) => `${e.id} → ${formatId(id)}`))
  await until(deadChannels, Math.max(guardMs - dialsMs, 30_000), 'every channel to a crashed peer to close')
  const channelsClosedMs = performance.now() - t0
  return {
    victims,
    kind: ring.kind,
    survivorsTouching,
    channelsToVictims,
    ringMs,
    dialsMs,
    channelsClosedMs,
    sweeps: sweeps.map((s) => ({
      ms: Math.round(s.ms),
      failures: s.failures.length,
      codes: s.failures.reduce<Record<string, number>>((acc, f) => ((acc[f.error] = (acc[f.error] ?? 0) + 1), acc), {}),
    })),
  }
}

