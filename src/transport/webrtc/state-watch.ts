import { interval, type Subscription } from 'rxjs'
import type { Instance as Peer } from 'simple-peer'
import { peerConnectionOf } from './peer-internals'

/** How often a connection that is not connected has its state read again. */
export const STATE_POLL_MS = 1000

const UP = new Set(['connected', 'completed'])
const DOWN = new Set(['failed', 'closed'])

/**
 * Notices a connection that failed even when its own event said otherwise.
 *
 * simple-peer destroys a peer when, in an iceconnectionstatechange handler,
 * it reads the state 'failed' (or 'closed'). Under @roamhq/wrtc the event
 * can arrive before the state it announces is readable: the handler reads
 * the previous one ('disconnected' when the connection has just failed) and
 * no further event ever comes. Measured with peers killed silently: 1 to 3
 * of ~30 such connections per run stayed "open" to a dead peer for good
 * (pc.connectionState 'failed', the data channel still 'open'), so the
 * overlay kept routing into them. So from the first state change on, the
 * states are read again every STATE_POLL_MS until the connection is
 * connected again; failed or closed calls `onDown`. Browsers deliver the
 * states in order; there the watch only ever confirms what simple-peer saw.
 */
export class StateWatch {
  private poll: Subscription | null = null
  /**
   * The connection was up when last read. While it is not, sends are held
   * back: under @roamhq/wrtc a send racing the native close of its data
   * channel (on libwebrtc's thread, once ICE fails) dereferences a channel
   * already released and crashes the process (seen in RTCDataChannel::Send).
   */
  up = true

  constructor(
    private readonly peer: Peer,
    private readonly onDown: () => void,
    /** Called whenever `up` changes. */
    private readonly onUp: (up: boolean) => void = () => undefined,
  ) {
    peer.on('iceStateChange', () => this.check())
  }

  /** Polls are running (a connection not connected right now). */
  get watching(): boolean {
    return this.poll !== null
  }

  stop(): void {
    this.poll?.unsubscribe()
    this.poll = null
  }

  private check(): void {
    const pc = peerConnectionOf(this.peer)
    const ice = pc?.iceConnectionState
    // Older browsers lack connectionState: the ICE state then speaks for both.
    const connection = pc?.connectionState ?? ice
    const up = pc !== null && UP.has(connection!) && UP.has(ice!)
    if (up !== this.up) {
      this.up = up
      this.onUp(up)
    }
    if (pc === null || DOWN.has(connection!) || DOWN.has(ice!)) {
      this.stop()
      this.onDown()
      return
    }
    if (this.up) this.stop()
    else this.poll ??= interval(STATE_POLL_MS).subscribe(() => this.check())
  }
}
