/**
 * Pending timers ordered by (time, seq). `seq` grows with every push, so
 * entries due at the same time pop in insertion order (FIFO).
 *
 * Timers are grouped by due time: one bucket (a FIFO array) per distinct time,
 * and a binary min-heap over those times. A simulation has hundreds of timers
 * due in each millisecond (every frame in flight is one), so a push is a map
 * lookup and an array push, and the heap stays small: a single heap of 10^5
 * entries cost a cache miss per level on every push and pop.
 *
 * Cancellation is lazy: the owner clears `entry.action` (O(1)) and the dead
 * entry is skipped when its time comes. When dead entries outnumber live ones
 * the queue is compacted, so timers armed and cancelled over and over (every
 * RPC timeout) cannot grow it without bound.
 *
 * Entries are recycled through a free list (`release`): a simulation pushes
 * millions of them. The owner must drop its reference before releasing one.
 */
export interface TimerEntry<A> {
  time: number
  seq: number
  /** null once cancelled. */
  action: A | null
}

interface Bucket<A> {
  entries: TimerEntry<A>[]
  /** Entries before this index have run or were skipped. */
  head: number
}

export class TimerQueue<A> {
  private readonly buckets = new Map<number, Bucket<A>>()
  /** Min-heap of the times that have a bucket. */
  private times: number[] = []
  private seq = 0
  private live = 0
  private dead = 0
  private readonly free: TimerEntry<A>[] = []
  /** The bucket of the entry `peek` last returned: `pop` takes from it without looking it up again. */
  private top: Bucket<A> | null = null

  /** Live (not cancelled) entries. */
  get size(): number {
    return this.live
  }

  /** Entries held, cancelled ones not yet dropped included: for memory checks. */
  get held(): number {
    return this.live + this.dead
  }

  push(time: number, action: A): TimerEntry<A> {
    let entry = this.free.pop()
    if (entry === undefined) entry = { time, seq: this.seq++, action }
    else (entry.time = time), (entry.seq = this.seq++), (entry.action = action)
    let bucket = this.buckets.get(time)
    if (bucket === undefined) {
      bucket = { entries: [], head: 0 }
      this.buckets.set(time, bucket)
      pushTime(this.times, time)
    }
    bucket.entries.push(entry)
    this.live++
    return entry
  }

  /** Marks an entry dead; it stays in its bucket until its time comes or a compaction. */
  cancel(entry: TimerEntry<A>): void {
    if (entry.action === null) return
    entry.action = null
    this.live--
    this.dead++
    if (this.dead > 1024 && this.dead > this.live) this.compact()
  }

  /** The earliest live entry, without removing it. */
  peek(): TimerEntry<A> | undefined {
    for (;;) {
      const time = this.times[0]
      if (time === undefined) return undefined
      const bucket = this.buckets.get(time)!
      const entries = bucket.entries
      while (bucket.head < entries.length) {
        const entry = entries[bucket.head]
        if (entry.action !== null) {
          this.top = bucket
          return entry
        }
        // A cancelled entry: skip it for good.
        bucket.head++
        this.dead--
        this.release(entry)
      }
      this.buckets.delete(time)
      popTime(this.times)
    }
  }

  /** Removes and returns the earliest live entry; `release` it once read. */
  pop(): TimerEntry<A> | undefined {
    const top = this.peek()
    if (top === undefined) return undefined
    this.top!.head++
    this.live--
    return top
  }

  /** Hands a popped entry back for reuse. */
  release(entry: TimerEntry<A>): void {
    entry.action = null
    if (this.free.length < 4096) this.free.push(entry)
  }

  /** Drops every cancelled entry and every bucket left empty. */
  private compact(): void {
    const times: number[] = []
    for (const [time, bucket] of this.buckets) {
      const kept: TimerEntry<A>[] = []
      for (let i = bucket.head; i < bucket.entries.length; i++) {
        const entry = bucket.entries[i]
        if (entry.action !== null) kept.push(entry)
        else this.release(entry)
      }
      if (kept.length === 0) {
        this.buckets.delete(time)
        continue
      }
      bucket.entries = kept
      bucket.head = 0
      times.push(time)
    }
    times.sort((a, b) => a - b)
    this.times = times
    this.dead = 0
  }
}

function pushTime(heap: number[], time: number): void {
  let i = heap.length
  heap.push(time)
  while (i > 0) {
    const parent = (i - 1) >> 1
    if (heap[parent] <= time) break
    heap[i] = heap[parent]
    i = parent
  }
  heap[i] = time
}

function popTime(heap: number[]): void {
  const last = heap.pop()!
  const n = heap.length
  if (n === 0) return
  let i = 0
  for (;;) {
    let child = 2 * i + 1
    if (child >= n) break
    if (child + 1 < n && heap[child + 1] < heap[child]) child++
    if (heap[child] >= last) break
    heap[i] = heap[child]
    i = child
  }
  heap[i] = last
}
