import type { RegistryHooks } from '../peer-registry'
import type { Session } from '../session'
import type { ClusterMetrics } from './metrics'
import type { RedisStore } from './store'

/** Signals, and bytes, to other instances in one script call at most (a burst beyond goes in several). */
const MAX_BATCH = 512
const MAX_BATCH_BYTES = 1024 * 1024
/**
 * Script calls awaiting Redis's answer at once. More wait here: so what Redis
 * holds, and may publish at once after a stall, stays small next to its limit
 * on a subscriber's output buffer (32 MB by default, then it disconnects it).
 */
const WINDOW = 8
/** Bytes of signals waiting here or at Redis, at most: past it Redis is not keeping up, and new signals are refused. */
export const MAX_PENDING_BYTES = 64 * 1024 * 1024

interface Batch {
  senders: Session[]
  /** Pairs: target id, frame. */
  args: string[]
  bytes: number
  /** When it was closed (ms): one that waited longer than a command may take is refused, not sent late. */
  closedAt: number
}

/**
 * Signals for peers joined at other instances, gathered over one event-loop
 * turn and sent as one RELAY script call: Redis looks up each target's
 * instance and publishes one message per instance with all of its frames. A
 * target no live instance owns comes back, and its sender gets UNKNOWN_PEER;
 * if Redis cannot be reached, or does not answer in time, REGISTRY_UNAVAILABLE.
 * At most WINDOW calls are at Redis at once; the rest queue here, bounded.
 */
export class RelayBatch {
  private open: Batch = RelayBatch.empty()
  private readonly queue: Batch[] = []
  private inFlight = 0
  private pendingBytes = 0
  private scheduled = false
  private readonly close = (): void => {
    this.scheduled = false
    if (this.open.senders.length === 0) return
    this.open.closedAt = Date.now()
    this.queue.push(this.open)
    this.open = RelayBatch.empty()
    this.pump()
  }

  constructor(
    private readonly store: RedisStore,
    private readonly hooks: RegistryHooks,
    private readonly metrics: ClusterMetrics,
    private readonly commandTimeoutMs: number,
  ) {}

  add(from: Session, to: string, frame: string): void {
    if (!this.store.up) return this.unavailable(from, to, 'the shared registry is unreachable')
    if (this.pendingBytes + frame.length > MAX_PENDING_BYTES) return this.unavailable(from, to, 'the registry is not keeping up')
    const batch = this.open
    batch.senders.push(from)
    batch.args.push(to, frame)
    batch.bytes += frame.length
    this.pendingBytes += frame.length
    if (batch.senders.length >= MAX_BATCH || batch.bytes >= MAX_BATCH_BYTES) this.close()
    else if (!this.scheduled) {
      this.scheduled = true
      setImmediate(this.close)
    }
  }

  private pump(): void {
    while (this.inFlight < WINDOW && this.queue.length > 0) {
      const batch = this.queue.shift()!
      if (!this.store.up || Date.now() - batch.closedAt > this.commandTimeoutMs) {
        this.settle(batch)
        this.refuseAll(batch, this.store.up ? 'the registry is not keeping up' : 'the shared registry is unreachable')
        continue
      }
      this.inFlight++
      this.store.script('relay', batch.args).then(
        (unknown) => {
          const missed = unknown as number[]
          this.metrics.forwarded += batch.senders.length - missed.length
          for (const n of missed) this.hooks.refuse(batch.senders[n - 1], 'UNKNOWN_PEER', `no peer with id ${batch.args[2 * (n - 1)]} is joined`)
        },
        () => this.refuseAll(batch, 'the shared registry did not answer'),
      ).finally(() => {
        this.inFlight--
        this.settle(batch)
        this.pump()
      })
    }
  }

  private settle(batch: Batch): void {
    this.pendingBytes -= batch.bytes
  }

  private refuseAll(batch: Batch, why: string): void {
    for (let i = 0; i < batch.senders.length; i++) this.unavailable(batch.senders[i], batch.args[2 * i], why)
  }

  private unavailable(from: Session, to: string, why: string): void {
    this.hooks.refuse(from, 'REGISTRY_UNAVAILABLE', `signal to ${to} may not be relayed: ${why}; retry later`)
  }

  private static empty(): Batch {
    return { senders: [], args: [], bytes: 0, closedAt: 0 }
  }
}
