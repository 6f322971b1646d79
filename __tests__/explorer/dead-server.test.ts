import WebSocket from 'ws'
import { createExplorer, isExplorerError, type Explorer, type ExplorerOptions, type WebSocketConstructor } from '../../src'
import { MemoryNetwork } from '../../src/transport/memory'
import { FAST, startServer } from './helpers'

/** One explorer on an in-memory network (real time: these tests are about a real, dead TCP server). */
function memoryExplorer(url: string, extra: Partial<ExplorerOptions> = {}): Explorer {
  const network = new MemoryNetwork()
  const explorer: Explorer = createExplorer({ signalUrl: url, ...FAST, ...extra, transport: network.transport(0) })
  return explorer
}

/** The `ws` WebSocket, counting the connections the explorer opens. */
function countingWebSocket(): { WebSocket: WebSocketConstructor; opened: () => number } {
  let opened = 0
  class Counting extends WebSocket {
    constructor(url: string) {
      super(url)
      opened++
    }
  }
  return { WebSocket: Counting as unknown as WebSocketConstructor, opened: () => opened }
}

describe('listen() against a signalling server that cannot be reached', () => {
  let explorers: Explorer[] = []
  afterEach(async () => {
    await Promise.all(explorers.map((e) => e.close()))
    explorers = []
  })

  it('fails with SIGNAL_FAILED after one connection attempt, not after every join round', async () => {
    const dead = await startServer()
    await dead.app.close()
    const ws = countingWebSocket()
    // Ten join rounds allowed: a refused connection must not use them up.
    explorers = [memoryExplorer(dead.url, { WebSocket: ws.WebSocket, joinAttempts: 10 })]
    const error = await explorers[0].listen().catch((e: unknown) => e)
    expect(isExplorerError(error, 'SIGNAL_FAILED')).toBe(true)
    expect((error as Error).message).toContain(dead.url)
    expect(ws.opened()).toBe(1)
  })

  it('still joins when the server comes up before the next listen()', async () => {
    const server = await startServer()
    const port = server.port
    await server.app.close()
    explorers = [memoryExplorer(server.url)]
    await expect(explorers[0].listen()).rejects.toMatchObject({ code: 'SIGNAL_FAILED' })
    const back = await startServer({}, port)
    try {
      await explorers[0].listen()
      expect(explorers[0].snapshot().joined).toBe(true)
    } finally {
      await explorers[0].close()
      await back.app.close()
    }
  })
})
