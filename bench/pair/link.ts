/**
 * The one thing raw simple-peer and the transport's Channel have in common
 * for the benchmark: a connected pair of message links, measured by the same
 * code so the two are comparable.
 */
export interface Link {
  send(bytes: Uint8Array): void
  readonly bufferedAmount: number
  /** Calls back once bufferedAmount is at or below the low-water mark. */
  whenDrained(callback: () => void): void
  /** Replaces the handler of received messages. */
  onMessage(handler: (bytes: Uint8Array) => void): void
}

export interface Pair {
  a: Link
  b: Link
  /** From creating the peers until both sides reported the link open. */
  connectMs: number
  /** Destroys both ends; resolves once both are closed. */
  close(): Promise<void>
}

export interface PairOptions {
  /** Pairs opened (and closed) to time connecting; the median counts. Default 10. */
  connects?: number
  /** Round trips measured (after 20 unmeasured ones). Default 200. */
  pings?: number
  /** Bytes of the ping message. Default 16. */
  pingBytes?: number
  /** Bytes pushed one way for throughput. Default 64 MiB. */
  bytes?: number
  /** Message size for throughput. Default 16 KiB (the transport's MAX_FRAME_BYTES). */
  messageBytes?: number
  /** Flow control: stop sending above this bufferedAmount... Default 1 MiB. */
  highWaterMark?: number
  /** ...and resume at or below this one. Default 256 KiB. */
  lowWaterMark?: number
}

export type Settings = Required<PairOptions>

export const settings = (o: PairOptions = {}): Settings => ({
  connects: o.connects ?? 10,
  pings: o.pings ?? 200,
  pingBytes: o.pingBytes ?? 16,
  bytes: o.bytes ?? 64 * 1024 * 1024,
  messageBytes: o.messageBytes ?? 16 * 1024,
  highWaterMark: o.highWaterMark ?? 1024 * 1024,
  lowWaterMark: o.lowWaterMark ?? 256 * 1024,
})

/** Median round trip of small messages, one at a time: b echoes what a sends. */
export async function measureRtt(pair: Pair, s: Settings): Promise<number> {
  const { a, b } = pair
  b.onMessage((bytes) => b.send(bytes))
  const ping = new Uint8Array(s.pingBytes)
  const once = () =>
    new Promise<number>((resolve) => {
      const t0 = performance.now()
      a.onMessage(() => resolve(performance.now() - t0))
      a.send(ping)
    })
  for (let i = 0; i < 20; i++) await once()
  const samples: number[] = []
  for (let i = 0; i < s.pings; i++) samples.push(await once())
  return median(samples)
}

/**
 * MB/s (10^6 bytes/s) of `bytes` sent a → b in `messageBytes` messages, with
 * bufferedAmount flow control; the clock stops when a hears b got the last byte.
 */
export function measureThroughput(pair: Pair, s: Settings): Promise<number> {
  const { a, b } = pair
  const count = Math.ceil(s.bytes / s.messageBytes)
  const total = count * s.messageBytes
  const message = new Uint8Array(s.messageBytes)
  return new Promise((resolve) => {
    let received = 0
    b.onMessage((bytes) => {
      received += bytes.byteLength
      if (received === total) b.send(new Uint8Array(1))
    })
    const t0 = performance.now()
    a.onMessage(() => resolve(total / 1e6 / ((performance.now() - t0) / 1000)))
    let sent = 0
    const pump = (): void => {
      while (sent < count) {
        if (a.bufferedAmount > s.highWaterMark) return a.whenDrained(pump)
        a.send(message)
        sent++
      }
    }
    pump()
  })
}

export function median(values: number[]): number {
  const sorted = [...values].sort((x, y) => x - y)
  const mid = sorted.length >> 1
  return sorted.length % 2 === 1 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2
}
