import type { WebSocketConstructor } from './websocket'

/** Browser stand-in for node-websocket.ts: browsers have a global WebSocket, so `ws` is never needed. */
export function nodeWebSocket(): WebSocketConstructor | undefined {
  return undefined
}
