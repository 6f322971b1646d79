/**
 * The data channel's bufferedAmount without a native call per frame. In
 * @roamhq/wrtc each read is a blocking hop to the WebRTC network thread, as
 * costly as a send: profiled, reading it per frame took as much main-thread
 * time as sending. The gauge keeps the last reading plus the bytes sent since
 * (an upper bound) and reads the channel again only once that bound passes
 * the high-water mark: a sender comparing it with that mark decides exactly,
 * with one read per burst instead of one per frame.
 */
export class SendGauge {
  private known = 0
  private since = 0

  constructor(
    private readonly dc: RTCDataChannel,
    private readonly highWaterMark: number,
  ) {}

  /** Upper bound of the bytes queued; exact whenever above the high-water mark. */
  get amount(): number {
    if (this.known + this.since > this.highWaterMark) this.read()
    return this.known + this.since
  }

  /** Would `bytes` more push the queue past `limit`? Reads the channel only near it. */
  wouldExceed(bytes: number, limit: number): boolean {
    if (this.known + this.since + bytes <= limit) return false
    return this.read() + bytes > limit
  }

  sent(bytes: number): void {
    this.since += bytes
  }

  /** The exact amount, from the channel. */
  read(): number {
    this.known = this.dc.bufferedAmount
    this.since = 0
    return this.known
  }
}
