import { identityFromSeed, newIdentity, type Identity } from '../identity'
import { RING_SIZE, parseId } from '../ids'

/**
 * Ids cannot be chosen, only drawn (they are hashes of keys). Tests and
 * benchmarks that need a layout draw identities until enough fit it.
 */

/** `count` fresh identities whose ids all lie within an arc of `arcFraction` of the ring, sorted clockwise from the first. */
export function identitiesInArc(count: number, arcFraction: number, maxDraws = 100_000): Identity[] {
  const first = newIdentity()
  const start = parseId(first.id)
  const width = Math.floor(RING_SIZE * arcFraction)
  const offset = (identity: Identity) => (parseId(identity.id) - start + RING_SIZE) % RING_SIZE
  const found = [first]
  for (let draws = 0; found.length < count; draws++) {
    if (draws >= maxDraws) throw new Error(`drew ${maxDraws} identities without ${count} in an arc of ${arcFraction} of the ring`)
    const candidate = newIdentity()
    if (offset(candidate) < width) found.push(candidate)
  }
  return found.sort((a, b) => offset(a) - offset(b))
}

/** An identity from a seeded random source: the same run gives the same ids (simulation, deterministic tests). */
export function seededIdentity(random: () => number): Identity {
  const seed = new Uint8Array(32)
  for (let i = 0; i < seed.length; i++) seed[i] = Math.floor(random() * 256)
  return identityFromSeed(seed)
}

/** Draws identities from `draw` until one's numeric id satisfies `accept` (a position in the ring a test needs). */
export function identityWhere(draw: () => Identity, accept: (id: number) => boolean, maxDraws = 100_000): Identity {
  for (let i = 0; i < maxDraws; i++) {
    const identity = draw()
    if (accept(parseId(identity.id))) return identity
  }
  throw new Error(`drew ${maxDraws} identities without one where it was needed`)
}
