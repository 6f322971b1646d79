import type { Session } from './session'
import type { Neighbours } from './ring-hints'

/** A joined peer's last `report`, as the server keeps it. */
export interface StoredReport {
  successors: string[]
  predecessor: string | null
  fingers: Array<{ row: number; id: string }>
  /** Server time the report arrived, ms since the epoch. */
  at: number
}

/** `GET /ring`: every joined id (sorted) and the reports of those that sent one. */
export interface RingSnapshot {
  peers: readonly string[]
  reports: Record<string, StoredReport>
}

/** What the registry knows around an id: enough to answer a join or compute a successor hint. */
export interface RingView extends Neighbours {
  /** Joined peers in the whole registry (all instances). */
  readonly size: number
  predecessor(id: string): string | null
  /** The peer sent a report: it is in a ring. */
  inRing(id: string): boolean
}

export type Claim =
  | { ok: true; view: RingView }
  | { ok: false; code: 'ID_TAKEN' | 'REGISTRY_UNAVAILABLE'; message: string }

export interface RegistryHealth {
  /** Joined peers in the whole registry; null when it cannot be reached (and no figure is known). */
  peers: number | null
  /** Joined at this instance. */
  instancePeers: number
  /** Reachable (always true in memory). */
  available: boolean
}

/**
 * Where joined ids live. Two implementations: MemoryRegistry (the embedded
 * default, one process, everything synchronous) and RedisRegistry (many
 * instances sharing one Redis/Valkey; claims and reports travel to Redis, so
 * they may answer with a Promise). The server's hot path, a signal to a peer
 * joined at this instance, is `local()` in both: a map lookup.
 */
export interface PeerRegistry {
  /** Peers joined at this instance. */
  readonly localSize: number
  /** True when a peer missing here may be joined elsewhere (forward() can deliver). */
  readonly clustered: boolean
  /** The session joined at this instance as `id`. */
  local(id: string): Session | undefined
  /**
   * Claims `id` for `session` (unique across all instances). `owner` is an opaque
   * record stored with the claim (e.g. the owner's public key, for reclaiming by key).
   * The caller sets `session.id` once the claim succeeded.
   */
  claim(id: string, session: Session, owner: string): Claim | Promise<Claim>
  /** Frees `id` if `session` holds it (a late close never frees a newer holder); false otherwise. */
  release(id: string, session: Session): boolean
  /** Relays a ready-made signal frame from `from` to a peer not joined here (clustered only). */
  forward(from: Session, to: string, frame: string): void
  /** Keeps a joined peer's report; gives the view to check for a successor hint (null: none now). */
  report(id: string, report: StoredReport): RingView | Promise<RingView | null> | null
  /** The last report of a peer joined here. */
  reportOf(id: string): StoredReport | undefined
  /** The view for the periodic hint sweep over this instance's peers (null while unknown). */
  sweepView(): RingView | null
  snapshot(): RingSnapshot | Promise<RingSnapshot>
  health(): RegistryHealth
  /** Extra Prometheus lines (per instance), or ''. */
  metrics(): string
  start(): Promise<void>
  close(): Promise<void>
}

/** What a registry asks of the server: deliver frames that arrive from other instances, and turn peers away. */
export interface RegistryHooks {
  /** A signal frame for `to` (UTF-8 JSON text), forwarded by another instance. */
  deliver(to: Session, frame: Buffer): void
  /** A forwarded signal could not be delivered: tell its sender. */
  refuse(sender: Session, code: 'UNKNOWN_PEER' | 'REGISTRY_UNAVAILABLE', message: string): void
  /** `session`'s id turned out to be owned elsewhere (after a registry outage): it is no longer joined here. */
  evict(session: Session, reason: string): void
}
