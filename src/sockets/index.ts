export { SocketLayer, type SocketLayerHost, type SocketResources } from './layer'
export type { ExplorerSocket, RoutedSocket } from './socket'
export type { SenderStats } from './sender'
export { SOCKET_DEFAULTS, type SocketOptions } from './options'
