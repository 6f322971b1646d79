import type { LocalFrame } from '../router/router'
import { HEADER_BYTES } from '../wire/frame'

/**
 * Frames of a half-open socket that overtook the dialler's last handshake
 * message (routes reorder): kept, one per seq, within the window, and opened
 * once the handshake proved the dialler. Nothing here is delivered before.
 */
export class HeldFrames {
  private readonly frames = new Map<number, LocalFrame>()
  bytes = 0

  constructor(private readonly capacity: number) {}

  /** Keeps `frame` unless its seq is held already or it would overflow the window (the sender resends it). */
  hold(frame: LocalFrame): void {
    const size = HEADER_BYTES + frame.payload.byteLength
    if (this.frames.has(frame.seq) || this.bytes + size > this.capacity) return
    this.frames.set(frame.seq, frame)
    this.bytes += size
  }

  take(): LocalFrame[] {
    const frames = [...this.frames.values()]
    this.frames.clear()
    this.bytes = 0
    return frames
  }
}
