import { MemoryChannel, MemoryNetwork, type FarEnd, type MemoryNetworkOptions } from '../../transport/memory'
import type { PartitionOutbox } from './messages'

/**
 * The memory network of one partition of a parallel simulation. Channels
 * between two of its peers are plain MemoryChannel pairs; a channel to a
 * peer of another partition has a local end whose `remote` is a BridgedEnd,
 * which turns what it is handed into messages for that partition.
 *
 * The handshake is the memory transport's own: the connector's partition
 * registers the offer (its tokens say which partition made them), the
 * accepter's partition makes its end at once and tells the connector's
 * partition to make the other (Pair); the answer signal, which travels at
 * least one link latency, finds it there.
 */
export class PartitionNetwork extends MemoryNetwork {
  /** Local ends of channels that cross partitions, by channel id. */
  private readonly bridged = new Map<number, MemoryChannel>()
  private nextChannel = 0

  constructor(
    options: MemoryNetworkOptions & { latencyMs: number },
    private readonly partition: number,
    private readonly partitions: number,
    private readonly outbox: PartitionOutbox,
  ) {
    super(options)
  }

  protected override tokenFor(n: number): number {
    return n * this.partitions + this.partition
  }

  override answerOffer(token: number, from: number, to: number): MemoryChannel {
    const connectorPartition = token % this.partitions
    if (connectorPartition === this.partition) return super.answerOffer(token, from, to)
    // The offer is theirs: make our end now, theirs when they read the Pair (before the answer can reach them).
    const channel = this.nextChannel++ * this.partitions + this.partition
    const end = this.bridgedEnd(channel, to, from, connectorPartition)
    this.stats.channelsCreated++
    this.outbox.pair(connectorPartition, token, channel, from, to)
    return end
  }

  /**
   * Another partition's `to` answered our offer `token` (claimed to come from
   * `from`): make the connector's end of `channel` (the offer's maker, as on
   * one network: see MemoryNetwork.answerOffer), or refuse it.
   */
  pairAnswered(token: number, channel: number, from: number, to: number, accepterPartition: number): void {
    const offer = this.offers.get(token)
    if (offer === undefined || offer.end !== null || offer.from === to || from === to || !this.isLive(offer.from)) {
      // Our connector gave up or crashed meanwhile: their end closes.
      this.outbox.closed(accepterPartition, channel, this.scheduler.now() + this.latency())
      return
    }
    offer.end = this.bridgedEnd(channel, offer.from, offer.to ?? to, accepterPartition)
  }

  /** A frame (null: closed) for our end of `channel`, arriving at `at`. */
  arriveBridged(channel: number, at: number, frame: Uint8Array | null): void {
    const end = this.bridged.get(channel)
    if (end !== undefined && end.isOpen) end.arriveAt(frame, at)
    else if (frame !== null) this.stats.framesDropped++
  }

  /** The peer at the far end of `channel` crashed: our end hears nothing more and closes at `at`. */
  farCrashed(channel: number, at: number): void {
    this.bridged.get(channel)?.remoteCrashed(at - this.scheduler.now())
  }

  override endClosed(localId: number, end: MemoryChannel): void {
    super.endClosed(localId, end)
    if (end.remote instanceof BridgedEnd) this.bridged.delete(end.remote.channel)
  }

  private bridgedEnd(channel: number, localId: number, remoteId: number, farPartition: number): MemoryChannel {
    const end = this.newEnd(localId, remoteId)
    end.remote = new BridgedEnd(channel, farPartition, this, this.outbox, end)
    this.bridged.set(channel, end)
    return end
  }
}

/**
 * Stands in for a channel end in another partition. Frames leave as
 * messages with their arrival time (order kept as on one network). Bytes in
 * flight across partitions are not counted: the sender's bufferedAmount is
 * credited at once (the parallel simulator runs the ring, not socket flow control).
 */
export class BridgedEnd implements FarEnd {
  private lastArrival = -Infinity

  constructor(
    readonly channel: number,
    private readonly partition: number,
    private readonly network: PartitionNetwork,
    private readonly outbox: PartitionOutbox,
    private readonly near: MemoryChannel,
  ) {}

  /** Whether it closed, we learn from its Closed message (our end then closes too). */
  get isOpen(): boolean {
    return true
  }

  arrive(frame: Uint8Array | null, latency: number): void {
    const at = Math.max(this.network.scheduler.now() + latency, this.lastArrival)
    this.lastArrival = at
    if (frame === null) return this.outbox.closed(this.partition, this.channel, at)
    this.outbox.frame(this.partition, this.channel, at, frame)
    this.near.credit(frame.byteLength)
  }

  remoteCrashed(detectionMs: number): void {
    // Never sooner than a message can get there.
    const at = this.network.scheduler.now() + Math.max(detectionMs, this.network.latency())
    this.outbox.crashed(this.partition, this.channel, at)
  }

  credit(): void {}
}
