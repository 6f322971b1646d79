import net from 'node:net'

/**
 * A deliberately cheap WebSocket client for load generation: raw TCP, a fixed
 * handshake, unmasked-by-zero-key client frames (mask bit set, key 0, as the
 * RFC requires a mask but not a random one), and a frame parser that only
 * looks at each frame's first bytes. It keeps the generator's cost per message
 * well below the servers', so the servers are what gets measured.
 */
export interface RawClientHandlers {
  /** Called for every text frame with the payload (a view into the read buffer: copy to keep). */
  onText(payload: Buffer): void
  onClose?(): void
}

const HANDSHAKE_END = Buffer.from('\r\n\r\n')

/** Encodes one client → server text frame with a zero masking key. */
export function encodeFrame(text: string): Buffer {
  const payload = Buffer.from(text)
  const len = payload.length
  const headerLen = len < 126 ? 6 : len < 65536 ? 8 : 14
  const frame = Buffer.allocUnsafe(headerLen + len)
  frame[0] = 0x81 // FIN + text
  if (len < 126) {
    frame[1] = 0x80 | len
  } else if (len < 65536) {
    frame[1] = 0x80 | 126
    frame.writeUInt16BE(len, 2)
  } else {
    frame[1] = 0x80 | 127
    frame.writeUInt32BE(0, 2)
    frame.writeUInt32BE(len, 6)
  }
  frame.writeUInt32BE(0, headerLen - 4) // masking key 0: payload goes as is
  payload.copy(frame, headerLen)
  return frame
}

const PONG = Buffer.from([0x8a, 0x80, 0, 0, 0, 0])

export class RawClient {
  private readonly socket: net.Socket
  private buffer: Buffer = Buffer.alloc(0)
  private upgraded = false
  readonly ready: Promise<void>

  constructor(port: number, path: string, localAddress: string, private readonly handlers: RawClientHandlers) {
    this.socket = net.connect({ port, host: '127.0.0.1', localAddress })
    this.socket.setNoDelay(true)
    this.ready = new Promise((resolve, reject) => {
      this.socket.once('connect', () => {
        this.socket.write(
          `GET ${path} HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n` +
            'Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n',
        )
      })
      this.socket.on('data', (chunk: Buffer) => {
        this.buffer = this.buffer.length === 0 ? chunk : Buffer.concat([this.buffer, chunk])
        if (!this.upgraded) {
          const end = this.buffer.indexOf(HANDSHAKE_END)
          if (end === -1) return
          const head = this.buffer.subarray(0, end).toString('latin1')
          if (!head.startsWith('HTTP/1.1 101')) return reject(new Error(`upgrade refused: ${head.split('\r\n')[0]}`))
          this.upgraded = true
          this.buffer = this.buffer.subarray(end + 4)
          resolve()
        }
        this.parse()
      })
      this.socket.once('error', reject)
      this.socket.once('close', () => {
        reject(new Error('closed before upgrade'))
        this.handlers.onClose?.()
      })
    })
  }

  private parse(): void {
    let buf = this.buffer
    let off = 0
    while (buf.length - off >= 2) {
      const b0 = buf[off]
      let len = buf[off + 1] & 0x7f
      let head = 2
      if (len === 126) {
        if (buf.length - off < 4) break
        len = buf.readUInt16BE(off + 2)
        head = 4
      } else if (len === 127) {
        if (buf.length - off < 10) break
        len = buf.readUInt32BE(off + 6)
        head = 10
      }
      if (buf.length - off < head + len) break
      const opcode = b0 & 0x0f
      const payload = buf.subarray(off + head, off + head + len)
      if (opcode === 1) this.handlers.onText(payload)
      else if (opcode === 9) this.socket.write(PONG) // (empty-payload pong is enough for both servers)
      else if (opcode === 8) this.socket.end()
      off += head + len
    }
    this.buffer = off === buf.length ? Buffer.alloc(0) : buf.subarray(off)
  }

  /** One write (one syscall) for any number of pre-encoded frames. */
  write(frames: Buffer): void {
    this.socket.write(frames)
  }

  /** Abrupt close (RST): no TIME_WAIT left behind on the generator side. */
  destroy(): void {
    this.socket.resetAndDestroy()
  }
}
