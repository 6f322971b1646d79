import type { Explorer } from '../../src'
import { socketPair, type SocketPair } from './socket-pair'

/**
 * One socket pair per wanted hop count, found by dialling: a pair counts as
 * h hops when its Open took h hops there and its Accept h hops back (Exact
 * frames use a direct channel whenever some hop has one, so a path can be
 * shorter than a key lookup's, and the way back can differ). Other pairs are
 * closed again. Returns what it found.
 */
export async function pairsByHops(explorers: Explorer[], wanted: number[], random: () => number): Promise<Map<number, SocketPair>> {
  const found = new Map<number, SocketPair>()
  const tried = new Set<string>()
  const n = explorers.length
  for (let attempt = 0; attempt < n * (n - 1) && found.size < wanted.length; attempt++) {
    const a = explorers[Math.floor(random() * n)]
    const b = explorers[Math.floor(random() * n)]
    const key = `${a.id}>${b.id}`
    if (a === b || tried.has(key)) continue
    tried.add(key)
    const pair = await socketPair(a, b)
    if (pair.hops === pair.hopsBack && wanted.includes(pair.hops) && !found.has(pair.hops)) found.set(pair.hops, pair)
    else await pair.close()
  }
  return found
}
