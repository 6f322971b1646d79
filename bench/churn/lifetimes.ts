/**
 * Session lengths for the churn simulation, parameterised by their median M
 * (what measurement studies and Bamboo report), in ms.
 *
 * - `exp`: exponential with median M, i.e. mean M / ln 2. Memoryless: a peer
 *   that has been up for an hour is as likely to leave in the next minute as
 *   one that just arrived (Bamboo's model).
 * - `pareto`: Pareto of the second kind (Lomax, the "shifted Pareto" of Yao et
 *   al. 2006): P(S > x) = (1 + x/β)^(−α), support from 0 so short sessions
 *   exist as with `exp`, heavy tail. β is chosen so the median is M:
 *   β = M / (2^(1/α) − 1). Default shape α = 1.5 (finite mean 3.4·M, infinite
 *   variance): most sessions are short, a few last very long, as the Gnutella
 *   and Napster measurements (Saroiu et al. 2002) suggest.
 */
export type LifetimeKind = 'exp' | 'pareto'

export interface Lifetime {
  readonly kind: LifetimeKind
  readonly medianMs: number
  readonly meanMs: number
  /** A fresh session's length. */
  sample(random: () => number): number
  /**
   * How much longer a peer that is up at a random instant of the steady state
   * stays (the equilibrium residual life: density P(S > x) / mean). Starting
   * every initial peer with this makes the run stationary from t = 0 instead
   * of a burst of simultaneous arrivals.
   */
  residual(random: () => number): number
}

export const DEFAULT_PARETO_SHAPE = 1.5

/** A uniform draw in (0, 1]: safe under log and negative powers. */
const open01 = (random: () => number) => 1 - random()

export function lifetime(kind: LifetimeKind, medianMs: number, paretoShape = DEFAULT_PARETO_SHAPE): Lifetime {
  if (!(medianMs > 0)) throw new Error(`median session must be > 0 ms, got ${medianMs}`)
  if (kind === 'exp') {
    const mean = medianMs / Math.LN2
    const draw = (random: () => number) => -mean * Math.log(open01(random))
    return { kind, medianMs, meanMs: mean, sample: draw, residual: draw }
  }
  if (kind === 'pareto') {
    const alpha = paretoShape
    if (!(alpha > 1)) throw new Error(`pareto shape must be > 1 (a finite mean session), got ${alpha}`)
    const beta = medianMs / (2 ** (1 / alpha) - 1)
    // Lomax(a, β) by inversion: β·(u^(−1/a) − 1). Its equilibrium residual is Lomax(a − 1, β).
    const lomax = (a: number) => (random: () => number) => beta * (open01(random) ** (-1 / a) - 1)
    return { kind, medianMs, meanMs: beta / (alpha - 1), sample: lomax(alpha), residual: lomax(alpha - 1) }
  }
  throw new Error(`unknown lifetime distribution ${kind as string}; known: exp, pareto`)
}
