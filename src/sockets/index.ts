export { SocketLayer, type SocketLayerHost, type SocketResources } from './layer'
export type { ExplorerSocket } from './socket'
export { SOCKET_DEFAULTS, type SocketOptions } from './options'
