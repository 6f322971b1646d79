import { createExplorer, type Explorer } from '../../src'
import { freePort } from '../helpers/redis-server'
import { MemoryNetwork } from '../../src/transport/memory'
import { memoryExplorers, startServer, waitFor, type Server } from './helpers'

const ringIds = async (server: Server): Promise<readonly string[]> =>
  ((await (await fetch(`${server.http}/ring`)).json()) as { peers: string[] }).peers

/** `signalUrl` may list several servers (instances of one cluster): the explorer moves on when one fails or is lost. */
describe('explorer with several signalling URLs', () => {
  const servers: Server[] = []
  let explorers: Explorer[] = []
  afterEach(async () => {
    await Promise.all(explorers.map((e) => e.close()))
    explorers = []
    await Promise.all(servers.splice(0).map((s) => s.app.close()))
  })

  it('takes a list; an empty list or a bad entry throws BAD_OPTIONS at once', () => {
    const transport = new MemoryNetwork().transport(1)
    expect(() => createExplorer({ signalUrl: ['ws://127.0.0.1:9/ws', 'wss://example.org/ws'], transport })).not.toThrow()
    expect(() => createExplorer({ signalUrl: [], transport })).toThrow(expect.objectContaining({ code: 'BAD_OPTIONS' }))
    expect(() => createExplorer({ signalUrl: ['ws://127.0.0.1:9/ws', 'http://x/ws'], transport })).toThrow(expect.objectContaining({ code: 'BAD_OPTIONS' }))
  })

  it('joins through the URL that answers when another in the list does not', async () => {
    const live = await startServer()
    servers.push(live)
    const dead = `ws://127.0.0.1:${await freePort()}/ws`
    // Each starts at a random entry: over four peers, some start at the dead one and move on.
    explorers = memoryExplorers([dead, live.url], 4)
    await Promise.all(explorers.map((e) => e.listen()))
    expect([...(await ringIds(live))].sort()).toEqual(explorers.map((e) => e.id).sort())
  })

  it('registers again at the next server when its server goes away', async () => {
    const first = await startServer()
    // The second is not up yet: every peer ends up at the first.
    const secondPort = await freePort()
    explorers = memoryExplorers([first.url, `ws://127.0.0.1:${secondPort}/ws`], 4)
    await Promise.all(explorers.map((e) => e.listen()))
    expect([...(await ringIds(first))].sort()).toEqual(explorers.map((e) => e.id).sort())
    const second = await startServer({}, secondPort)
    servers.push(second)
    await first.app.close()
    await waitFor(async () => (await ringIds(second)).length === explorers.length, 30_000, 'every peer at the second server')
    expect([...(await ringIds(second))].sort()).toEqual(explorers.map((e) => e.id).sort())
  })
})
