/**
 * The parts an object is built of, kept beside it rather than on it, so that
 * they stay out of its public type. For tests and benchmarks only: see
 * src/ring/internals.ts and src/explorer/internals.ts.
 */
export class Internals<Owner extends object, Parts> {
  private readonly parts = new WeakMap<Owner, Parts>()

  constructor(private readonly what: string) {}

  register(owner: Owner, parts: Parts): void {
    this.parts.set(owner, parts)
  }

  of(owner: Owner): Parts {
    const parts = this.parts.get(owner)
    if (parts === undefined) throw new Error(`not ${this.what}`)
    return parts
  }
}
