import { Worker, type ResourceLimits } from 'node:worker_threads'
import { ExplorerError } from '../../errors'
import { RING_DEFAULTS } from '../../ring/options'
import { randomRingId, seededRandom } from '../random'
import type { TestnetOptions } from '../testnet'
import { createExchangeBuffer, type ExchangeShape } from './exchange'
import type { PartitionProgress, PartitionReport, PartitionSetup, PartitionStats } from './partition'
import type { PartitionCommand, PartitionReply, PartitionWorkerData } from './worker'

export interface ParallelTestnetOptions extends Omit<TestnetOptions, 'frameTap' | 'onJoined' | 'bootstrap' | 'lossRate'> {
  /** Worker threads, each running the peers of one arc of the ring (≥ 2). */
  partitions: number
  /** A script that calls runPartitionWorker() when it runs in a worker: a compiled bundle (workers do not run TypeScript). */
  workerScript: string
  /** Bytes one partition may send another in one window (default 16 MiB; a window is one link latency of virtual time). */
  regionBytes?: number
  resourceLimits?: ResourceLimits
}

/** The ring as a whole, from the partitions' reports. */
export interface RingReport {
  ringCorrect: boolean
  fingersCorrect: number
}

/** After a step: whether every successor, predecessor and finger is right, and how many lookups are still out. */
export interface RingProgress {
  converged: boolean
  pendingLookups: number
}

/**
 * A testnet whose peers run in several worker threads (src/testnet/parallel/partition.ts),
 * driven from here one command at a time: advance virtual time, crash
 * peers, start lookups, read the results. Joins are scheduled as
 * createTestnet schedules them; runs are deterministic for a given seed and
 * number of partitions (not the same run as createTestnet's for that seed).
 */
export class ParallelTestnet {
  /** The coordinator's own stream (crash victims, lookups): the partitions have theirs. */
  readonly random: () => number
  readonly stabilizeMs: number
  private readonly workers: Worker[]
  /** The pending command's settlement, per partition. */
  private readonly pending: { resolve: (value: unknown) => void; reject: (error: Error) => void }[] = []
  /** Live peers in creation order. */
  private live: number[]
  private time = 0
  private failure: Error | null = null

  constructor(n: number, options: ParallelTestnetOptions) {
    const { partitions, workerScript, regionBytes = 16 * 2 ** 20, resourceLimits, seed = 1, joinWindowMs = 10_000, ...ring } = options
    if (!(Number.isInteger(partitions) && partitions >= 2)) throw new ExplorerError('BAD_OPTIONS', `partitions must be an integer ≥ 2, got ${partitions}`)
    const { latencyMs = 1, failureDetectionMs = 1000, ringCheckMs = 2000, maxConvergeMs: _unused, ...nodeOptions } = ring
    if (!(latencyMs >= 1)) throw new ExplorerError('BAD_OPTIONS', `a parallel simulation needs a link latency of at least 1 ms (its lookahead), got ${latencyMs}`)
    this.random = seededRandom(seed)
    this.stabilizeMs = nodeOptions.stabilizeMs ?? RING_DEFAULTS.stabilizeMs
    const ids = new Set<number>()
    const peers: PartitionSetup['peers'] = []
    for (let i = 0; i < n; i++) {
      let id = randomRingId(this.random)
      while (ids.has(id)) id = randomRingId(this.random)
      ids.add(id)
      peers.push({ id, joinAt: i === 0 ? 0 : Math.floor(this.random() * joinWindowMs) })
    }
    this.live = peers.map((p) => p.id)
    const shape: ExchangeShape = { partitions, regionBytes }
    const buffer = createExchangeBuffer(shape)
    this.workers = []
    for (let partition = 0; partition < partitions; partition++) {
      const setup: PartitionSetup = { partition, partitions, seed, peers, ring: nodeOptions, latencyMs, failureDetectionMs, ringCheckMs }
      const worker = new Worker(workerScript, { workerData: { setup, buffer, shape } satisfies PartitionWorkerData, resourceLimits })
      worker.on('message', (reply: PartitionReply) => this.settle(partition, reply))
      worker.on('error', (error) => this.fail(error))
      worker.on('exit', (code) => code !== 0 && this.fail(new Error(`partition ${partition} exited with code ${code}`)))
      this.workers.push(worker)
    }
  }

  /** Live peers, in the order they were created. */
  get liveIds(): readonly number[] {
    return this.live
  }

  now(): number {
    return this.time
  }

  /** The whole ring's state now. */
  async report(): Promise<RingReport> {
    const reports = await this.all<PartitionReport>({ type: 'report' })
    const right = reports.reduce((sum, r) => sum + r.fingers.right, 0)
    const total = reports.reduce((sum, r) => sum + r.fingers.total, 0)
    return { ringCorrect: reports.every((r) => r.ringCorrect), fingersCorrect: total === 0 ? 1 : right / total }
  }

  async progress(): Promise<RingProgress> {
    return combine(await this.all<PartitionProgress>({ type: 'progress' }))
  }

  /** Runs every partition through virtual time `t`. */
  async advanceTo(t: number): Promise<RingProgress> {
    const progress = await this.all<PartitionProgress>({ type: 'advance', to: t })
    this.time = t
    return combine(progress)
  }

  /** As Testnet.converge: one stabilize period at a time until the ring and every finger are right; the rounds taken, or -1. */
  async converge(maxMs = 600_000): Promise<number> {
    const deadline = this.time + maxMs
    let progress = await this.progress()
    for (let rounds = 0; ; rounds++) {
      if (progress.converged) return rounds
      if (this.time >= deadline) return -1
      progress = await this.advanceTo(this.time + this.stabilizeMs)
    }
  }

  async crash(ids: number[]): Promise<void> {
    await this.all({ type: 'crash', ids })
    const gone = new Set(ids)
    this.live = this.live.filter((id) => !gone.has(id))
  }

  async startLookups(items: { from: number; key: number }[]): Promise<void> {
    await this.all({ type: 'lookups', items })
  }

  /** Hops of the lookups that reached the right peer since the last call, and how many did not. */
  async lookupResults(): Promise<{ hops: number[]; failed: number; wrong: number }> {
    const all = await this.all<{ hops: number[]; failed: number; wrong: number }>({ type: 'results' })
    return { hops: all.flatMap((r) => r.hops), failed: all.reduce((sum, r) => sum + r.failed, 0), wrong: all.reduce((sum, r) => sum + r.wrong, 0) }
  }

  async stats(): Promise<PartitionStats> {
    const all = await this.all<PartitionStats>({ type: 'stats' })
    return {
      framesSent: all.reduce((sum, s) => sum + s.framesSent, 0),
      heapUsedBytes: all.reduce((sum, s) => sum + s.heapUsedBytes, 0),
    }
  }

  async close(): Promise<void> {
    if (this.failure === null) await this.all({ type: 'close' }).catch(() => undefined)
    await Promise.all(this.workers.map((w) => w.terminate()))
  }

  /** Sends every partition the same command; resolves with their answers in partition order. */
  private all<T>(command: PartitionCommand): Promise<T[]> {
    if (this.failure !== null) return Promise.reject(this.failure)
    return Promise.all(
      this.workers.map(
        (worker, partition) =>
          new Promise<T>((resolve, reject) => {
            this.pending[partition] = { resolve: resolve as (value: unknown) => void, reject }
            worker.postMessage(command)
          }),
      ),
    )
  }

  private settle(partition: number, reply: PartitionReply): void {
    // Stopped by another partition's failure: that one's reply fails this command too, with the reason.
    if ('aborted' in reply) return
    const pending = this.pending[partition]
    delete this.pending[partition]
    if ('error' in reply) this.fail(new Error(`partition ${partition}: ${reply.error}`))
    else pending?.resolve(reply.ok)
  }

  /** The first failure fails every pending command and every later one: the run is over. */
  private fail(error: Error): void {
    if (this.failure === null) this.failure = error
    for (const [partition, pending] of this.pending.entries()) {
      if (pending === undefined) continue
      delete this.pending[partition]
      pending.reject(this.failure)
    }
  }
}

function combine(progress: PartitionProgress[]): RingProgress {
  return { converged: progress.every((p) => p.converged), pendingLookups: progress.reduce((sum, p) => sum + p.pendingLookups, 0) }
}
