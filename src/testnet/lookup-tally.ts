import type { RingNode } from '../ring/node'

/**
 * Lookups a simulation starts, and how they went: one is right only when it
 * reaches the peer `ownerOf` names for its key as the answer comes; a wrong
 * owner and an error (a timeout) both count as failed, and are also counted
 * apart.
 */
export class LookupTally {
  private hops: number[] = []
  private failed = 0
  private wrong = 0
  /** Lookups started and not answered or failed yet. */
  pending = 0

  constructor(private readonly ownerOf: (key: number) => number) {}

  start(from: RingNode, key: number): void {
    this.pending++
    from.lookup$(key).subscribe({
      next: ({ owner, hops }) => {
        if (owner === this.ownerOf(key)) this.hops.push(hops)
        else {
          this.failed++
          this.wrong++
        }
      },
      error: () => {
        this.failed++
        this.pending--
      },
      complete: () => this.pending--,
    })
  }

  /** Hop counts of the right ones, how many failed and how many of those named a wrong owner, since the last call. */
  take(): { hops: number[]; failed: number; wrong: number } {
    const results = { hops: this.hops, failed: this.failed, wrong: this.wrong }
    this.hops = []
    this.failed = 0
    this.wrong = 0
    return results
  }
}
