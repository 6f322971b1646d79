import { interval, type SchedulerLike, type Subscription } from 'rxjs'

/**
 * How a link proves its far end alive while idle. A peer that dies without
 * a word (a crash, a lost network) leaves its channels open until the
 * transport itself gives up: libwebrtc takes about 17 s to call an ICE
 * connection failed. Each end sends a keepalive when it has sent nothing for
 * `keepaliveMs`, so a live remote is heard at least that often; a link not
 * heard for `suspectMs` is suspect (unhealthy: routed around), and dead after
 * `silenceMs`.
 */
export interface LivenessOptions {
  keepaliveMs: number
  suspectMs: number
  silenceMs: number
}

/** What the watch asks of a link. */
export interface LivenessLink {
  /** Send a keepalive now. */
  ping(): void
  /** Nothing heard for suspectMs (true), or heard again (false). */
  suspect(suspected: boolean): void
  /** Nothing heard for silenceMs; asked again at every sweep until the link leaves the watch. */
  dead(): void
}

/** One link's clock. The hot path only sets flags; the sweep reads the time. */
export class LinkClock {
  /** Something arrived since the last sweep. */
  heard = false
  /** Something was sent since the last sweep. */
  sent = false
  lastHeard: number
  lastSent: number
  suspected = false

  constructor(
    readonly link: LivenessLink,
    now: number,
  ) {
    this.lastHeard = this.lastSent = now
  }
}

/**
 * One sweep for every link of a transport, every keepaliveMs / 4 on the
 * given scheduler, while any link is watched. A sweep that comes late by
 * more than keepaliveMs means this process stalled (a long GC, a loaded
 * machine): what the remotes sent meanwhile may still be queued, so that
 * sweep judges nobody.
 */
export class LivenessWatch {
  private readonly clocks = new Set<LinkClock>()
  private sweeps: Subscription | null = null
  private lastSweep = 0
  private readonly period: number

  constructor(
    readonly options: LivenessOptions,
    private readonly scheduler: SchedulerLike,
  ) {
    this.period = Math.max(1, options.keepaliveMs / 4)
  }

  get size(): number {
    return this.clocks.size
  }

  add(link: LivenessLink): LinkClock {
    const clock = new LinkClock(link, this.scheduler.now())
    this.clocks.add(clock)
    if (this.sweeps === null) {
      this.lastSweep = this.scheduler.now()
      this.sweeps = interval(this.period, this.scheduler).subscribe(() => this.sweep())
    }
    return clock
  }

  remove(clock: LinkClock): void {
    this.clocks.delete(clock)
    if (this.clocks.size === 0) {
      this.sweeps?.unsubscribe()
      this.sweeps = null
    }
  }

  private sweep(): void {
    const now = this.scheduler.now()
    const stalled = now - this.lastSweep > this.period + this.options.keepaliveMs
    this.lastSweep = now
    const { keepaliveMs, suspectMs, silenceMs } = this.options
    for (const clock of [...this.clocks]) {
      if (clock.heard || stalled) clock.lastHeard = now
      if (clock.sent) clock.lastSent = now
      clock.heard = clock.sent = false
      const silent = now - clock.lastHeard
      if (silent >= suspectMs !== clock.suspected) {
        clock.suspected = !clock.suspected
        clock.link.suspect(clock.suspected)
      }
      if (silent >= silenceMs) {
        clock.link.dead()
        continue
      }
      if (now - clock.lastSent >= keepaliveMs) {
        clock.lastSent = now
        clock.link.ping()
      }
    }
  }
}
