import { firstValueFrom, lastValueFrom, toArray } from 'rxjs'
import { createExplorer, isExplorerError, type Explorer } from '../../src'
import { fingerStart, parseId } from '../../src/ids'
import { MemoryNetwork } from '../../src/transport/memory'
import { FAST, memoryExplorers, metric, ringCorrect, ringOf, startServer, successorListsCorrect, waitFor, type Server } from './helpers'

/** Explorers over the in-memory transport (real time), joining through a real signalling server on loopback. */
describe('explorer join through the signalling server', () => {
  let server: Server | null = null
  let explorers: Explorer[] = []
  afterEach(async () => {
    await Promise.all(explorers.map((e) => e.close()))
    explorers = []
    await server?.app.close()
    server = null
  })

  it('the first peer makes a ring of one; the others, listening at once, form one ring', async () => {
    server = await startServer()
    explorers = memoryExplorers(server.url, 10)
    await Promise.all(explorers.map((e) => e.listen()))
    await waitFor(() => ringCorrect(explorers), 30_000, 'the ring')
    expect(await metric(server.http, 'signal_peers')).toBe(10)
  })

  it('publishes each peer’s ring state for GET /ring', async () => {
    server = await startServer()
    explorers = memoryExplorers(server.url, 4)
    await Promise.all(explorers.map((e) => e.listen()))
    await waitFor(() => ringCorrect(explorers), 30_000, 'the ring')
    const http = server.http
    await waitFor(async () => {
      const ring = (await (await fetch(`${http}/ring`)).json()) as { reports: Record<string, { successors: string[] }> }
      return explorers.every((e) => ring.reports[e.id]?.successors[0] === e.snapshot().successors[0])
    }, 10_000, 'reports')
  })

  it('lookup$ names the responsible peer; updateFinger and updateFingerTable emit row states', async () => {
    server = await startServer()
    explorers = memoryExplorers(server.url, 6)
    await Promise.all(explorers.map((e) => e.listen()))
    // Rows within a successor list's span are answered from it, so wait until the lists have no gaps.
    await waitFor(() => successorListsCorrect(explorers), 30_000, 'the successor lists')
    const sorted = explorers.map((e) => e.id).sort()
    // A key just below a peer's id belongs to that peer.
    const key = (parseId(sorted[3]) - 1).toString(16).padStart(12, '0')
    expect(await firstValueFrom(explorers[0].lookup$(key))).toBe(sorted[3])
    // A row's id is the owner of its start, or null when that owner is the peer itself (ids are random:
    // with 6 peers, a peer owns its own row 47 about one time in 32).
    const expectedRow = (self: string, row: number) => {
      const start = fingerStart(parseId(self), row)
      const owner = sorted.find((id) => parseId(id) >= start) ?? sorted[0]
      return owner === self ? null : owner
    }
    const row = await firstValueFrom(explorers[1].updateFinger(47))
    expect(row.row).toBe(47)
    expect(row.id).toBe(expectedRow(explorers[1].id, 47))
    const rows = await lastValueFrom(explorers[2].updateFingerTable().pipe(toArray()))
    expect(rows.length).toBeGreaterThan(0)
    expect(rows.map((r) => r.id)).toEqual(rows.map((r) => expectedRow(explorers[2].id, r.row)))
  })

  it('a second peer with the same id fails listen() with JOIN_FAILED (the server refuses the id)', async () => {
    server = await startServer()
    const network = new MemoryNetwork()
    const id = '0000000000aa'
    explorers = [1, 2].map(() => createExplorer({ signalUrl: server!.url, id, transport: network.transport(parseId(id)), ...FAST, joinAttempts: 1 }))
    await explorers[0].listen()
    const error = await explorers[1].listen().catch((e) => e)
    expect(isExplorerError(error, 'JOIN_FAILED')).toBe(true)
  })

  it('listen() fails with a coded error when no server answers', async () => {
    const dead = await startServer()
    const url = dead.url
    await dead.app.close()
    explorers = memoryExplorers(url, 1, new MemoryNetwork(), { joinAttempts: 2 })
    const error = await explorers[0].listen().catch((e) => e)
    expect(isExplorerError(error)).toBe(true)
    expect(['SIGNAL_FAILED', 'JOIN_FAILED']).toContain(error.code)
  })

  it('keeps working without the server, and registers again once it is back', async () => {
    server = await startServer()
    const port = server.port
    explorers = memoryExplorers(server.url, 5)
    await Promise.all(explorers.map((e) => e.listen()))
    await waitFor(() => ringCorrect(explorers), 30_000, 'the ring')
    await server.app.close()
    explorers[4].incoming$.subscribe((s) => s.data$.subscribe((d) => s.send(d)))
    const socket = await firstValueFrom(explorers[0].dial$(explorers[4].id))
    const echo = firstValueFrom(socket.data$)
    socket.send('still here')
    expect(new TextDecoder().decode(await echo)).toBe('still here')
    server = await startServer({}, port)
    const http = server.http
    await waitFor(async () => (await metric(http, 'signal_peers')) === 5, 20_000, 're-registration')
  })

  it('a peer that lost every channel attaches again through the server', async () => {
    server = await startServer()
    explorers = memoryExplorers(server.url, 5)
    await Promise.all(explorers.map((e) => e.listen()))
    await waitFor(() => ringCorrect(explorers), 30_000, 'the ring')
    const cut = ringOf(explorers[2])
    const relayed = await metric(server.http, 'signal_messages_relayed_total')
    for (const remote of cut.channels.remotes()) cut.channels.close(remote)
    expect(cut.channels.size).toBe(0)
    await waitFor(() => cut.channels.size > 0, 20_000, 'a channel again')
    // Nobody can reach a peer without channels through the overlay: the server carried this handshake.
    expect(await metric(server.http, 'signal_messages_relayed_total')).toBeGreaterThan(relayed)
    await waitFor(() => ringCorrect(explorers), 30_000, 'the ring again')
  })
})
