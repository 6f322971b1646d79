import type { SchedulerLike } from 'rxjs'

/** Counters for a whole MemoryNetwork (frames and bytes counted at `send`). */
export interface MemoryNetworkStats {
  /** Frames accepted by `send` on an open channel (including ones then lost). */
  framesSent: number
  /** Frames handed to a receiver's frames$. */
  framesDelivered: number
  /** Frames dropped by the loss model. */
  framesLost: number
  /** Frames dropped because the receiving end had closed or crashed meanwhile. */
  framesDropped: number
  bytesSent: number
  /** Channels (pairs of ends) ever created. */
  channelsCreated: number
}

/** What a channel end needs from its network: the link model and bookkeeping. */
export interface LinkModel {
  readonly scheduler: SchedulerLike
  readonly lowWaterMark: number
  readonly stats: MemoryNetworkStats
  /** One-way latency for the next frame, in ms. */
  latency(): number
  /** Whether the loss model drops the next frame. */
  lost(): boolean
  /** An end stopped being open (bookkeeping for channelCount and crash). */
  endClosed(localId: number, end: unknown): void
}
