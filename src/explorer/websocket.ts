import { ExplorerError } from '../errors'
import { nodeWebSocket } from './node-websocket'

/** The part of the WHATWG WebSocket the explorer uses (browsers' and the `ws` package's both fit). */
export interface WebSocketLike {
  readonly readyState: number
  onopen: ((event: unknown) => void) | null
  onmessage: ((event: { data: unknown }) => void) | null
  onclose: ((event: unknown) => void) | null
  onerror: ((event: unknown) => void) | null
  send(data: string): void
  close(code?: number, reason?: string): void
}

export type WebSocketConstructor = new (url: string) => WebSocketLike

export const WS_OPEN = 1

/**
 * The WebSocket implementation: the one given, else the platform's global
 * (browsers, Deno, Node ≥ 22), else the `ws` package in Node 20.
 */
export function resolveWebSocket(given: unknown): WebSocketConstructor {
  if (given !== undefined) {
    if (typeof given !== 'function') throw new ExplorerError('BAD_OPTIONS', 'WebSocket must be a WebSocket constructor')
    return given as WebSocketConstructor
  }
  const global = (globalThis as { WebSocket?: unknown }).WebSocket
  if (typeof global === 'function') return global as WebSocketConstructor
  const node = nodeWebSocket()
  if (node) return node
  throw new ExplorerError('BAD_OPTIONS', 'no WebSocket implementation: pass options.WebSocket (e.g. require("ws"))')
}
