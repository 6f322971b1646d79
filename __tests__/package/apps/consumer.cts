// The same from CommonJS (require conditions: index.d.cts).
import { createExplorer, type Explorer } from 'webrtc-explorer'
import { createSignalServer } from 'webrtc-explorer/signal-server'

const explorer: Explorer = createExplorer({ signalUrl: 'ws://localhost:9000/ws' })
export const id: string = explorer.id
export const listening: Promise<void> = explorer.listen()
export const server = createSignalServer({})
