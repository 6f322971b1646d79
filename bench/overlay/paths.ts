import type { Explorer } from '../../src'
import { socketPair, type SocketPair } from './socket-pair'

/** Sockets whose frames take h hops there, and how many back (routes need not be symmetric). */
export interface PathPairs {
  /** h hops there and h back, for each wanted h that exists in the overlay. */
  symmetric: Map<number, SocketPair>
  /** For each wanted h without a symmetric pair: one with h hops there and h − 1 back, if any. */
  nearly: Map<number, SocketPair>
}

/**
 * Socket pairs by path length, found by dialling every ordered pair (in random
 * order) and reading the hops their Open took there and their Accept back.
 * Exact frames use a direct channel whenever some hop has one, so paths are
 * often shorter than a key lookup's. Pairs not kept are closed again; dials
 * that fail (an overlay still settling) are skipped.
 */
export async function pairsByHops(explorers: Explorer[], wanted: number[], random: () => number): Promise<PathPairs> {
  const symmetric = new Map<number, SocketPair>()
  const nearly = new Map<number, SocketPair>()
  const pairs = explorers.flatMap((a) => explorers.filter((b) => b !== a).map((b) => [a, b] as const))
  for (let i = pairs.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1))
    ;[pairs[i], pairs[j]] = [pairs[j], pairs[i]]
  }
  for (const [a, b] of pairs) {
    if (symmetric.size === wanted.length) break
    const pair = await socketPair(a, b)
    if (pair === null) continue
    const h = pair.hops
    if (wanted.includes(h) && pair.hopsBack === h && !symmetric.has(h)) symmetric.set(h, pair)
    else if (wanted.includes(h) && pair.hopsBack === h - 1 && !nearly.has(h)) nearly.set(h, pair)
    else await pair.close()
  }
  for (const [h, pair] of nearly) {
    if (symmetric.has(h)) {
      nearly.delete(h)
      await pair.close()
    }
  }
  return { symmetric, nearly }
}
