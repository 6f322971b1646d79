/**
 * What the NAT lab measures, shared by its test and `npm run bench:nat`:
 * - pairs: every pair of hosts opens one WebRTC channel (transport level,
 *   signals relayed by the driver), with the ICE servers the signalling
 *   server hands out; the candidate pair each one settled on;
 * - overlay: explorers join one by one, then every ordered pair dials,
 *   echoes, and says how it was linked (a direct channel and its candidate
 *   types, or through the ring).
 */
import { newIdentity, toBase64url, type Identity } from '../../src/identity'
import type { Agent } from './agents'
import type { PairResult, DialResult } from './peer-agent'
import type { SelectedPath } from '../../src/transport/webrtc/selected-path'
import { ringProblems } from '../../bench/faults/ring-state'
import type { PeerState } from '../../bench/faults/crash-peers'

/** A settled connection's candidate types, local/remote, e.g. "srflx/prflx"; "-" when none. */
export const typesOf = (path: SelectedPath | null): string => (path === null ? '-' : `${path.local.type}/${path.remote.type}`)

export interface PairOutcome {
  from: string
  to: string
  ok: boolean
  ms?: number
  /** Candidate types once settled (a little after open: ICE may switch to a better pair). */
  types?: string
  relayed?: boolean
  error?: string
}

/** Fetches each agent's ICE servers from the server, then opens one channel per unordered pair, all at once. */
export async function connectPairs(agents: Agent[], signalUrl: string, connectTimeoutMs: number, settleMs = 1500): Promise<PairOutcome[]> {
  await Promise.all(agents.map((a) => a.request('drop-channels')))
  await Promise.all(agents.map(async (a) => {
    await a.request('ice', { signalUrl })
    await a.request('transport', { connectTimeoutMs })
  }))
  const pairs = agents.flatMap((a, i) => agents.slice(i + 1).map((b) => [a, b] as const))
  return Promise.all(pairs.map(async ([a, b]): Promise<PairOutcome> => {
    const names = { from: a.host.name, to: b.host.name }
    try {
      const opened = await a.request<PairResult>('connect', { to: b.id })
      await new Promise((resolve) => setTimeout(resolve, settleMs))
      const path = (await a.request<SelectedPath | null>('path', { to: b.id })) ?? opened.path
      return { ...names, ok: true, ms: opened.ms, types: typesOf(path), relayed: path !== null && (path.local.type === 'relay' || path.remote.type === 'relay') }
    } catch (error) {
      return { ...names, ok: false, error: (error as Error).message }
    }
  }))
}

export interface ListenOutcome {
  host: string
  id: string
  ok: boolean
  ms?: number
  error?: string
}

export interface DialOutcome {
  from: string
  to: string
  ok: boolean
  ms?: number
  /** The candidate types of their direct channel, or "ring" when the socket went through other peers. */
  via?: string
  error?: string
}

export interface OverlayOutcome {
  listens: ListenOutcome[]
  /** From the last listen until every peer's successor and predecessor were right; null if not within settleMs. */
  ringCorrectMs: number | null
  /** What was wrong with the ring when the dials began (empty: nothing). */
  ringProblems: string[]
  dials: DialOutcome[]
  /** Frames all routers sent (originated and forwarded) from the first listen to the last dial, and those that took a relayed link. */
  traffic: { frames: number; overRelayedLinks: number }
}

/** `count` fresh identities sorted by id: handed out in order, peer i's ring successor is peer i + 1. */
export const ringOrderedIdentities = (count: number): Identity[] => Array.from({ length: count }, newIdentity).sort((a, b) => (a.id < b.id ? -1 : 1))

export interface OverlayOptions {
  signalUrl: string
  /**
   * One identity per agent. Ids cannot be chosen (they are derived from
   * keys), so the lab places peers in ring order by handing out identities
   * sorted by id (ringOrderedIdentities): agent i sits before agent i + 1.
   */
  identities: Identity[]
  explorerOptions: Record<string, number>
  listenTimeoutMs: number
  /** How long the ring may take to be right after the last listen (polled every 250 ms). */
  settleMs: number
  dialConcurrency: number
}

/** Joins the agents' explorers one after the other, waits (bounded) for a right ring, then dials every ordered pair. */
export async function runOverlay(agents: Agent[], o: OverlayOptions): Promise<OverlayOutcome> {
  const listens: ListenOutcome[] = []
  for (const [i, agent] of agents.entries()) {
    const id = o.identities[i].id
    const seed = toBase64url(o.identities[i].export())
    const outcome = await withTimeout(agent.request<{ ms: number }>('listen', { signalUrl: o.signalUrl, seed, options: o.explorerOptions }), o.listenTimeoutMs)
    listens.push({ host: agent.host.name, id, ...(outcome.ok ? { ok: true, ms: outcome.value.ms } : { ok: false, error: outcome.error }) })
  }
  const listening = agents.filter((_, i) => listens[i].ok)
  const notListening = listens.filter((l) => !l.ok).map((l) => `${l.id} (${l.host}) not listening`)
  const settling = performance.now()
  let problems: string[]
  let ringCorrectMs: number | null = null
  for (;;) {
    problems = ringProblems(await Promise.all(listening.map((a) => a.request<PeerState>('state')))).concat(notListening)
    if (problems.length === 0) ringCorrectMs = Math.round(performance.now() - settling)
    if (problems.length === 0 || performance.now() - settling > o.settleMs) break
    await new Promise((resolve) => setTimeout(resolve, 250))
  }
  const jobs = listening.flatMap((a) => agents.filter((b) => b !== a).map((b) => [a, b] as const))
  const dials: DialOutcome[] = []
  const next = async (): Promise<void> => {
    for (let job = jobs.shift(); job !== undefined; job = jobs.shift()) {
      const [a, b] = job
      const names = { from: a.host.name, to: b.host.name }
      try {
        const r = await a.request<DialResult>('dial', { id: o.identities[agents.indexOf(b)].id })
        dials.push({ ...names, ok: true, ms: r.ms, via: r.path === null ? 'ring' : typesOf(r.path) })
      } catch (error) {
        dials.push({ ...names, ok: false, error: (error as Error).message })
      }
    }
  }
  await Promise.all(Array.from({ length: o.dialConcurrency }, next))
  dials.sort((a, b) => `${a.from} ${a.to}`.localeCompare(`${b.from} ${b.to}`))
  const states = await Promise.all(listening.map((a) => a.request<PeerState>('state')))
  const traffic = { frames: sum(states.map((s) => s.framesSent ?? 0)), overRelayedLinks: sum(states.map((s) => s.relayedLinkFrames ?? 0)) }
  return { listens, ringCorrectMs, ringProblems: problems, dials, traffic }
}

const sum = (values: number[]): number => values.reduce((a, b) => a + b, 0)

type Timed<T> = { ok: true; value: T } | { ok: false; error: string }

function withTimeout<T>(promise: Promise<T>, ms: number): Promise<Timed<T>> {
  return new Promise((resolve) => {
    const timer = setTimeout(() => resolve({ ok: false, error: `still pending after ${ms} ms` }), ms)
    promise.then(
      (value) => (clearTimeout(timer), resolve({ ok: true, value })),
      (error: Error) => (clearTimeout(timer), resolve({ ok: false, error: error.message })),
    )
  })
}
