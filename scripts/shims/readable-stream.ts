/**
 * The part of Node's stream.Duplex that simple-peer 9 touches, for browser
 * builds (scripts/browser-build.ts aliases `readable-stream` here). The
 * transport never uses simple-peer as a stream: it reads and writes the data
 * channel itself (src/transport/webrtc/peer-internals.ts). simple-peer only
 * extends Duplex, passes it options, and on destroy ends both sides
 * (`_readableState.ended`, `push(null)`, `_writableState.finished`, `end()`,
 * a 'finish' listener). The full readable-stream package with the buffer,
 * string_decoder and process shims it needs costs ~60 KiB minified; this is
 * under 1 KiB.
 */
import { EventEmitter } from 'events'

type WriteCallback = (error?: Error | null) => void

export class Duplex extends EventEmitter {
  readable = true
  writable = true
  readonly _readableState = { ended: false }
  readonly _writableState = { finished: false }

  constructor(_options?: unknown) {
    super()
  }

  /** Data is handed to 'data' listeners at once; `null` ends the readable side ('end', later). */
  push(chunk: unknown): boolean {
    if (chunk !== null) {
      this.emit('data', chunk)
      return true
    }
    if (!this._readableState.ended) {
      this._readableState.ended = true
      queueMicrotask(() => this.emit('end'))
    }
    return false
  }

  write(chunk: unknown, callback?: WriteCallback): boolean {
    if (this._writableState.finished) {
      callback?.(new Error('write after end'))
      return false
    }
    this._write(chunk, 'binary', callback ?? (() => undefined))
    return true
  }

  /** Ends the writable side: 'finish' follows, later (as in Node). */
  end(): this {
    if (!this._writableState.finished) {
      this._writableState.finished = true
      queueMicrotask(() => this.emit('finish'))
    }
    return this
  }

  _write(_chunk: unknown, _encoding: string, callback: WriteCallback): void {
    callback()
  }

  _read(): void {}
}

export default { Duplex }
