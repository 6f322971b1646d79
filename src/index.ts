/** webrtc-explorer: a Chord-style overlay over WebRTC data channels. See docs/api.md. */
export {
  createExplorer, type Explorer, type ExplorerOptions, type ExplorerSnapshot, type PeerEvent, type WebSocketConstructor, type WebSocketLike,
} from './explorer'
export type { Diagnostic, DiagnosticCode } from './diagnostics'
export type { DialOptions, ExplorerSocket, SocketOptions } from './sockets'
export type { FingerUpdate } from './ring/finger-table'
export { ExplorerError, isExplorerError, type ErrorCode } from './errors'
export { createIdentity, importIdentity, type Identity } from './identity'
