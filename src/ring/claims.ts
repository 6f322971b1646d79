import { RING_SIZE, betweenRightInclusive } from '../ids'
import type { OwnershipClaim } from '../identity/claim-proof'

/**
 * Which answer a lookup believes, when several routes answered. Every
 * answer is an ownership claim signed by the peer it names (checked before
 * it gets here). A lie can name only peers the liars hold keys for, and
 * every one of those lies after the key's true owner (the owner is the first
 * live peer at or after the key); so among proven claims the one closest
 * after the key wins, and one honest route out of several is enough.
 */

/** An answer whose proof checked, with what the route learned. */
export interface ProvenClaim<Extra = unknown> {
  claim: OwnershipClaim
  /** Hops of the request that gave it. */
  hops: number
  extra: Extra
}

/** Clockwise distance from `key` to `id` (0 when the id is the key). */
export const distanceAfter = (key: number, id: number): number => (id - key + RING_SIZE) % RING_SIZE

/**
 * Whether the claim's maker says itself that it does not own the key: the
 * predecessor it names lies at or after the key (the key is not in
 * (predecessor, owner]). Such a claim is refused. A claim without a
 * predecessor (an honest owner whose predecessor just died answers so) is
 * weighed like any other: a closer proven peer contradicts it anyway.
 */
export const claimRefused = (claim: OwnershipClaim): boolean =>
  claim.predecessor !== null && !betweenRightInclusive(claim.key, claim.predecessor, claim.owner)

/**
 * The claim a lookup believes: of those not refused, the one whose owner is
 * closest at or after the key (a proven peer there contradicts every claim
 * farther on); between claims naming the same owner, the fewer hops. Null
 * when there is none.
 */
export function chooseClaim<Extra>(claims: readonly ProvenClaim<Extra>[]): ProvenClaim<Extra> | null {
  let best: ProvenClaim<Extra> | null = null
  for (const candidate of claims) {
    if (claimRefused(candidate.claim)) continue
    if (best === null) {
      best = candidate
      continue
    }
    const distance = distanceAfter(candidate.claim.key, candidate.claim.owner)
    const bestDistance = distanceAfter(best.claim.key, best.claim.owner)
    if (distance < bestDistance || (distance === bestDistance && candidate.hops < best.hops)) best = candidate
  }
  return best
}
