import type { WebSocketConstructor } from './websocket'

/**
 * Node 20 has no global WebSocket: fall back to the `ws` package, loaded only
 * when needed. Browsers have a global one and never get here; their bundles
 * map `ws` to an empty stub (package.json "browser" field), so `ws` stays out.
 */
export function nodeWebSocket(): WebSocketConstructor | undefined {
  if (typeof process === 'undefined' || !process.versions?.node) return undefined
  try {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const ws: unknown = require('ws')
    return typeof ws === 'function' ? (ws as WebSocketConstructor) : undefined
  } catch {
    return undefined
  }
}
