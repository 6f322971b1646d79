/**
 * The Node peers `npm start` runs beside the server, so a newcomer sees a living
 * ring at once, and has someone to chat with: each peer accepts every socket
 * and answers each message it receives. This is the one place to change what
 * they do.
 */
import { createExplorer, type Explorer, type ExplorerSocket } from '../src'
import type { WrtcImpl } from '../src/transport/webrtc'

export interface DemoPeer {
  id: string
  close(): Promise<void>
}

const decoder = new TextDecoder()
const encoder = new TextEncoder()

/** Answers every message on an accepted socket, so a demo page dialling this peer gets a reply. */
function answer(explorer: Explorer, socket: ExplorerSocket): void {
  socket.data$.subscribe({
    next: (data) => socket.send(encoder.encode(`${explorer.id} got: ${decoder.decode(data)}`)),
    complete: () => socket.close(),
    error: () => undefined,
  })
}

export async function startDemoPeers(signalUrl: string, count: number, log: (line: string) => void): Promise<DemoPeer[]> {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const wrtc = require('@roamhq/wrtc') as WrtcImpl
  const peers: DemoPeer[] = []
  for (let i = 0; i < count; i++) {
    const explorer = createExplorer({ signalUrl, wrtc })
    explorer.incoming$.subscribe((socket) => answer(explorer, socket))
    await explorer.listen()
    peers.push({ id: explorer.id, close: () => explorer.close() })
    log(`Node demo peer ${i + 1}/${count} joined as ${explorer.id} (answers chats)`)
  }
  return peers
}
