// Must NOT type-check: proves the declarations are real types, not `any`.
import { createExplorer } from 'webrtc-explorer'

export const id: number = createExplorer({ signalUrl: 'ws://localhost:9000/ws' }).id
