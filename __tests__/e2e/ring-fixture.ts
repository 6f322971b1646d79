/** A converged Chord ring computed from first principles, to feed the dashboard plausible reports. */
import type { Identity } from '../../src/identity'
import { seededIdentity } from '../../src/testnet/identities'

export const RING = 2 ** 48

export interface Report {
  type: 'report'
  successors: string[]
  predecessor: string | null
  fingers: Array<{ row: number; id: string }>
}

/** The identities behind fixture ids, by id (a join must prove the key). */
export const fixtureIdentities = new Map<string, Identity>()

/** Deterministic ids (identities from mulberry32-seeded keys): the same picture every run. */
export function fixtureIds(n: number, seed = 7): string[] {
  let s = seed >>> 0
  const next = (): number => {
    s = (s + 0x6d2b79f5) >>> 0
    let t = s
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 2 ** 32
  }
  const ids: string[] = []
  while (ids.length < n) {
    const identity = seededIdentity(next)
    fixtureIdentities.set(identity.id, identity)
    if (!ids.includes(identity.id)) ids.push(identity.id)
  }
  return ids
}

/** successor(key): the first peer clockwise at or after key. */
function successorOf(sorted: string[], key: number): string {
  for (const id of sorted) if (parseInt(id, 16) >= key) return id
  return sorted[0]!
}

/** What each peer of a converged ring would report: 3 successors, predecessor, every finger row. */
export function convergedReports(ids: string[]): Map<string, Report> {
  const sorted = ids.slice().sort()
  const out = new Map<string, Report>()
  sorted.forEach((id, i) => {
    const n = parseInt(id, 16)
    const successors = [1, 2, 3].filter((k) => k < sorted.length).map((k) => sorted[(i + k) % sorted.length]!)
    const fingers = Array.from({ length: 48 }, (_, row) => ({ row, id: successorOf(sorted, (n + 2 ** row) % RING) }))
    out.set(id, { type: 'report', successors, predecessor: sorted.length > 1 ? sorted[(i - 1 + sorted.length) % sorted.length]! : null, fingers })
  })
  return out
}

/** Distinct finger targets the dashboard should draw: not the peer itself, not its first successor. */
export function expectedFingerLinks(reports: Map<string, Report>): number {
  let total = 0
  for (const [id, r] of reports) total += new Set(r.fingers.map((f) => f.id).filter((f) => f !== id && f !== r.successors[0])).size
  return total
}
