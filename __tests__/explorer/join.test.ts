import { firstValueFrom, lastValueFrom, toArray } from 'rxjs'
import { isExplorerError, type Explorer } from '../../src'
import { fingerStart, parseId } from '../../src/ids'
import { ringCorrect, ringOf, successorListsCorrect, virtualWorld } from './helpers'

const URL = 'ws://signal.test/ws'

/** Explorers over the in-memory transport, joining through a virtual signalling server: all in virtual time. */
describe('explorer join through the signalling server', () => {
  let w = virtualWorld()
  let explorers: Explorer[] = []
  beforeEach(() => {
    w = virtualWorld()
  })
  afterEach(async () => {
    await w.settle(Promise.all(explorers.map((e) => e.close())))
    explorers = []
  })

  it('the first peer makes a ring of one; the others, listening at once, form one ring', async () => {
    const server = w.signal.serve(URL)
    explorers = w.explorers(URL, 10)
    await w.settle(Promise.all(explorers.map((e) => e.listen())))
    await w.until(() => ringCorrect(explorers), 30_000, 'the ring')
    expect(server.peers).toBe(10)
  })

  it('publishes each peer’s ring state for GET /ring', async () => {
    const server = w.signal.serve(URL)
    explorers = w.explorers(URL, 4)
    await w.settle(Promise.all(explorers.map((e) => e.listen())))
    await w.until(() => ringCorrect(explorers), 30_000, 'the ring')
    await w.until(() => explorers.every((e) => server.ring().reports[e.id]?.successors[0] === e.snapshot().successors[0]), 10_000, 'reports')
  })

  it('lookup$ names the responsible peer; updateFinger and updateFingerTable emit row states', async () => {
    w.signal.serve(URL)
    explorers = w.explorers(URL, 6)
    await w.settle(Promise.all(explorers.map((e) => e.listen())))
    // Rows within a successor list's span are answered from it, so wait until the lists have no gaps.
    await w.until(() => successorListsCorrect(explorers), 30_000, 'the successor lists')
    const sorted = explorers.map((e) => e.id).sort()
    // A key just below a peer's id belongs to that peer.
    const key = (parseId(sorted[3]) - 1).toString(16).padStart(12, '0')
    expect(await w.settle(firstValueFrom(explorers[0].lookup$(key)))).toBe(sorted[3])
    // A row's id is the owner of its start, or null when that owner is the peer itself.
    const expectedRow = (self: string, row: number) => {
      const start = fingerStart(parseId(self), row)
      const owner = sorted.find((id) => parseId(id) >= start) ?? sorted[0]
      return owner === self ? null : owner
    }
    const row = await w.settle(firstValueFrom(explorers[1].updateFinger(47)))
    expect(row.row).toBe(47)
    expect(row.id).toBe(expectedRow(explorers[1].id, 47))
    const rows = await w.settle(lastValueFrom(explorers[2].updateFingerTable().pipe(toArray())))
    expect(rows.length).toBeGreaterThan(0)
    expect(rows.map((r) => r.id)).toEqual(rows.map((r) => expectedRow(explorers[2].id, r.row)))
  })

  it('a second peer with the same identity fails listen() with JOIN_FAILED (the server refuses the id)', async () => {
    w.signal.serve(URL)
    const identity = w.identity()
    explorers = [1, 2].map(() => w.explorer(URL, identity, { joinAttempts: 1 }))
    await w.settle(explorers[0].listen())
    const error = await w.settle(explorers[1].listen()).catch((e) => e)
    expect(isExplorerError(error, 'JOIN_FAILED')).toBe(true)
    expect(error.message).toMatch(/ID_TAKEN/)
  })

  it('listen() fails with a coded error when no server answers', async () => {
    explorers = w.explorers(URL, 1, { joinAttempts: 2 })
    const error = await w.settle(explorers[0].listen()).catch((e) => e)
    expect(isExplorerError(error, 'SIGNAL_FAILED')).toBe(true)
  })

  it('keeps working without the server, and registers again once it is back', async () => {
    const server = w.signal.serve(URL)
    explorers = w.explorers(URL, 5)
    await w.settle(Promise.all(explorers.map((e) => e.listen())))
    await w.until(() => ringCorrect(explorers), 30_000, 'the ring')
    server.close()
    explorers[4].incoming$.subscribe((s) => s.data$.subscribe((d) => s.send(d)))
    const socket = await w.settle(firstValueFrom(explorers[0].dial$(explorers[4].id)))
    const echo = firstValueFrom(socket.data$)
    socket.send('still here')
    expect(new TextDecoder().decode(await w.settle(echo))).toBe('still here')
    const again = w.signal.serve(URL)
    await w.until(() => again.peers === 5, 20_000, 're-registration')
  })

  it('a peer that lost every channel attaches again through the server', async () => {
    const server = w.signal.serve(URL)
    explorers = w.explorers(URL, 5)
    await w.settle(Promise.all(explorers.map((e) => e.listen())))
    await w.until(() => ringCorrect(explorers), 30_000, 'the ring')
    const cut = ringOf(explorers[2])
    const relayed = server.counts.relayed
    for (const remote of cut.channels.remotes()) cut.channels.close(remote)
    expect(cut.channels.size).toBe(0)
    await w.until(() => cut.channels.size > 0, 20_000, 'a channel again')
    // Nobody can reach a peer without channels through the overlay: the server carried this handshake.
    expect(server.counts.relayed).toBeGreaterThan(relayed)
    await w.until(() => ringCorrect(explorers), 30_000, 'the ring again')
  })
})
