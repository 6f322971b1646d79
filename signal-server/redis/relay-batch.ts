import type { RegistryHooks } from '../peer-registry'
import type { Session } from '../session'
import type { ClusterMetrics } from './metrics'
import type { RedisStore } from './store'

/** Signals to other instances in one script call at most (a burst beyond it goes in several). */
const MAX_BATCH = 512
/**
 * Bytes of signals handed to Redis and not yet answered, at most: past it
 * Redis is not keeping up, and new ones are refused. Kept below Redis's
 * default hard limit on a subscriber's output buffer (32 MB): what a stalled
 * Redis releases at once must not get the receiving instance disconnected.
 */
export const MAX_IN_FLIGHT_BYTES = 16 * 1024 * 1024

/**
 * Signals for peers joined at other instances, gathered over one event-loop
 * turn and sent as one RELAY script call: Redis looks up each target's
 * instance and publishes one message per instance with all of its frames. A
 * target no live instance owns comes back, and its sender gets UNKNOWN_PEER;
 * if Redis cannot be reached, REGISTRY_UNAVAILABLE.
 */
export class RelayBatch {
  private senders: Session[] = []
  private args: string[] = []
  private bytes = 0
  private scheduled = false
  private inFlightBytes = 0
  private readonly flush = (): void => {
    this.scheduled = false
    const senders = this.senders
    const args = this.args
    const bytes = this.bytes
    if (senders.length === 0) return
    this.senders = []
    this.args = []
    this.bytes = 0
    this.inFlightBytes += bytes
    this.store.script('relay', args).then(
      (unknown) => {
        const missed = unknown as number[]
        this.metrics.forwarded += senders.length - missed.length
        for (const n of missed) this.hooks.refuse(senders[n - 1], 'UNKNOWN_PEER', `no peer with id ${args[2 * (n - 1)]} is joined`)
      },
      () => {
        for (let i = 0; i < senders.length; i++) this.refuseUnavailable(senders[i], args[2 * i])
      },
    ).finally(() => {
      this.inFlightBytes -= bytes
    })
  }

  constructor(
    private readonly store: RedisStore,
    private readonly hooks: RegistryHooks,
    private readonly metrics: ClusterMetrics,
  ) {}

  add(from: Session, to: string, frame: string): void {
    if (!this.store.up) return this.refuseUnavailable(from, to)
    if (this.inFlightBytes + this.bytes + frame.length > MAX_IN_FLIGHT_BYTES) {
      return this.hooks.refuse(from, 'REGISTRY_UNAVAILABLE', `signal to ${to} not relayed: the registry is not keeping up; retry later`)
    }
    this.senders.push(from)
    this.args.push(to, frame)
    this.bytes += frame.length
    if (this.senders.length >= MAX_BATCH) this.flush()
    else if (!this.scheduled) {
      this.scheduled = true
      setImmediate(this.flush)
    }
  }

  private refuseUnavailable(from: Session, to: string): void {
    this.hooks.refuse(from, 'REGISTRY_UNAVAILABLE', `signal to ${to} not relayed: the shared registry is unreachable; retry later`)
  }
}
