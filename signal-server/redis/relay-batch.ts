import type { RegistryHooks } from '../peer-registry'
import type { Session } from '../session'
import { ByteBuilder } from './byte-builder'
import type { ClusterMetrics } from './metrics'
import { ID_LENGTH, retriesHeader, signalsHeader } from './relay-message'
import { RouteCache } from './route-cache'
import type { RedisStore } from './store'

/** Signals, and bytes, to other instances in one batch at most (a burst beyond goes in several). */
const MAX_BATCH = 512
const MAX_BATCH_BYTES = 1024 * 1024
/**
 * Batches awaiting Redis's answer at once. More wait here: so what Redis
 * holds, and may publish at once after a stall, stays small next to its limit
 * on a subscriber's output buffer (32 MB by default, then it disconnects it).
 */
const WINDOW = 8
/** Bytes of signals waiting here or at Redis, at most: past it Redis is not keeping up, and new signals are refused. */
export const MAX_PENDING_BYTES = 64 * 1024 * 1024

/** Signals for one RELAY script call: args = the message header, then pairs (target id, frame). */
interface Scripted {
  senders: Session[]
  args: string[]
}

/** Signals for one instance, by a cached route: the message to publish (relay-message.ts), as it grows. */
interface Direct {
  senders: Session[]
  /** Where each signal's frame starts in the message (its target id is the ID_LENGTH bytes before). */
  starts: number[]
  message: ByteBuilder
}

interface Batch {
  /** Signals bounced once (their route was stale): sent through the script, never bounced again. */
  retried: Scripted
  /** Signals to targets with no cached route: the script finds their instance. */
  scripted: Scripted
  /** Signals by cached route, per instance. */
  direct: Map<string, Direct>
  count: number
  bytes: number
  /** When it was closed (ms): one that waited longer than a command may take is refused, not sent late. */
  closedAt: number
}

/**
 * Signals for peers joined at other instances, gathered over one event-loop
 * turn. A target whose instance Redis told us before is published to that
 * instance directly (one PUBLISH per instance); the rest go in one RELAY
 * script call, which looks up each target's instance, publishes one message
 * per instance, and tells us the routes. A target no live instance owns comes
 * back, and its sender gets UNKNOWN_PEER; if Redis cannot be reached, or does
 * not answer in time, REGISTRY_UNAVAILABLE. A cached route that went stale is
 * found out by the receiving instance (it bounces the signal back: retry) or
 * by Redis (no instance subscribed: the PUBLISH reaches nobody); either way the
 * route is forgotten and the signal goes once more through the script.
 * Order is kept per sender and target: one connection, commands in order
 * (retries, then the script, then direct publishes, within one batch).
 * At most WINDOW batches are at Redis at once; the rest queue here, bounded.
 */
/** Each signal of a Direct: its sender, target id, and (read on demand) frame. */
function eachSignal(direct: Direct, visit: (sender: Session, to: string, frame: () => string) => void): void {
  const { senders, starts } = direct
  const message = direct.message.take()
  senders.forEach((sender, i) => {
    const start = starts[i]
    const end = i + 1 < starts.length ? starts[i + 1] - 1 - ID_LENGTH : message.length
    visit(sender, message.toString('latin1', start - ID_LENGTH, start), () => message.toString('utf8', start, end))
  })
}

export class RelayBatch {
  private readonly routes = new RouteCache()
  private open: Batch
  private readonly queue: Batch[] = []
  private inFlight = 0
  private pendingBytes = 0
  private scheduled = false
  private readonly close = (): void => {
    this.scheduled = false
    if (this.open.count === 0) return
    this.open.closedAt = Date.now()
    this.queue.push(this.open)
    this.open = this.empty()
    this.pump()
  }

  constructor(
    private readonly store: RedisStore,
    private readonly hooks: RegistryHooks,
    private readonly metrics: ClusterMetrics,
    private readonly commandTimeoutMs: number,
  ) {
    this.open = this.empty()
  }

  add(from: Session, to: string, frame: string): void {
    if (!this.admit(from, to, frame)) return
    const instance = this.routes.get(to)
    if (instance === undefined) return this.push(this.open.scripted, from, to, frame)
    let direct = this.open.direct.get(instance)
    if (direct === undefined) this.open.direct.set(instance, (direct = this.directTo()))
    direct.senders.push(from)
    direct.message.append(`\n${to}`)
    direct.starts.push(direct.message.size)
    direct.message.append(frame)
    this.added(frame)
  }

  /** A signal whose cached route was stale: through the script this time, and never bounced again. */
  retry(from: Session, to: string, frame: string): void {
    this.routes.forget(to)
    if (this.admit(from, to, frame)) this.push(this.open.retried, from, to, frame)
  }

  private admit(from: Session, to: string, frame: string): boolean {
    if (!this.store.up) this.unavailable(from, to, 'the shared registry is unreachable')
    else if (this.pendingBytes + frame.length > MAX_PENDING_BYTES) this.unavailable(from, to, 'the registry is not keeping up')
    else return true
    return false
  }

  private push(part: Scripted, from: Session, to: string, frame: string): void {
    part.senders.push(from)
    part.args.push(to, frame)
    this.added(frame)
  }

  private added(frame: string): void {
    const batch = this.open
    batch.count++
    batch.bytes += frame.length
    this.pendingBytes += frame.length
    if (batch.count >= MAX_BATCH || batch.bytes >= MAX_BATCH_BYTES) this.close()
    else if (!this.scheduled) {
      this.scheduled = true
      setImmediate(this.close)
    }
  }

  private pump(): void {
    while (this.inFlight < WINDOW && this.queue.length > 0) {
      const batch = this.queue.shift()!
      if (!this.store.up || Date.now() - batch.closedAt > this.commandTimeoutMs) {
        this.pendingBytes -= batch.bytes
        this.refuseAll(batch, this.store.up ? 'the registry is not keeping up' : 'the shared registry is unreachable')
        continue
      }
      this.inFlight++
      // Issued in this order on one connection, so Redis runs them in this order.
      const calls = [this.relay(batch.retried), this.relay(batch.scripted)]
      for (const [instance, direct] of batch.direct) calls.push(this.publish(instance, direct))
      void Promise.all(calls).then(() => {
        this.inFlight--
        this.pendingBytes -= batch.bytes
        this.pump()
      })
    }
  }

  private relay(part: Scripted): Promise<void> {
    if (part.senders.length === 0) return Promise.resolve()
    return this.store.script('relay', part.args).then(
      (reply) => {
        const [missed, learned] = reply as [number[], string[]]
        for (let i = 0; i < learned.length; i += 2) this.routes.learn(learned[i], learned[i + 1])
        this.metrics.forwarded += part.senders.length - missed.length
        for (const n of missed) this.hooks.refuse(part.senders[n - 1], 'UNKNOWN_PEER', `no peer with id ${part.args[2 * n - 1]} is joined`)
      },
      () => this.refuseScripted(part, 'the shared registry did not answer'),
    )
  }

  private publish(instance: string, direct: Direct): Promise<void> {
    const { commands } = this.store
    const message = direct.message.take()
    return this.store.timed(() => commands.publish(this.store.channel(instance), message)).then(
      (receivers) => {
        if (receivers > 0) {
          this.metrics.forwarded += direct.senders.length
          this.metrics.direct += direct.senders.length
          return
        }
        // Nobody listens there: that instance is gone. Ask Redis where the peers are now.
        eachSignal(direct, (sender, to, frame) => this.retry(sender, to, frame()))
      },
      () => this.refuseDirect(direct, 'the shared registry did not answer'),
    )
  }

  private refuseAll(batch: Batch, why: string): void {
    this.refuseScripted(batch.retried, why)
    this.refuseScripted(batch.scripted, why)
    for (const direct of batch.direct.values()) this.refuseDirect(direct, why)
  }

  private refuseDirect(direct: Direct, why: string): void {
    eachSignal(direct, (sender, to) => this.unavailable(sender, to, why))
  }

  private refuseScripted(part: Scripted, why: string): void {
    for (let i = 0; i < part.senders.length; i++) this.unavailable(part.senders[i], part.args[2 * i + 1], why)
  }

  private unavailable(from: Session, to: string, why: string): void {
    this.hooks.refuse(from, 'REGISTRY_UNAVAILABLE', `signal to ${to} may not be relayed: ${why}; retry later`)
  }

  private directTo(): Direct {
    const message = new ByteBuilder()
    message.append(signalsHeader(this.store.instance))
    return { senders: [], starts: [], message }
  }

  private empty(): Batch {
    const scripted = (header: string): Scripted => ({ senders: [], args: [header] })
    return {
      retried: scripted(retriesHeader(this.store.instance)),
      scripted: scripted(signalsHeader(this.store.instance)),
      direct: new Map(),
      count: 0,
      bytes: 0,
      closedAt: 0,
    }
  }
}
