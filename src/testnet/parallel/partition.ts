import { getHeapStatistics } from 'node:v8'
import { type Observable, Subscription, timer } from 'rxjs'
import { RING_SIZE } from '../../ids'
import { modelledProver } from '../../identity/signal-proof'
import { RingNode } from '../../ring/node'
import { RING_DEFAULTS, type RingOptions } from '../../ring/options'
import { SortedIds } from '../../router/sorted-ids'
import { VirtualScheduler } from '../../scheduler/virtual-scheduler'
import { ExplorerError } from '../../errors'
import type { Channel } from '../../transport/types'
import { LookupTally } from '../lookup-tally'
import { RingOracle } from '../oracle'
import { seededRandom } from '../random'
import { BOOTSTRAP_CANDIDATES, HINT_SEARCH, MAX_JOIN_ROUNDS, rendezvous } from '../testnet'
import type { Exchange } from './exchange'
import { PartitionOutbox, readPartitionMessages, type PartitionInbox } from './messages'
import { JointGc } from './joint-gc'
import { PartitionNetwork } from './partition-network'
import { ServerRelay } from './server-relay'

/** What every partition is told at start (the same for all but `partition`). */
export interface PartitionSetup {
  partition: number
  partitions: number
  seed: number
  /** Every peer of the simulation in creation order: the first creates the ring, each other one starts joining at `joinAt` ms. */
  peers: { id: number; joinAt: number }[]
  /** The peers' options (timings, table sizes). */
  ring: Omit<RingOptions, 'id' | 'transport' | 'scheduler' | 'random' | 'prover'>
  /** One-way link latency, ms: also the lookahead, so at least 1. */
  latencyMs: number
  failureDetectionMs: number
  /** The server's successor hints every this many ms (0: none). */
  ringCheckMs: number
}

/** What the coordinator needs after each step: whether this part of the ring is right yet, and lookups still out. */
export interface PartitionProgress {
  /** Every peer here has joined, its successor and predecessor are the true ones, and so is every finger. */
  converged: boolean
  pendingLookups: number
}

/** The state of this part of the ring, in full. */
export interface PartitionReport {
  /** Every peer here has joined, and its successor and predecessor are the true ones. */
  ringCorrect: boolean
  fingers: { right: number; total: number }
}

export interface PartitionStats {
  framesSent: number
  heapUsedBytes: number
}

/** The partition a peer id lives in: the ring is cut into equal arcs, so most successor traffic stays inside one. */
export function partitionOf(id: number, partitions: number): number {
  return Math.min(partitions - 1, Math.floor((id / RING_SIZE) * partitions))
}

/**
 * One worker's share of a parallel simulation: the peers whose ids fall in
 * its arc of the ring, on its own scheduler and memory network, doing what
 * createTestnet does for all of them (joins through the server's registry,
 * the server's successor hints) with what lives elsewhere reached through
 * the exchange.
 *
 * Time runs in windows one link latency long (`advance`): a message sent at
 * t takes effect at t + latency or later, so no partition can affect another
 * within a window, and after each window they trade what they sent.
 * Everything is deterministic for a given seed and number of partitions.
 *
 * What differs from a one-process testnet: the server's registry learns
 * whether another partition's peer has a predecessor once a round, not at
 * once; signals it relays between partitions take one latency; frames a
 * crashed peer had in flight to another partition are dropped up to one
 * latency late.
 */
export class Partition implements PartitionInbox {
  readonly scheduler = new VirtualScheduler()
  readonly network: PartitionNetwork
  /** This partition's live peers. */
  readonly nodes = new Map<number, RingNode>()
  private readonly random: () => number
  private readonly outbox: PartitionOutbox
  private readonly self: number
  private readonly partitions: number
  /** Every live peer of the simulation. */
  private readonly live: Set<number>
  private oracle: RingOracle
  /** The server's registry of peers that finished joining, all partitions'. */
  private readonly registry = new SortedIds()
  /** Registered peers of other partitions that had a predecessor at their partition's last report. */
  private readonly remoteReady = new Set<number>()
  /** What we last told the others about each of our registered peers. */
  private readonly toldReady = new Map<number, boolean>()
  private readonly hinting = new Set<number>()
  private readonly firstPeer: number
  private readonly timers = new Subscription()
  private readonly relay: ServerRelay
  private globalNext = 0
  private readonly jointGc = new JointGc()
  /** Where the last progress check found a wrong finger: the next one starts there. */
  private wrongFingerAt = 0
  private readonly lookups = new LookupTally((key) => this.oracle.owner(key))

  constructor(
    private readonly setup: PartitionSetup,
    private readonly exchange: Exchange,
  ) {
    if (!(setup.latencyMs >= 1)) throw new ExplorerError('BAD_OPTIONS', `a parallel simulation needs a link latency of at least 1 ms (its lookahead), got ${setup.latencyMs}`)
    this.self = setup.partition
    this.partitions = setup.partitions
    this.random = seededRandom((setup.seed ^ Math.imul(setup.partition + 1, 0x9e3779b9)) >>> 0)
    this.outbox = new PartitionOutbox(exchange)
    this.network = new PartitionNetwork(
      { scheduler: this.scheduler, latencyMs: setup.latencyMs, random: this.random, failureDetectionMs: setup.failureDetectionMs },
      this.self, this.partitions, this.outbox,
    )
    const connectTimeoutMs = setup.ring.connectTimeoutMs ?? RING_DEFAULTS.connectTimeoutMs
    // A relayed signal gets to the other partition one link latency later.
    const relaySignal = (session: number, from: number, to: number, signal: unknown) =>
      this.outbox.signal(partitionOf(to, this.partitions), session, from, to, this.scheduler.now() + setup.latencyMs, signal)
    this.relay = new ServerRelay(this.self, this.partitions, this.network, this.scheduler, connectTimeoutMs, relaySignal, this.nodes)
    this.live = new Set(setup.peers.map((p) => p.id))
    this.oracle = new RingOracle(this.live)
    const [first, ...joiners] = setup.peers
    this.firstPeer = first.id
    this.registry.add(first.id)
    if (this.isLocal(first.id)) this.makeNode(first.id).create()
    for (const { id, joinAt } of joiners) {
      if (!this.isLocal(id)) continue
      const node = this.makeNode(id)
      this.scheduler.schedule(() => this.joinThrough(node, this.bootstrapFor(id)), joinAt)
    }
    const stabilizeMs = this.stabilizeMs
    this.timers.add(timer(stabilizeMs, stabilizeMs, this.scheduler).subscribe(() => this.reportReadiness()))
    if (setup.ringCheckMs > 0) this.timers.add(timer(setup.ringCheckMs, setup.ringCheckMs, this.scheduler).subscribe(() => this.hintSuccessors()))
  }

  /**
   * Runs this partition, in step with the others, through every event due
   * at or before `t`. Every partition must call it with the same `t`.
   */
  advance(t: number): void {
    // What the last command made (crashes, lookups) goes out first, and we all learn what is due next.
    this.trade()
    const lookahead = this.setup.latencyMs
    while (this.globalNext <= t) {
      const end = this.globalNext + lookahead
      if (end > t) this.scheduler.advanceTo(t)
      else this.scheduler.runBefore(end)
      this.trade()
    }
    if (this.scheduler.now() < t) this.scheduler.advanceTo(t)
  }

  /** Checked after every step of a convergence: cheap (it stops at the first thing wrong). */
  progress(): PartitionProgress {
    const nodes = [...this.nodes.values()]
    let converged = this.oracle.ringCorrect(nodes)
    if (converged) {
      const wrong = this.oracle.firstWrongFinger(nodes, this.wrongFingerAt)
      converged = wrong < 0
      if (!converged) this.wrongFingerAt = wrong
    }
    return { converged, pendingLookups: this.lookups.pending }
  }

  report(): PartitionReport {
    return { ringCorrect: this.oracle.ringCorrect(this.nodes.values()), fingers: this.oracle.fingerCounts(this.nodes.values()) }
  }

  stats(): PartitionStats {
    return { framesSent: this.network.stats.framesSent, heapUsedBytes: getHeapStatistics().used_heap_size }
  }

  /** Peers vanish without warning (every partition is told of every crash, at the same virtual time). */
  crash(ids: number[]): void {
    for (const id of ids) {
      this.live.delete(id)
      this.registry.remove(id)
      this.remoteReady.delete(id)
      this.toldReady.delete(id)
      const node = this.nodes.get(id)
      if (node === undefined) continue
      this.nodes.delete(id)
      this.network.crash(id)
      node.close()
    }
    this.oracle = new RingOracle(this.live)
  }

  /** Starts a lookup of `key` from each `from` that lives here; `results` tells how they went once none is pending. */
  startLookups(items: { from: number; key: number }[]): void {
    for (const { from, key } of items) {
      const node = this.nodes.get(from)
      if (node !== undefined) this.lookups.start(node, key)
    }
  }

  /** Hop counts of the lookups that reached the right peer, and how many did not, since the last call. */
  takeLookupResults(): { hops: number[]; failed: number; wrong: number } {
    return this.lookups.take()
  }

  close(): void {
    this.timers.unsubscribe()
    for (const node of this.nodes.values()) node.close()
    this.nodes.clear()
  }

  // PartitionInbox: what the other partitions sent.

  frame(channel: number, at: number, bytes: Uint8Array): void {
    this.network.arriveBridged(channel, at, bytes)
  }

  closed(channel: number, at: number): void {
    this.network.arriveBridged(channel, at, null)
  }

  crashed(channel: number, at: number): void {
    this.network.farCrashed(channel, at)
  }

  pair(token: number, channel: number, from: number, to: number): void {
    this.network.pairAnswered(token, channel, from, to, partitionOf(to, this.partitions))
  }

  signal(session: number, from: number, to: number, at: number, signal: unknown): void {
    this.scheduler.schedule(() => this.relay.deliver(session, from, to, signal), at - this.scheduler.now())
  }

  registered(id: number): void {
    this.registry.add(id)
  }

  ready(id: number, ready: boolean): void {
    if (ready) this.remoteReady.add(id)
    else this.remoteReady.delete(id)
  }

  // Internals.

  private get stabilizeMs(): number {
    return this.setup.ring.stabilizeMs ?? RING_DEFAULTS.stabilizeMs
  }

  private isLocal(id: number): boolean {
    return partitionOf(id, this.partitions) === this.self
  }

  private makeNode(id: number): RingNode {
    // Proofs are modelled, as in the one-thread simulator (src/identity/signal-proof.ts).
    const node = new RingNode({ ...this.setup.ring, id, transport: this.network.transport(id), scheduler: this.scheduler, random: this.random, prover: modelledProver(id) })
    this.nodes.set(id, node)
    return node
  }

  /** Ends a window: trades messages with every partition, applies theirs, learns when the next window starts. */
  private trade(): void {
    const inbound = this.exchange.exchange(this.scheduler.nextTime() ?? Infinity, this.jointGc.wanted())
    for (let from = 0; from < inbound.from.length; from++) {
      if (from !== this.self) readPartitionMessages(inbound.from[from], this)
    }
    this.globalNext = inbound.globalNext
    if (inbound.collect) this.jointGc.collect()
  }

  private toOthers(send: (partition: number) => void): void {
    for (let p = 0; p < this.partitions; p++) if (p !== this.self) send(p)
  }

  /** As the signalling server does: the closest registered peer at or after `id` that is in the ring with a predecessor. */
  private bootstrapFor(id: number): number {
    for (const candidate of this.registry.from(id, BOOTSTRAP_CANDIDATES)) {
      const node = this.nodes.get(candidate)
      if (node !== undefined ? node.joined && node.predecessor !== null : this.remoteReady.has(candidate)) return candidate
    }
    return this.registry.from(id, 1)[0] ?? this.firstPeer
  }

  private joinThrough(node: RingNode, bootstrap: number, attempt = 1): void {
    if (!this.nodes.has(node.id) || !this.live.has(bootstrap)) return
    const retry = () => {
      if (attempt >= MAX_JOIN_ROUNDS) return
      const delay = this.stabilizeMs * (5 + Math.floor(this.random() * 5))
      this.scheduler.schedule(() => this.joinThrough(node, this.bootstrapFor(node.id), attempt + 1), delay)
    }
    this.rendezvous$(node.id, bootstrap).subscribe({
      next: (channel) => node.join$(channel).subscribe({ complete: () => this.registeredHere(node.id), error: retry }),
      error: retry,
    })
  }

  private registeredHere(id: number): void {
    this.registry.add(id)
    this.toOthers((p) => this.outbox.registered(p, id))
  }

  /** Tells the other partitions which of our registered peers can bootstrap others now (the server learns it from peers' reports). */
  private reportReadiness(): void {
    for (const node of this.nodes.values()) {
      if (!this.registry.has(node.id)) continue
      const ready = node.joined && node.predecessor !== null
      if (this.toldReady.get(node.id) === ready) continue
      this.toldReady.set(node.id, ready)
      this.toOthers((p) => this.outbox.ready(p, node.id, ready))
    }
  }

  /** The server's successor hints (see createTestnet). */
  private hintSuccessors(): void {
    for (const node of this.nodes.values()) {
      if (!node.joined || this.hinting.has(node.id)) continue
      const next = this.registry
        .from((node.id + 1) % RING_SIZE, HINT_SEARCH)
        // (Another partition's registered peer has joined: it is only listed once it has.)
        .find((id) => id !== node.id && (this.nodes.get(id)?.joined ?? true))
      if (next === undefined || !node.wantsSuccessor(next)) continue
      this.hinting.add(node.id)
      this.rendezvous$(node.id, next).subscribe({
        next: (channel) => {
          this.hinting.delete(node.id)
          node.channels.add(channel, node.id)
        },
        error: () => this.hinting.delete(node.id),
      })
    }
  }

  /** The server pairs `joiner` (ours) with `host`: in process when the host is ours too, else relayed through the exchange. */
  private rendezvous$(joiner: number, host: number): Observable<Channel> {
    const hostNode = this.nodes.get(host)
    if (hostNode !== undefined) return rendezvous(this.network.transport(joiner), joiner, this.network.transport(host), hostNode)
    return this.relay.dial$(joiner, host)
  }
}
