import { TimerQueue } from '../../src/scheduler/timer-queue'

/** Pops everything, returning the actions in the order they came out. */
function drain<A>(queue: TimerQueue<A>): A[] {
  const out: A[] = []
  for (let entry = queue.pop(); entry !== undefined; entry = queue.pop()) {
    out.push(entry.action!)
    queue.release(entry)
  }
  return out
}

describe('TimerQueue', () => {
  it('pops by time, ties in push order, across times pushed out of order', () => {
    const q = new TimerQueue<string>()
    q.push(5, 'a5')
    q.push(1, 'a1')
    q.push(5, 'b5')
    q.push(3, 'a3')
    q.push(1, 'b1')
    q.push(0.5, 'half')
    expect(drain(q)).toEqual(['half', 'a1', 'b1', 'a3', 'a5', 'b5'])
    expect(q.size).toBe(0)
  })

  it('an entry pushed for the time being popped runs after that time’s others', () => {
    const q = new TimerQueue<string>()
    q.push(2, 'first')
    q.push(2, 'second')
    const first = q.pop()!
    expect(first.action).toBe('first')
    q.push(2, 'added')
    expect(drain(q)).toEqual(['second', 'added'])
  })

  it('skips cancelled entries and keeps order through compactions', () => {
    const q = new TimerQueue<number>()
    const expected: number[] = []
    for (let i = 0; i < 20_000; i++) {
      const time = i % 7
      const entry = q.push(time, i)
      if (i % 4 === 0) expected.push(i)
      else q.cancel(entry)
    }
    expect(q.size).toBe(5_000)
    // Far more were cancelled than are live: compactions ran and dropped them.
    expect(q.held).toBeLessThan(2 * 5_000 + 1025)
    const byTime = [...expected].sort((a, b) => (a % 7) - (b % 7) || a - b)
    expect(drain(q)).toEqual(byTime)
  })

  it('a timer re-armed over and over far in the future holds bounded memory', () => {
    const q = new TimerQueue<string>()
    q.push(1, 'soon')
    let entry = q.push(1e9, 'far')
    for (let i = 0; i < 100_000; i++) {
      q.cancel(entry)
      entry = q.push(1e9 + i, 'far')
    }
    expect(q.size).toBe(2)
    expect(q.held).toBeLessThan(1030)
    expect(drain(q)).toEqual(['soon', 'far'])
  })

  it('peek shows the earliest live entry without removing it', () => {
    const q = new TimerQueue<string>()
    const dead = q.push(1, 'dead')
    q.push(2, 'live')
    q.cancel(dead)
    expect(q.peek()?.action).toBe('live')
    expect(q.peek()?.time).toBe(2)
    expect(q.size).toBe(1)
    expect(drain(q)).toEqual(['live'])
    expect(q.peek()).toBeUndefined()
  })
})
