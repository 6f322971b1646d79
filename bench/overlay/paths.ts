import type { Explorer } from '../../src'
import { socketPair, type SocketPair } from './socket-pair'

/**
 * One socket pair per wanted hop count, found by dialling: a frame's path
 * length is what its Open took (Exact frames use a direct channel whenever
 * some hop has one, so it can be shorter than a key lookup's). Pairs with the
 * wrong length are closed again. Returns what it found.
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
    if (wanted.includes(pair.hops) && !found.has(pair.hops)) found.set(pair.hops, pair)
    else await pair.close()
  }
  return found
}
