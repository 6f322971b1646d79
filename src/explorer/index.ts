export { createExplorer, type Explorer, type ExplorerSnapshot, type PeerEvent } from './explorer'
export type { ExplorerOptions } from './options'
export type { WebSocketConstructor, WebSocketLike } from './websocket'
