/**
 * How the partitions of a parallel simulation trade messages: one
 * SharedArrayBuffer, a barrier, and for every ordered pair of partitions
 * two regions (by window parity) that the sender writes during a window and
 * the receiver reads after the barrier that ends it.
 *
 * A region written in window k is next written in window k + 2, which its
 * writer only starts after the barrier of window k + 1, which its reader only
 * reaches after reading window k's: no region is written while it is read.
 *
 * Layout: Int32 control words [arrived, generation, aborted], then per parity
 * and partition a Float64 meta row [localNext, wantsGc, then (length,
 * minArrival) per destination], then the regions.
 */
const ARRIVED = 0
const GENERATION = 1
const ABORTED = 2
const CONTROL_BYTES = 16

/** Spins this many times before sleeping in the barrier: a window is often shorter than a futex wake-up. */
const SPINS = 100000

/** Raised in every partition when one of them failed (its error went to the coordinator). */
export class ExchangeAborted extends Error {
  constructor() {
    super('another partition failed')
    this.name = 'ExchangeAborted'
  }
}

export interface ExchangeShape {
  partitions: number
  /** Bytes one partition may send another in one window. */
  regionBytes: number
}

export function createExchangeBuffer(shape: ExchangeShape): SharedArrayBuffer {
  return new SharedArrayBuffer(CONTROL_BYTES + metaBytes(shape) + 2 * shape.partitions * shape.partitions * shape.regionBytes)
}

const metaRow = (partitions: number) => 2 + 2 * partitions
const metaBytes = ({ partitions }: ExchangeShape) => 2 * partitions * metaRow(partitions) * 8

/** A region of the shared buffer, with a DataView made once. */
export interface Region {
  bytes: Uint8Array
  view: DataView
}

/** What one window's exchange told a partition. */
export interface Inbound {
  /** The bytes each partition sent us (an empty view for ourselves), valid until our next `exchange`. */
  from: Uint8Array[]
  /** The earliest time anything is due anywhere, messages in flight included (Infinity when idle). */
  globalNext: number
  /** Some partition asked for a garbage collection now (see Partition: all collect together). */
  collect: boolean
}

/** One partition's end of the exchange. */
export class Exchange {
  private readonly control: Int32Array
  private readonly meta: Float64Array
  private readonly row: number
  private window = 0
  /** Regions by [parity][partition]: ours to each partition, and each partition's to us. */
  private readonly outRegions: Region[][] = [[], []]
  private readonly inRegions: Uint8Array[][] = [[], []]
  /** Per destination, this window: bytes written and the earliest arrival among them. */
  private readonly written: number[] = []
  private readonly minArrival: number[] = []
  /**
   * Set by the first reserve that did not fit. Its throw happens inside some
   * event and may be caught there (a router drops a frame whose handling
   * threw); the window's exchange throws it again, so the run always stops.
   */
  private overflow: string | null = null

  constructor(
    private readonly buffer: SharedArrayBuffer,
    private readonly shape: ExchangeShape,
    readonly self: number,
  ) {
    this.control = new Int32Array(buffer, 0, CONTROL_BYTES / 4)
    this.meta = new Float64Array(buffer, CONTROL_BYTES, metaBytes(shape) / 8)
    this.row = metaRow(shape.partitions)
    for (const parity of [0, 1]) {
      for (let p = 0; p < shape.partitions; p++) {
        const bytes = this.region(parity, self, p)
        this.outRegions[parity].push({ bytes, view: new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength) })
        this.inRegions[parity].push(this.region(parity, p, self))
      }
    }
    for (let p = 0; p < shape.partitions; p++) (this.written.push(0), this.minArrival.push(Infinity))
  }

  /**
   * Room for `bytes` more bytes to partition `to`, arriving (or taking effect)
   * at `arrival`; returns the region and the offset to write at.
   */
  reserve(to: number, bytes: number, arrival: number): { region: Region; offset: number } {
    const offset = this.written[to]
    if (offset + bytes > this.shape.regionBytes) {
      this.overflow ??= `partition ${this.self} → ${to}: over ${this.shape.regionBytes} bytes in one window (raise regionBytes)`
      throw new Error(this.overflow)
    }
    this.written[to] = offset + bytes
    if (arrival < this.minArrival[to]) this.minArrival[to] = arrival
    return { region: this.outRegions[this.window & 1][to], offset }
  }

  /**
   * Ends the window: publishes what we wrote and when our next local event is
   * due, waits for every partition to do the same, and returns what they sent us.
   */
  exchange(localNext: number, wantsGc = false): Inbound {
    if (this.overflow !== null) throw new Error(this.overflow)
    const { partitions } = this.shape
    const parity = this.window & 1
    const mine = this.metaIndex(parity, this.self)
    this.meta[mine] = localNext
    this.meta[mine + 1] = wantsGc ? 1 : 0
    for (let to = 0; to < partitions; to++) {
      this.meta[mine + 2 + 2 * to] = this.written[to]
      this.meta[mine + 3 + 2 * to] = this.minArrival[to]
      this.written[to] = 0
      this.minArrival[to] = Infinity
    }
    this.barrier()
    const from: Uint8Array[] = []
    let globalNext = Infinity
    let collect = false
    for (let p = 0; p < partitions; p++) {
      const row = this.metaIndex(parity, p)
      globalNext = Math.min(globalNext, this.meta[row])
      collect ||= this.meta[row + 1] === 1
      for (let to = 0; to < partitions; to++) globalNext = Math.min(globalNext, this.meta[row + 3 + 2 * to])
      from.push(this.inRegions[parity][p].subarray(0, this.meta[row + 2 + 2 * this.self]))
    }
    this.window++
    return { from, globalNext, collect }
  }

  /** Tells every partition to stop: their next barrier throws ExchangeAborted. */
  abort(): void {
    Atomics.store(this.control, ABORTED, 1)
    Atomics.notify(this.control, GENERATION)
  }

  /** A sense-reversing barrier: the last to arrive starts the next generation. */
  private barrier(): void {
    const control = this.control
    const generation = Atomics.load(control, GENERATION)
    if (Atomics.add(control, ARRIVED, 1) === this.shape.partitions - 1) {
      Atomics.store(control, ARRIVED, 0)
      Atomics.add(control, GENERATION, 1)
      Atomics.notify(control, GENERATION)
      return
    }
    for (let spin = 0; spin < SPINS; spin++) {
      if (Atomics.load(control, GENERATION) !== generation) return
    }
    while (Atomics.load(control, GENERATION) === generation) {
      if (Atomics.load(control, ABORTED) !== 0) throw new ExchangeAborted()
      Atomics.wait(control, GENERATION, generation, 1000)
    }
  }

  private metaIndex(parity: number, partition: number): number {
    return (parity * this.shape.partitions + partition) * this.row
  }

  private region(parity: number, from: number, to: number): Uint8Array {
    const { partitions, regionBytes } = this.shape
    const index = (parity * partitions + from) * partitions + to
    return new Uint8Array(this.buffer, CONTROL_BYTES + metaBytes(this.shape) + index * regionBytes, regionBytes)
  }
}
