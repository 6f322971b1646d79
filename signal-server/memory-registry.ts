import type { Claim, PeerRegistry, RegistryHealth, RingSnapshot, RingView, StoredReport } from './peer-registry'
import { SortedRegistry } from './registry'
import type { Session } from './session'

/**
 * The embedded default: one process, the registry in memory, every answer
 * synchronous. It is its own RingView: the whole ring is right here.
 */
export class MemoryRegistry implements PeerRegistry, RingView {
  readonly clustered = false
  private readonly sessions = new SortedRegistry<Session>()
  private readonly reports = new Map<string, StoredReport>()
  readonly inRing = (id: string): boolean => this.reports.has(id)

  get localSize(): number {
    return this.sessions.size
  }

  get size(): number {
    return this.sessions.size
  }

  local(id: string): Session | undefined {
    return this.sessions.get(id)
  }

  claim(id: string, session: Session): Claim {
    if (!this.sessions.add(id, session)) return { ok: false, code: 'ID_TAKEN', message: `id ${id} is held by another live connection` }
    return { ok: true, view: this }
  }

  release(id: string, session: Session): boolean {
    if (!this.sessions.remove(id, session)) return false
    this.reports.delete(id)
    return true
  }

  forward(): void {
    throw new Error('the memory registry has no other instance to forward to')
  }

  report(id: string, report: StoredReport): RingView {
    this.reports.set(id, report)
    return this
  }

  reportOf(id: string): StoredReport | undefined {
    return this.reports.get(id)
  }

  sweepView(): RingView {
    return this
  }

  successors(id: string, count: number): string[] {
    return this.sessions.successors(id, count)
  }

  predecessor(id: string): string | null {
    return this.sessions.predecessor(id)
  }

  snapshot(): RingSnapshot {
    return { peers: this.sessions.ids(), reports: Object.fromEntries(this.reports) }
  }

  health(): RegistryHealth {
    return { peers: this.sessions.size, instancePeers: this.sessions.size, available: true }
  }

  metrics(): string {
    return ''
  }

  async start(): Promise<void> {}

  async close(): Promise<void> {}
}
