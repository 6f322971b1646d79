import { FIX_FINGERS_MAX_BACKOFF, FixFingersBackoff } from '../../src/ring/fix-fingers-backoff'
import { SELF_CHECK_EVERY, SELF_CHECK_MAX_EVERY, SelfCheckSchedule, type SelfCheckKey } from '../../src/ring/self-check-schedule'

/** Runs `ticks` fix-fingers ticks over `rows` rows; returns the ticks (0-based) that refreshed a row, with its index. */
function run(backoff: FixFingersBackoff, ticks: number, rows: number, onRefresh: (index: number) => void = () => undefined): { tick: number; index: number }[] {
  const refreshed: { tick: number; index: number }[] = []
  for (let tick = 0; tick < ticks; tick++) {
    if (backoff.skips()) continue
    const index = backoff.next(rows)
    refreshed.push({ tick, index })
    onRefresh(index)
  }
  return refreshed
}

const gaps = (ticks: number[]) => ticks.slice(1).map((t, i) => t - ticks[i])

describe('FixFingersBackoff (pure)', () => {
  it('refreshes rows round-robin, one per tick, while passes keep changing something', () => {
    const backoff = new FixFingersBackoff()
    const refreshed = run(backoff, 12, 4, () => backoff.changed())
    expect(refreshed.map((r) => r.tick)).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11])
    expect(refreshed.map((r) => r.index)).toEqual([0, 1, 2, 3, 0, 1, 2, 3, 0, 1, 2, 3])
    expect(backoff.interval).toBe(1)
  })

  it('after each pass that changed nothing, skips twice as many ticks, up to the maximum, never more', () => {
    const backoff = new FixFingersBackoff()
    const refreshed = run(backoff, 400, 3)
    // The first pass runs at every tick (a node starts as if its last pass had changed something).
    // Each later pass of 3 rows skips twice as many ticks as the one before.
    expect(gaps(refreshed.map((r) => r.tick))).toEqual([1, 1, 1, 2, 2, 2, 4, 4, 4, ...new Array(refreshed.length - 10).fill(FIX_FINGERS_MAX_BACKOFF)])
    expect(backoff.interval).toBe(FIX_FINGERS_MAX_BACKOFF)
    // Still round-robin: no row is left out while backing off.
    expect(refreshed.map((r) => r.index)).toEqual(refreshed.map((_, i) => i % 3))
  })

  it('a change in a pass brings the next pass back to every tick', () => {
    const backoff = new FixFingersBackoff()
    run(backoff, 200, 2)
    expect(backoff.interval).toBe(8)
    let changeOnce = true
    const refreshed = run(backoff, 60, 2, () => {
      if (changeOnce) backoff.changed()
      changeOnce = false
    })
    // The pass with the change finishes at 8, the next runs at every tick, then the back-off grows again.
    expect(gaps(refreshed.map((r) => r.tick)).slice(0, 6)).toEqual([8, 8, 1, 1, 2, 2])
  })

  it('reset() refreshes at the very next tick and every tick of the next pass', () => {
    const backoff = new FixFingersBackoff()
    run(backoff, 200, 2)
    expect(backoff.skips()).toBe(true) // mid back-off
    backoff.reset()
    expect(backoff.interval).toBe(1)
    expect(backoff.skips()).toBe(false)
    backoff.next(2)
    expect(backoff.skips()).toBe(false)
  })
})

/** The keys a schedule checks over `rounds` rounds (null: no check), calling `answer` after each check. */
function rounds(schedule: SelfCheckSchedule, n: number, hasPredecessor: boolean, answer: (key: SelfCheckKey) => void = () => undefined): (SelfCheckKey | null)[] {
  const keys: (SelfCheckKey | null)[] = []
  for (let i = 0; i < n; i++) {
    const key = schedule.round(hasPredecessor)
    keys.push(key)
    if (key !== null) answer(key)
  }
  return keys
}

const checkedRounds = (keys: (SelfCheckKey | null)[]) => keys.flatMap((k, i) => (k === null ? [] : [i + 1]))

describe('SelfCheckSchedule (pure)', () => {
  it('without a predecessor: our own id every round, whatever the answers', () => {
    const schedule = new SelfCheckSchedule()
    expect(rounds(schedule, 10, false, () => schedule.confirmed())).toEqual(new Array(10).fill('own'))
  })

  it('with a predecessor: every 8 rounds, alternating our own id and the key after it, while answers do not confirm', () => {
    const schedule = new SelfCheckSchedule()
    const keys = rounds(schedule, 40, true, () => schedule.reset())
    expect(checkedRounds(keys)).toEqual([8, 16, 24, 32, 40])
    expect(keys.filter((k) => k !== null)).toEqual(['own', 'next', 'own', 'next', 'own'])
    expect(schedule.interval).toBe(SELF_CHECK_EVERY)
  })

  it('confirmations double the interval only after both keys confirmed in a row, up to 64 rounds', () => {
    const schedule = new SelfCheckSchedule()
    const keys = rounds(schedule, 600, true, () => schedule.confirmed())
    const checked = checkedRounds(keys)
    expect(gaps(checked)).toEqual([8, 16, 32, ...new Array(checked.length - 4).fill(SELF_CHECK_MAX_EVERY)])
    expect(schedule.interval).toBe(SELF_CHECK_MAX_EVERY)
  })

  it('one confirmation alone does not back off: the other key must confirm too', () => {
    const schedule = new SelfCheckSchedule()
    const keys = rounds(schedule, 48, true, (key) => (key === 'own' ? schedule.confirmed() : schedule.reset()))
    expect(gaps(checkedRounds(keys))).toEqual([8, 8, 8, 8, 8])
  })

  it('reset() brings the next check within 8 rounds, never later than it was due', () => {
    const schedule = new SelfCheckSchedule()
    rounds(schedule, 310, true, () => schedule.confirmed()) // checked at 256, next due at 320
    expect(schedule.interval).toBe(64)
    schedule.reset()
    expect(checkedRounds(rounds(schedule, 8, true))).toEqual([8])
    expect(schedule.interval).toBe(SELF_CHECK_EVERY)
    // Due in 2 rounds: a reset does not postpone it to 8.
    const fresh = new SelfCheckSchedule()
    rounds(fresh, 6, true)
    fresh.reset()
    expect(checkedRounds(rounds(fresh, 2, true))).toEqual([2])
  })
})
