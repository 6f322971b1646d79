/**
 * A binary min-heap of timer entries ordered by (time, seq). `seq` grows with
 * every push, so entries due at the same time pop in insertion order (FIFO).
 *
 * Cancellation is lazy: the owner clears `entry.action` (O(1)) and the dead
 * entry is skipped when it reaches the top. When dead entries outnumber live
 * ones the heap is rebuilt, so timers that are armed and cancelled over and
 * over (every RPC timeout) cannot grow it without bound.
 *
 * Entries are recycled through a free list (`release`): a simulation pushes
 * millions of them and the garbage collector is the bottleneck otherwise. The
 * owner must drop its reference to an entry before releasing it.
 */
export interface TimerEntry<A> {
  time: number
  seq: number
  /** null once cancelled. */
  action: A | null
}

export class TimerHeap<A> {
  private items: TimerEntry<A>[] = []
  private seq = 0
  private dead = 0
  private readonly free: TimerEntry<A>[] = []

  /** Live (not cancelled) entries. */
  get size(): number {
    return this.items.length - this.dead
  }

  push(time: number, action: A): TimerEntry<A> {
    let entry = this.free.pop()
    if (entry === undefined) entry = { time, seq: this.seq++, action }
    else (entry.time = time), (entry.seq = this.seq++), (entry.action = action)
    const items = this.items
    items.push(entry)
    this.siftUp(items.length - 1)
    return entry
  }

  /** Marks an entry dead; it stays in the array until it surfaces or a rebuild. */
  cancel(entry: TimerEntry<A>): void {
    if (entry.action === null) return
    entry.action = null
    this.dead++
    if (this.dead > 1024 && this.dead > this.items.length >> 1) this.rebuild()
  }

  /** The earliest live entry, without removing it. */
  peek(): TimerEntry<A> | undefined {
    this.dropDeadTop()
    return this.items[0]
  }

  /** Removes and returns the earliest live entry; `release` it once read. */
  pop(): TimerEntry<A> | undefined {
    this.dropDeadTop()
    const top = this.items[0]
    if (top !== undefined) this.removeTop()
    return top
  }

  /** Hands a popped entry back for reuse. */
  release(entry: TimerEntry<A>): void {
    entry.action = null
    if (this.free.length < 4096) this.free.push(entry)
  }

  private dropDeadTop(): void {
    while (this.items.length > 0 && this.items[0].action === null) {
      this.release(this.items[0])
      this.removeTop()
      this.dead--
    }
  }

  private removeTop(): void {
    const items = this.items
    const last = items.pop()!
    if (items.length > 0) {
      items[0] = last
      this.siftDown(0)
    }
  }

  private rebuild(): void {
    this.items = this.items.filter((e) => e.action !== null || (this.release(e), false))
    this.dead = 0
    for (let i = (this.items.length >> 1) - 1; i >= 0; i--) this.siftDown(i)
  }

  private siftUp(i: number): void {
    const items = this.items
    const entry = items[i]
    while (i > 0) {
      const parent = (i - 1) >> 1
      if (!before(entry, items[parent])) break
      items[i] = items[parent]
      i = parent
    }
    items[i] = entry
  }

  private siftDown(i: number): void {
    const items = this.items
    const n = items.length
    const entry = items[i]
    for (;;) {
      let child = 2 * i + 1
      if (child >= n) break
      if (child + 1 < n && before(items[child + 1], items[child])) child++
      if (!before(items[child], entry)) break
      items[i] = items[child]
      i = child
    }
    items[i] = entry
  }
}

const before = <A>(x: TimerEntry<A>, y: TimerEntry<A>): boolean => x.time < y.time || (x.time === y.time && x.seq < y.seq)
