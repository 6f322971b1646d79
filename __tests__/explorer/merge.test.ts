import { createServer, connect, type Server as NetServer, type Socket } from 'node:net'
import type { Explorer } from '../../src'
import { MemoryNetwork } from '../../src/transport/memory'
import { memoryExplorers, metric, ringCorrect, startServer, waitFor, type Server } from './helpers'

/** Forwards TCP connections on `from` to `to` on loopback: one server answering on two ports. */
async function forwardPort(from: number, to: number): Promise<{ close(): Promise<void> }> {
  const sockets = new Set<Socket>()
  const server: NetServer = createServer((client) => {
    const upstream = connect(to, '127.0.0.1')
    for (const s of [client, upstream]) {
      sockets.add(s)
      s.on('error', () => undefined)
      s.on('close', () => {
        sockets.delete(s)
        client.destroy()
        upstream.destroy()
      })
    }
    client.pipe(upstream).pipe(client)
  })
  await new Promise<void>((resolve) => server.listen(from, '127.0.0.1', resolve))
  return {
    close: () =>
      new Promise<void>((resolve) => {
        sockets.forEach((s) => s.destroy())
        server.close(() => resolve())
      }),
  }
}

/**
 * Two rings that never met, each consistent on its own: Chord's stabilization
 * alone never merges them. Once their peers are registered with the same
 * server, its successor hints do.
 */
describe('rings that split apart', () => {
  const explorers: Explorer[] = []
  const servers: Server[] = []
  let forward: { close(): Promise<void> } | null = null
  afterEach(async () => {
    await Promise.all(explorers.splice(0).map((e) => e.close()))
    await forward?.close()
    await Promise.all(servers.splice(0).map((s) => s.app.close()))
  })

  it('merge into one ring through the server’s successor hints', async () => {
    const network = new MemoryNetwork()
    const first = await startServer({ ringCheckMs: 200 })
    const second = await startServer()
    servers.push(first, second)
    const a = memoryExplorers(first.url, 4, network)
    const b = memoryExplorers(second.url, 4, network)
    explorers.push(...a, ...b)
    await Promise.all(explorers.map((e) => e.listen()))
    await waitFor(() => ringCorrect(a) && ringCorrect(b), 30_000, 'two separate rings')
    expect(ringCorrect(explorers)).toBe(false)

    // The second server goes; its port now leads to the first, where b's peers register again.
    await second.app.close()
    servers.pop()
    forward = await forwardPort(second.port, first.port)
    await waitFor(async () => (await metric(first.http, 'signal_peers')) === 8, 30_000, 'every peer registered with one server')

    await waitFor(() => ringCorrect(explorers), 30_000, 'one merged ring')
    expect(await metric(first.http, 'signal_hints_total')).toBeGreaterThan(0)
  })
})
