// Type-checked without skipLibCheck: the declarations must stand on their own.
import type { Observable } from 'rxjs'
import { createExplorer, isExplorerError, type ErrorCode, type Explorer, type ExplorerSocket, type FingerUpdate, type PeerEvent } from 'webrtc-explorer'
import { createSignalServer, type SignalServerOptions } from 'webrtc-explorer/signal-server'

const explorer: Explorer = createExplorer({ signalUrl: 'ws://localhost:9000/ws', maxFingers: 8, iceServers: [{ urls: 'stun:stun.example.org' }] })
const peers: Observable<PeerEvent> = explorer.peers$
const fingers: Observable<FingerUpdate> = explorer.fingers$
const sockets: Observable<ExplorerSocket> = explorer.dial$('0123456789ab')
export const id: string = explorer.id
export const codeOf = (e: unknown): ErrorCode | null => (isExplorerError(e) ? e.code : null)
const options: SignalServerOptions = { maxPeers: 10 }
export const server = createSignalServer(options)
export { peers, fingers, sockets }
