
/** mulberry32: a tiny seedable PRNG, so a simulation with the same seed replays exactly. */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0
  return () => {
    a = (a + 0x6d2b79f5) >>> 0
    let t = a
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}

/** A uniformly random 48-bit id from a seeded source (two draws: 24 + 24 bits). */
export const randomRingId = (random: () => number): number =>
  Math.floor(random() * 2 ** 24) * 2 ** 24 + Math.floor(random() * 2 ** 24)
