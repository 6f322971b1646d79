import { fingerStart } from '../ids'
import { lowerBound } from '../router/sorted-ids'
import type { RingNode } from '../ring/node'

/**
 * The global truth a simulation checks the peers against: who owns which key
 * among the live peers. No peer ever sees this.
 */
export class RingOracle {
  private readonly ids: number[]

  constructor(live: Iterable<number>) {
    this.ids = [...live].sort((a, b) => a - b)
  }

  /** The live peer responsible for `key`: the first id at or after it, wrapping. */
  owner(key: number): number {
    const i = lowerBound(this.ids, key)
    return this.ids[i % this.ids.length]
  }

  successorOf(id: number): number {
    const i = lowerBound(this.ids, id)
    return this.ids[(i + 1) % this.ids.length]
  }

  predecessorOf(id: number): number {
    const i = lowerBound(this.ids, id)
    return this.ids[(i - 1 + this.ids.length) % this.ids.length]
  }

  /** Every peer's successor and predecessor are the true ones. */
  ringCorrect(nodes: Iterable<RingNode>): boolean {
    for (const node of nodes) {
      if (!node.joined) return false
      if (this.ids.length === 1) continue
      if (node.successor !== this.successorOf(node.id) || node.predecessor !== this.predecessorOf(node.id)) return false
    }
    return true
  }

  /** Every peer's successor list is the true order after it, without gaps (a list may still be short). */
  successorListsCorrect(nodes: Iterable<RingNode>): boolean {
    for (const node of nodes) {
      let expected = node.id
      for (const s of node.successors) {
        expected = this.successorOf(expected)
        if (s !== expected) return false
      }
    }
    return true
  }

  /** Fraction of finger entries pointing at the true successor of their start (1 when there are none). */
  fingersCorrect(nodes: Iterable<RingNode>): number {
    const { right, total } = this.fingerCounts(nodes)
    return total === 0 ? 1 : right / total
  }

  /** Finger entries, and how many point at the true successor of their start (partitions of a parallel run add these up). */
  fingerCounts(nodes: Iterable<RingNode>): { right: number; total: number } {
    let total = 0
    let right = 0
    for (const node of nodes) {
      for (const [row, peer] of node.fingerTable.filled()) {
        total++
        if (peer === this.owner(fingerStart(node.id, row))) right++
      }
    }
    return { right, total }
  }

  /** Every finger entry points at the true successor of its start (stops at the first that does not). */
  fingersAllCorrect(nodes: Iterable<RingNode>): boolean {
    for (const node of nodes) if (!this.fingersRight(node)) return false
    return true
  }

  /**
   * The index of the first of `nodes`, from `start` on and wrapping, with a
   * wrong finger entry; -1 when none has. A check made every round can start
   * where the last one stopped: a wrong finger tends to stay wrong a while.
   */
  firstWrongFinger(nodes: readonly RingNode[], start = 0): number {
    for (let k = 0; k < nodes.length; k++) {
      const i = (start + k) % nodes.length
      if (!this.fingersRight(nodes[i])) return i
    }
    return -1
  }

  private fingersRight(node: RingNode): boolean {
    for (const [row, peer] of node.fingerTable.filled()) if (peer !== this.owner(fingerStart(node.id, row))) return false
    return true
  }
}
