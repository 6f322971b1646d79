import {
  Subject,
  bufferTime,
  debounceTime,
  delay,
  interval,
  observeOn,
  of,
  take,
  throttleTime,
  timeout,
  timer,
  type SchedulerAction,
} from 'rxjs'
import { FlushLimitError, VirtualScheduler } from '../../src/scheduler/virtual-scheduler'

/** Records [virtualTime, value] for every emission, and the completion time. */
function record<T>(sched: VirtualScheduler) {
  const events: Array<[number, T | 'complete' | 'error']> = []
  return {
    events,
    observer: {
      next: (v: T) => events.push([sched.now(), v]),
      complete: () => events.push([sched.now(), 'complete']),
      error: () => events.push([sched.now(), 'error']),
    },
  }
}

describe('VirtualScheduler: clock and ordering', () => {
  it('starts at 0 (or startTime) and only moves when told', () => {
    expect(new VirtualScheduler().now()).toBe(0)
    const s = new VirtualScheduler({ startTime: 1000 })
    expect(s.now()).toBe(1000)
    s.advanceBy(5)
    expect(s.now()).toBe(1005)
    s.advanceTo(2000)
    expect(s.now()).toBe(2000)
    expect(() => s.advanceTo(10)).toThrow(RangeError)
  })

  it('runs actions in time order, ties FIFO by insertion', () => {
    const s = new VirtualScheduler()
    const ran: string[] = []
    s.schedule(() => ran.push('b@10'), 10)
    s.schedule(() => ran.push('a@5'), 5)
    s.schedule(() => ran.push('c@10'), 10)
    s.schedule(() => ran.push('d@0'), 0)
    s.schedule(() => ran.push('e@10'), 10)
    expect(s.pending).toBe(5)
    s.advanceBy(9)
    expect(ran).toEqual(['d@0', 'a@5'])
    s.advanceBy(1)
    expect(ran).toEqual(['d@0', 'a@5', 'b@10', 'c@10', 'e@10'])
    expect(s.pending).toBe(0)
  })

  it('runBefore(t) runs what is due before t, leaves what is due at t, and sets the clock to t', () => {
    const s = new VirtualScheduler()
    const ran: string[] = []
    s.schedule(() => ran.push('a@3'), 3)
    s.schedule(() => {
      ran.push('b@4')
      s.schedule(() => ran.push('c@4.5'), 0.5) // scheduled inside the window, still before its end
    }, 4)
    s.schedule(() => ran.push('d@5'), 5)
    s.runBefore(5)
    expect(ran).toEqual(['a@3', 'b@4', 'c@4.5'])
    expect(s.now()).toBe(5)
    // Work handed over for time 5 now runs after what was already due then.
    s.schedule(() => ran.push('e@5'), 0)
    s.advanceTo(5)
    expect(ran.slice(3)).toEqual(['d@5', 'e@5'])
    expect(() => s.runBefore(4)).toThrow(RangeError)
  })

  it('passes state and sets now() to the due time while running', () => {
    const s = new VirtualScheduler()
    const seen: Array<[number, string | undefined]> = []
    s.schedule((st) => seen.push([s.now(), st]), 7, 'x')
    s.advanceBy(100)
    expect(seen).toEqual([[7, 'x']])
    expect(s.now()).toBe(100)
  })

  it('treats negative and NaN delays as 0', () => {
    const s = new VirtualScheduler({ startTime: 50 })
    const at: number[] = []
    s.schedule(() => at.push(s.now()), -5)
    s.schedule(() => at.push(s.now()), NaN)
    s.advanceBy(0)
    expect(at).toEqual([50, 50])
  })

  it('work scheduled for "now" from inside an action runs in the same advance, after queued ties', () => {
    const s = new VirtualScheduler()
    const ran: string[] = []
    s.schedule(() => {
      ran.push('first')
      s.schedule(() => ran.push('nested'), 0)
    }, 3)
    s.schedule(() => ran.push('second'), 3)
    s.advanceTo(3)
    expect(ran).toEqual(['first', 'second', 'nested'])
  })
})

describe('VirtualScheduler: actions behave like AsyncAction', () => {
  it('unsubscribing cancels a pending action (O(1), counted out of pending)', () => {
    const s = new VirtualScheduler()
    const ran: number[] = []
    const sub = s.schedule(() => ran.push(1), 10)
    s.schedule(() => ran.push(2), 10)
    sub.unsubscribe()
    expect(s.pending).toBe(1)
    sub.unsubscribe() // idempotent
    expect(s.pending).toBe(1)
    s.flush()
    expect(ran).toEqual([2])
  })

  it('rescheduling from inside work makes a periodic action that unsubscribe stops', () => {
    const s = new VirtualScheduler()
    const at: number[] = []
    const sub = s.schedule(function (this: SchedulerAction<number>, n?: number) {
      at.push(s.now())
      if (n! < 4) this.schedule(n! + 1, 10)
    }, 5, 0)
    s.advanceBy(22)
    expect(at).toEqual([5, 15])
    expect(s.pending).toBe(1)
    sub.unsubscribe()
    expect(s.pending).toBe(0)
    s.advanceBy(100)
    expect(at).toEqual([5, 15])
  })

  it('rescheduling a pending action from outside replaces its time and state', () => {
    const s = new VirtualScheduler()
    const seen: Array<[number, string | undefined]> = []
    const action = s.schedule((st) => seen.push([s.now(), st]), 10, 'old') as unknown as SchedulerAction<string>
    s.advanceBy(4)
    action.schedule('new', 20)
    expect(s.pending).toBe(1)
    s.flush()
    expect(seen).toEqual([[24, 'new']])
  })

  it('an action that ran without rescheduling may be scheduled again later', () => {
    const s = new VirtualScheduler()
    let runs = 0
    const action = s.schedule(() => runs++, 1) as unknown as SchedulerAction<void>
    s.flush()
    expect(action.closed).toBe(false)
    action.schedule(undefined, 5)
    s.flush()
    expect(runs).toBe(2)
    expect(s.now()).toBe(6)
  })

  it('a throwing action is unsubscribed, the error propagates, the rest still runs', () => {
    const s = new VirtualScheduler()
    const ran: number[] = []
    const bad = s.schedule(() => {
      throw new Error('boom')
    }, 1)
    s.schedule(() => ran.push(2), 2)
    expect(() => s.advanceBy(10)).toThrow('boom')
    expect(bad.closed).toBe(true)
    expect(s.now()).toBe(1)
    s.advanceBy(10)
    expect(ran).toEqual([2])
  })

  it('refuses to advance time from inside an action', () => {
    const s = new VirtualScheduler()
    let caught: unknown
    s.schedule(() => {
      try {
        s.advanceBy(1)
      } catch (e) {
        caught = e
      }
    }, 1)
    s.flush()
    expect(String(caught)).toMatch(/inside a scheduled action/)
  })

  it('keeps pending right while many timers are armed and cancelled (lazy deletion + rebuild)', () => {
    const s = new VirtualScheduler()
    const keep: number[] = []
    for (let i = 0; i < 10_000; i++) {
      const sub = s.schedule(() => keep.push(-1), 1000 + i)
      if (i % 3 !== 0) sub.unsubscribe()
      else s.schedule(() => keep.push(i), 500 + i)
    }
    expect(s.pending).toBe(2 * Math.ceil(10_000 / 3))
    s.flush()
    expect(keep.filter((x) => x >= 0)).toEqual(Array.from({ length: Math.ceil(10_000 / 3) }, (_, k) => 3 * k))
    expect(s.pending).toBe(0)
  })
})

describe('VirtualScheduler: rxjs operators in virtual time', () => {
  it('timer(d) and timer(d, period)', () => {
    const s = new VirtualScheduler()
    const r = record<number>(s)
    const r2 = record<number>(s)
    timer(30, s).subscribe(r.observer)
    timer(5, 10, s).pipe(take(3)).subscribe(r2.observer)
    s.flush()
    expect(r.events).toEqual([[30, 0], [30, 'complete']])
    expect(r2.events).toEqual([[5, 0], [15, 1], [25, 2], [25, 'complete']])
    expect(s.pending).toBe(0)
  })

  it('interval keeps going until unsubscribed, and flush() refuses to run it forever', () => {
    const s = new VirtualScheduler()
    const r = record<number>(s)
    const sub = interval(100, s).subscribe(r.observer)
    s.advanceBy(350)
    expect(r.events).toEqual([[100, 0], [200, 1], [300, 2]])
    expect(() => s.flush({ maxActions: 1000 })).toThrow(FlushLimitError)
    expect(() => s.flush({ maxTime: s.now() + 1000 })).toThrow(FlushLimitError)
    sub.unsubscribe()
    expect(s.pending).toBe(0)
    expect(s.flush()).toBe(0)
  })

  it('delay, observeOn', () => {
    const s = new VirtualScheduler()
    const r = record<number>(s)
    const r2 = record<number>(s)
    of(1, 2, 3).pipe(delay(40, s)).subscribe(r.observer)
    of(7).pipe(observeOn(s, 15)).subscribe(r2.observer)
    s.flush()
    expect(r.events).toEqual([[40, 1], [40, 2], [40, 3], [40, 'complete']])
    expect(r2.events).toEqual([[15, 7], [15, 'complete']])
  })

  it('debounceTime re-arms its timer on every value', () => {
    const s = new VirtualScheduler()
    const r = record<string>(s)
    const input = new Subject<string>()
    input.pipe(debounceTime(10, s)).subscribe(r.observer)
    const at = (t: number, v: string) => s.schedule(() => input.next(v), t)
    at(0, 'a')
    at(5, 'b')
    at(12, 'c')
    at(30, 'd')
    s.schedule(() => input.complete(), 35)
    s.flush()
    expect(r.events).toEqual([[22, 'c'], [35, 'd'], [35, 'complete']])
  })

  it('throttleTime', () => {
    const s = new VirtualScheduler()
    const r = record<number>(s)
    interval(3, s).pipe(take(10), throttleTime(10, s)).subscribe(r.observer)
    s.flush()
    expect(r.events.map(([t, v]) => `${v}@${t}`)).toEqual(['0@3', '4@15', '8@27', 'complete@30'])
  })

  it('timeout errors at exactly the deadline, and is cancelled when the value comes first', () => {
    const s = new VirtualScheduler()
    const late = record<number>(s)
    const early = record<number>(s)
    timer(50, s).pipe(timeout({ first: 20, scheduler: s })).subscribe(late.observer)
    timer(10, s).pipe(timeout({ first: 20, scheduler: s })).subscribe(early.observer)
    s.flush()
    expect(late.events).toEqual([[20, 'error']])
    expect(early.events).toEqual([[10, 0], [10, 'complete']])
    expect(s.pending).toBe(0)
  })

  it('bufferTime', () => {
    const s = new VirtualScheduler()
    const r = record<number[]>(s)
    const sub = interval(4, s).pipe(take(6), bufferTime(10, s)).subscribe(r.observer)
    s.advanceBy(40)
    expect(r.events).toEqual([[10, [0, 1]], [20, [2, 3]], [24, [4, 5]], [24, 'complete']])
    sub.unsubscribe()
    expect(s.pending).toBe(0)
  })
})

describe('VirtualScheduler: runUntil and flush', () => {
  it('runUntil stops at the first instant the predicate holds', () => {
    const s = new VirtualScheduler()
    let count = 0
    const sub = interval(10, s).subscribe(() => count++)
    expect(s.runUntil(() => count >= 3, 1000)).toBe(true)
    expect(s.now()).toBe(30)
    sub.unsubscribe()
  })

  it('runUntil returns false at maxTime when the predicate never holds', () => {
    const s = new VirtualScheduler()
    const sub = interval(10, s).subscribe()
    expect(s.runUntil(() => false, 95)).toBe(false)
    expect(s.now()).toBe(95)
    sub.unsubscribe()
    expect(s.runUntil(() => false, 200)).toBe(false)
    expect(s.now()).toBe(200)
  })

  it('runUntil with checkEvery only looks at multiples of the step', () => {
    const s = new VirtualScheduler()
    let count = 0
    let checks = 0
    const sub = interval(1, s).subscribe(() => count++)
    expect(s.runUntil(() => (checks++, count >= 25), 1000, { checkEvery: 10 })).toBe(true)
    expect(s.now()).toBe(30)
    expect(checks).toBe(4) // at 0, 10, 20, 30
    sub.unsubscribe()
  })

  it('runUntil checks the predicate before running anything', () => {
    const s = new VirtualScheduler()
    let ran = false
    s.schedule(() => (ran = true), 1)
    expect(s.runUntil(() => true, 100)).toBe(true)
    expect(ran).toBe(false)
    s.flush()
  })

  it('flush returns the number of actions run and leaves the clock at the last one', () => {
    const s = new VirtualScheduler()
    for (let i = 0; i < 5; i++) s.schedule(() => {}, i * 10)
    expect(s.flush()).toBe(5)
    expect(s.now()).toBe(40)
    expect(s.actionsRun).toBe(5)
    expect(s.nextTime()).toBeUndefined()
  })

  it('200,000 timers with random delays all run, in order', () => {
    const s = new VirtualScheduler()
    let seed = 42
    const rnd = () => ((seed = (seed * 1103515245 + 12345) & 0x7fffffff) / 0x7fffffff)
    let last = -1
    let ordered = true
    let ran = 0
    for (let i = 0; i < 200_000; i++) {
      s.schedule(() => {
        if (s.now() < last) ordered = false
        last = s.now()
        ran++
      }, Math.floor(rnd() * 100_000))
    }
    expect(s.pending).toBe(200_000)
    s.flush()
    expect(ran).toBe(200_000)
    expect(ordered).toBe(true)
  })
})
