import type { SchedulerLike } from 'rxjs'
import { VirtualScheduler } from '../../src/scheduler/virtual-scheduler'
import { LivenessWatch, type LinkClock, type LivenessLink } from '../../src/transport/liveness'

const OPTIONS = { keepaliveMs: 1000, suspectMs: 2000, silenceMs: 4000 }

/** A link recording what the watch asked of it, with the virtual time. */
class Recorded implements LivenessLink {
  readonly events: string[] = []
  constructor(private readonly clock: () => number) {}
  ping(): void {
    this.events.push(`ping@${this.clock()}`)
  }
  suspect(suspected: boolean): void {
    this.events.push(`${suspected ? 'suspect' : 'healthy'}@${this.clock()}`)
  }
  dead(): void {
    this.events.push(`dead@${this.clock()}`)
  }
}

/** The virtual scheduler, with a clock that can jump ahead of it: a process that stalled. */
function skewed(virtual: VirtualScheduler): { scheduler: SchedulerLike; stall: (ms: number) => void } {
  let skew = 0
  const scheduler: SchedulerLike = { now: () => virtual.now() + skew, schedule: virtual.schedule.bind(virtual) as SchedulerLike['schedule'] }
  return { scheduler, stall: (ms) => void (skew += ms) }
}

describe('LivenessWatch (keepalives and silence, virtual time)', () => {
  let virtual: VirtualScheduler
  let watch: LivenessWatch
  let link: Recorded
  let clock: LinkClock
  beforeEach(() => {
    virtual = new VirtualScheduler()
    watch = new LivenessWatch(OPTIONS, virtual)
    link = new Recorded(() => virtual.now())
    clock = watch.add(link)
  })

  it('an idle link pings once per keepaliveMs and hears its remote\'s pings: never suspect', () => {
    for (let t = 0; t < 10_000; t += 250) {
      clock.heard = true // the remote's keepalive, every sweep
      virtual.advanceBy(250)
    }
    expect(link.events).toEqual(['ping@1000', 'ping@2000', 'ping@3000', 'ping@4000', 'ping@5000', 'ping@6000', 'ping@7000', 'ping@8000', 'ping@9000', 'ping@10000'])
  })

  it('a link that keeps sending frames sends no keepalive', () => {
    for (let t = 0; t < 5000; t += 250) {
      clock.sent = clock.heard = true
      virtual.advanceBy(250)
    }
    expect(link.events).toEqual([])
  })

  it('a silent remote is suspect after suspectMs and dead after silenceMs (and again at each sweep until removed)', () => {
    virtual.advanceBy(4500)
    expect(link.events).toEqual(['ping@1000', 'suspect@2000', 'ping@2000', 'ping@3000', 'dead@4000', 'dead@4250', 'dead@4500'])
    watch.remove(clock)
    virtual.advanceBy(2000)
    expect(link.events).toHaveLength(7)
  })

  it('a suspect link heard again is healthy again', () => {
    virtual.advanceBy(2500)
    clock.heard = true
    virtual.advanceBy(250)
    expect(link.events).toEqual(['ping@1000', 'suspect@2000', 'ping@2000', 'healthy@2750'])
  })

  it('a sweep that comes late (this process stalled) judges nobody: the remote may have spoken meanwhile', () => {
    const { scheduler, stall } = skewed(virtual)
    const stalledWatch = new LivenessWatch(OPTIONS, scheduler)
    const other = new Recorded(() => scheduler.now())
    stalledWatch.add(other)
    virtual.advanceBy(1750) // sweeps at 250 ... 1750, pinging at 1000
    stall(5000) // the next sweep runs 5 s late
    virtual.advanceBy(250)
    expect(other.events).toEqual(['ping@1000', 'ping@7000'])
    // From there on, silence counts again.
    virtual.advanceBy(4000)
    expect(other.events.filter((e) => e.startsWith('dead'))).toEqual(['dead@11000'])
  })

  it('stops sweeping once no link is watched, starts again with the next', () => {
    watch.remove(clock)
    expect(virtual.pending).toBe(0)
    const again = new Recorded(() => virtual.now())
    watch.add(again)
    virtual.advanceBy(1000)
    expect(again.events).toEqual(['ping@1000'])
  })
})
