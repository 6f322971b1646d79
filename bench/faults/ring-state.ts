import type { Explorer } from '../../src'
import { explorerInternals } from '../../src/explorer/internals'
import { fingerStart, formatId } from '../../src/ids'
import { RingOracle } from '../../src/testnet'
import type { PeerState } from './crash-peers'

/** An in-process explorer's ring state, in the same shape as a child process reports it. */
export function localState(explorer: Explorer): PeerState {
  const ring = explorerInternals(explorer).ring
  return {
    id: ring.id,
    joined: ring.joined,
    predecessor: ring.predecessor,
    successors: [...ring.successors],
    channels: ring.channels.remotes(),
    fingers: ring.fingerTable.rows().map((row) => [row, ring.fingerTable.get(row)!]),
    forwarded: ring.router.stats.forwarded,
    framesSent: ring.router.stats.originated + ring.router.stats.forwarded,
    relayedLinkFrames: ring.links.stats.framesSent,
  }
}

/** Peers whose successor or predecessor is not the true one among `states` (all of them: the live ring). */
export function ringProblems(states: PeerState[]): string[] {
  const oracle = new RingOracle(states.map((s) => s.id))
  const problems: string[] = []
  for (const s of states) {
    const successor = s.successors[0] ?? s.id
    if (!s.joined) problems.push(`${formatId(s.id)} not joined`)
    else if (states.length > 1 && (successor !== oracle.successorOf(s.id) || s.predecessor !== oracle.predecessorOf(s.id))) {
      problems.push(`${formatId(s.id)} successor ${formatId(successor)} (want ${formatId(oracle.successorOf(s.id))}), predecessor ${s.predecessor === null ? 'none' : formatId(s.predecessor)} (want ${formatId(oracle.predecessorOf(s.id))})`)
    }
  }
  return problems
}

/** Finger rows that do not point at the true owner of their start. */
export function fingerProblems(states: PeerState[]): string[] {
  const oracle = new RingOracle(states.map((s) => s.id))
  const problems: string[] = []
  for (const s of states) {
    for (const [row, peer] of s.fingers) {
      const owner = oracle.owner(fingerStart(s.id, row))
      if (peer !== owner) problems.push(`${formatId(s.id)} row ${row} → ${formatId(peer)}, want ${formatId(owner)}`)
    }
  }
  return problems
}

/** Every peer's view, one line each: for a report when the ring is stuck. */
export function describeRing(states: PeerState[], gone: number[] = []): string {
  const name = (id: number) => `${formatId(id)}${gone.includes(id) ? '(dead)' : ''}`
  return [...states]
    .sort((a, b) => a.id - b.id)
    .map((s) => `${formatId(s.id)} joined=${s.joined} pred=${s.predecessor === null ? '-' : name(s.predecessor)} succ=[${s.successors.slice(0, 4).map(name).join(' ')}] channels=[${s.channels.map(name).join(' ')}]`)
    .join('\n')
}
