import type { WebSocketConstructor } from './websocket'

/**
 * Node 20 has no global WebSocket: fall back to the `ws` package, loaded only
 * when needed. Browser bundles never reach this (they have a global), and a
 * bundler targeting browsers resolves `ws` to its tiny browser stub, or maps
 * this module to `node-websocket.browser.ts` (see docs/api.md).
 */
export function nodeWebSocket(): WebSocketConstructor | undefined {
  if (typeof process === 'undefined' || !process.versions?.node) return undefined
  try {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    return require('ws') as WebSocketConstructor
  } catch {
    return undefined
  }
}
