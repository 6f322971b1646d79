import { randomBytes } from 'node:crypto'
import type { FastifyBaseLogger } from 'fastify'
import type { Claim, PeerRegistry, RegistryHealth, RegistryHooks, RingSnapshot, RingView, StoredReport } from '../peer-registry'
import { HINT_SEARCH, JOIN_SEARCH } from '../ring-hints'
import type { Session } from '../session'
import { ClusterMetrics } from './metrics'
import type { ResolvedRedisOptions } from './options'
import { RelayBatch } from './relay-batch'
import { ID_LENGTH, bounceMessage, parseMessage, senderOf } from './relay-message'
import { RedisStore } from './store'
import { NeighbourhoodView, mirrorView, type NeighbourhoodReply } from './views'

/** A peer joined (or joining) at this instance. */
interface Holder {
  session: Session
  /** The opaque owner record stored with the claim. */
  owner: string
  report?: StoredReport
}

const unavailable = (what: string): Claim => ({ ok: false, code: 'REGISTRY_UNAVAILABLE', message: `${what}: the shared registry is unreachable; retry later` })

/**
 * Many instances, one registry in Redis/Valkey (layout and atomicity in
 * scripts.ts). Local state stays authoritative for this instance's own peers:
 * signals between them never touch Redis, and while Redis is away they go on
 * while joins and signals to other instances are refused with
 * REGISTRY_UNAVAILABLE. Whenever Redis comes back, or our lease lapsed, or
 * the counts disagree, the instance re-registers exactly the ids it holds.
 */
export class RedisRegistry implements PeerRegistry {
  readonly clustered = true
  /** This process in the cluster: a fresh id per start, so a restarted instance never inherits a dead one's claims. */
  readonly instance = randomBytes(8).toString('hex')
  private readonly held = new Map<string, Holder>()
  private readonly claiming = new Map<string, Holder>()
  private readonly metricsOf = new ClusterMetrics()
  private readonly store: RedisStore
  private readonly relay: RelayBatch
  private clusterPeers: number | null = null
  private mirror: RingView | null = null
  private dirty = false
  private syncing: Promise<void> | null = null
  private syncAgain = false
  private started = false
  private timers: NodeJS.Timeout[] = []

  constructor(
    private readonly options: ResolvedRedisOptions,
    private readonly hooks: RegistryHooks,
    private readonly log: FastifyBaseLogger,
    /** How often the hint sweep's view of the whole ring is refreshed; 0: never. */
    private readonly ringCheckMs: number,
  ) {
    this.store = new RedisStore(options, this.instance, this.metricsOf, log)
    this.relay = new RelayBatch(this.store, hooks, this.metricsOf, options.commandTimeoutMs)
    this.store.subscriber.on('messageBuffer', (_channel: Buffer, payload: Buffer) => this.arrive(payload))
    this.store.commands.on('ready', () => {
      if (this.started) void this.resync()
    })
  }

  get localSize(): number {
    return this.held.size
  }

  local(id: string): Session | undefined {
    return this.held.get(id)?.session
  }

  claim(id: string, session: Session, owner: string): Claim | Promise<Claim> {
    if (this.held.has(id) || this.claiming.has(id)) return { ok: false, code: 'ID_TAKEN', message: `id ${id} is held by another live connection` }
    if (!this.store.up) return unavailable(`cannot claim ${id}`)
    const holder: Holder = { session, owner }
    this.claiming.set(id, holder)
    return this.store.script('claim', [id, owner, JOIN_SEARCH]).then(
      (reply): Claim => {
        const [status, neighbourhood] = reply as [string, NeighbourhoodReply?]
        if (status === 'OK' && neighbourhood) {
          this.held.set(id, holder)
          this.clusterPeers = neighbourhood[3]
          return { ok: true, view: new NeighbourhoodView(id, neighbourhood) }
        }
        if (status === 'TAKEN') return { ok: false, code: 'ID_TAKEN', message: `id ${id} is held by a peer at another instance` }
        // LAPSED: our lease ran out (Redis restarted, or this process stalled). Register again first.
        void this.resync()
        return unavailable(`cannot claim ${id}`)
      },
      () => {
        // The claim may have run before the reply was lost: the next renewal sees the counts disagree.
        this.dirty = true
        return unavailable(`cannot claim ${id}`)
      },
    ).finally(() => this.claiming.delete(id))
  }

  release(id: string, session: Session): boolean {
    if (this.held.get(id)?.session !== session) return false
    this.held.delete(id)
    this.store.script('release', [id]).catch(() => {
      this.dirty = true
    })
    return true
  }

  forward(from: Session, to: string, frame: string): void {
    this.relay.add(from, to, frame)
  }

  report(id: string, report: StoredReport): Promise<RingView | null> | null {
    const holder = this.held.get(id)
    if (holder === undefined) return null
    holder.report = report
    return this.store.script('report', [id, JSON.stringify(report), HINT_SEARCH]).then(
      (reply) => (reply ? new NeighbourhoodView(id, reply as NeighbourhoodReply) : null),
      () => {
        this.dirty = true
        return null
      },
    )
  }

  reportOf(id: string): StoredReport | undefined {
    return this.held.get(id)?.report
  }

  sweepView(): RingView | null {
    return this.mirror
  }

  async snapshot(): Promise<RingSnapshot> {
    const { commands } = this.store
    const [peers, raw] = await Promise.all([
      this.store.timed(() => commands.zrange(this.store.key('ids'), 0, -1)),
      this.store.timed(() => commands.hgetall(this.store.key('reports'))),
    ])
    const reports: Record<string, StoredReport> = {}
    for (const id of peers) {
      const text = raw[id]
      if (text === undefined) continue
      try {
        reports[id] = JSON.parse(text) as StoredReport
      } catch {
        // Not written by us: leave it out.
      }
    }
    return { peers, reports }
  }

  health(): RegistryHealth {
    return { peers: this.clusterPeers, instancePeers: this.held.size, available: this.store.up }
  }

  metrics(): string {
    return this.metricsOf.render({ up: this.store.up, clusterPeers: this.clusterPeers })
  }

  async start(): Promise<void> {
    // Queued until the subscriber connects (and made again after each reconnect): never awaited unbounded.
    const subscribed = this.store.subscriber.subscribe(this.store.channel(this.instance)).catch(() => undefined)
    this.started = true
    const every = (ms: number, run: () => Promise<void>) => {
      const timer = setInterval(() => void run(), ms)
      timer.unref()
      this.timers.push(timer)
    }
    every(Math.floor(this.options.leaseMs / 3), () => this.renew())
    if (this.ringCheckMs > 0) every(this.ringCheckMs, () => this.refreshMirror())
    if (await this.store.ready(this.options.commandTimeoutMs)) {
      await subscribed
      await this.resync()
    } else this.log.warn({ url: redactedUrl(this.options.url) }, 'redis is unreachable; joins are refused until it answers')
  }

  async close(): Promise<void> {
    for (const timer of this.timers) clearInterval(timer)
    this.timers = []
    this.started = false
    if (this.store.up) await this.store.script('resign').catch(() => undefined)
    this.store.close()
  }

  /**
   * A message on our channel (relay-message.ts). Signals go out as the bytes
   * that came in. One whose peer is not here (it left, or joined elsewhere)
   * goes back to the sending instance, which asks Redis once more; bounced
   * signals come back here to be sent again.
   */
  private arrive(payload: Buffer): void {
    const message = parseMessage(payload)
    if (message.bounce) {
      message.entries((to, start, end) => {
        const frame = payload.toString('utf8', start, end)
        const sender = this.held.get(senderOf(frame))
        if (sender === undefined) this.metricsOf.dropped++
        else this.relay.retry(sender.session, to, frame)
      })
      return
    }
    let misses: string[] | null = null
    message.entries((to, start, end) => {
      const holder = this.held.get(to)
      if (holder !== undefined) {
        this.metricsOf.received++
        this.hooks.deliver(holder.session, payload.subarray(start, end))
      } else if (message.bounceTo !== null) (misses ??= []).push(payload.toString('utf8', start - ID_LENGTH, end))
      else this.metricsOf.dropped++
    })
    if (misses !== null) this.bounce(message.bounceTo!, misses)
  }

  private bounce(instance: string, entries: string[]): void {
    this.metricsOf.bounced += entries.length
    this.store.timed(() => this.store.commands.publish(this.store.channel(instance), bounceMessage(entries))).catch(() => {
      // Redis is away: the signals are lost, as any sent while it is.
    })
  }

  private async renew(): Promise<void> {
    let reply: [number, number, number]
    try {
      reply = (await this.store.script('renew', [this.options.leaseMs])) as [number, number, number]
    } catch {
      this.dirty = true
      return
    }
    const [known, peers, ours] = reply
    this.clusterPeers = peers
    if (known === 0 || this.dirty || (ours !== this.held.size && this.claiming.size === 0)) await this.resync()
  }

  private async refreshMirror(): Promise<void> {
    if (![...this.held.values()].some((h) => h.report !== undefined)) return
    const { commands } = this.store
    try {
      const [ids, reported] = await Promise.all([
        this.store.timed(() => commands.zrange(this.store.key('ids'), 0, -1)),
        this.store.timed(() => commands.hkeys(this.store.key('reports'))),
      ])
      this.mirror = mirrorView(ids, reported)
    } catch {
      this.mirror = null
    }
  }

  /** Registers exactly the ids this instance holds (one at a time; a request meanwhile runs once more after). */
  private resync(): Promise<void> {
    if (this.syncing) {
      this.syncAgain = true
      return this.syncing
    }
    this.syncing = (async () => {
      do {
        this.syncAgain = false
        await this.syncOnce()
      } while (this.syncAgain && this.started)
    })().finally(() => {
      this.syncing = null
    })
    return this.syncing
  }

  private async syncOnce(): Promise<void> {
    this.dirty = false
    const args: Array<string | number> = [this.options.leaseMs]
    for (const [id, h] of [...this.held, ...this.claiming]) args.push(id, h.owner, h.report ? JSON.stringify(h.report) : '')
    let conflicts: string[]
    try {
      conflicts = (await this.store.script('sync', args)) as string[]
    } catch {
      this.dirty = true
      return
    }
    this.metricsOf.resyncs++
    for (const id of conflicts) {
      const holder = this.held.get(id)
      if (holder === undefined) continue
      this.held.delete(id)
      this.metricsOf.evictions++
      this.hooks.evict(holder.session, `id ${id} is owned by a peer at another instance`)
    }
    this.log.info({ instance: this.instance, peers: this.held.size, conflicts: conflicts.length }, 'registered this instance\'s peers in redis')
  }
}

/** The URL without its password, for logs. */
function redactedUrl(url: string): string {
  try {
    const parsed = new URL(url)
    if (parsed.password) parsed.password = '***'
    return parsed.toString()
  } catch {
    return '(unparsable)'
  }
}
