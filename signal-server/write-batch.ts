import type { Socket } from 'node:net'
import type { WebSocket } from 'ws'

/**
 * Coalesces the frames sent to one socket during one event-loop turn into a
 * single writev: the first send to a socket corks its TCP socket, and one
 * setImmediate (right after the current poll phase) uncorks every corked
 * socket. A WebRTC handshake is a burst (offer, then a dozen ICE candidates
 * to the same peer), so this turns many small write syscalls into one, at a
 * latency cost of at most the rest of the current loop turn.
 *
 * Uses ws's underlying net.Socket (`_socket`, stable across ws 8).
 */
/** ws options for a Buffer that holds text (a signal frame forwarded by another instance, never decoded here). */
const TEXT = { binary: false }

export class WriteBatcher {
  private corked: Socket[] = []
  private scheduled = false
  private readonly flush = (): void => {
    this.scheduled = false
    const list = this.corked
    this.corked = []
    for (let i = 0; i < list.length; i++) list[i].uncork()
  }

  send(ws: WebSocket, text: string | Buffer): void {
    const raw = (ws as unknown as { _socket: Socket | undefined })._socket
    if (raw !== undefined && !raw.destroyed && raw.writableCorked === 0) {
      raw.cork()
      this.corked.push(raw)
      if (!this.scheduled) {
        this.scheduled = true
        setImmediate(this.flush)
      }
    }
    if (typeof text === 'string') ws.send(text)
    else ws.send(text, TEXT)
  }

  /** Uncork everything now (used before closing sockets). */
  flushNow(): void {
    if (this.corked.length > 0) this.flush()
  }
}
