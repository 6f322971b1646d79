import type { Diagnostic, Explorer } from '../../src'
import { throwError } from 'rxjs'
import { ExplorerError } from '../../src/errors'
import { betweenOpen, formatId, parseId } from '../../src/ids'
import { identityWhere } from '../../src/testnet/identities'
import type { Transport } from '../../src/transport/types'
import { FAST, ringCorrect, virtualWorld } from './helpers'

const URL = 'ws://signal.test/ws'

/** explorer.diagnostics$: background failures a user can see, coded, in virtual time. */
describe('explorer diagnostics', () => {
  let w = virtualWorld()
  let explorers: Explorer[] = []
  beforeEach(() => {
    w = virtualWorld(5)
  })
  afterEach(async () => {
    await w.settle(Promise.all(explorers.map((e) => e.close())))
    explorers = []
  })

  const record = (explorer: Explorer) => {
    const seen: Diagnostic[] = []
    explorer.diagnostics$.subscribe((d) => seen.push(d))
    return seen
  }

  it('while the server is gone: SERVER_UNREACHABLE at each reconnect attempt, further and further apart', async () => {
    const server = w.signal.serve(URL)
    explorers = w.explorers(URL, 2)
    await w.settle(Promise.all(explorers.map((e) => e.listen())))
    const seen = record(explorers[0])
    server.close()
    await w.until(() => seen.length >= 4, 10_000, 'four failed reconnects')
    expect(seen.every((d) => d.code === 'SERVER_UNREACHABLE' && d.cause === 'SIGNAL_FAILED')).toBe(true)
    const gaps = seen.slice(1).map((d, i) => d.at - seen[i].at)
    // Jittered back-off between reconnectMinMs and reconnectMaxMs (each wait at least half its ceiling).
    expect(Math.min(...gaps)).toBeGreaterThanOrEqual(FAST.reconnectMinMs / 2)
    expect(Math.max(...gaps)).toBeLessThanOrEqual(FAST.reconnectMaxMs + 10)
  })

  it('a listed peer that cannot be reached: JOIN_CANDIDATE_FAILED names it, and the join goes on through the next', async () => {
    w.signal.serve(URL)
    explorers = w.explorers(URL, 3)
    await w.settle(Promise.all(explorers.map((e) => e.listen())))
    await w.until(() => ringCorrect(explorers), 30_000, 'the ring')
    // A joiner just before a peer it has no direct route to (a NAT that will not let them connect):
    // the server lists that peer first.
    const unreachable = parseId(explorers[0].id)
    const sorted = explorers.map((e) => parseId(e.id)).sort((a, b) => a - b)
    const before = sorted[(sorted.indexOf(unreachable) - 1 + sorted.length) % sorted.length]
    const who = identityWhere(() => w.identity(), (candidate) => betweenOpen(candidate, before, unreachable))
    const id = parseId(who.id)
    const inner = w.network.transport(id)
    const transport: Transport = {
      cheapOffers: inner.cheapOffers,
      connect: (remote, port) => (remote === unreachable ? throwError(() => new ExplorerError('SIGNAL_FAILED', 'no route to it')) : inner.connect(remote, port)),
      accept: (remote, port) => inner.accept(remote, port),
      bindingOf: (signal) => inner.bindingOf(signal),
    }
    const joiner = w.explorer(URL, who, { transport })
    explorers.push(joiner)
    const seen = record(joiner)
    await w.settle(joiner.listen())
    expect(seen[0]).toMatchObject({ code: 'JOIN_CANDIDATE_FAILED', peer: formatId(unreachable), cause: 'SIGNAL_FAILED', message: 'no route to it' })
    expect(joiner.snapshot().joined).toBe(true)
  })

  it('ends when the explorer closes', async () => {
    explorers = w.explorers(URL, 1)
    let ended = false
    explorers[0].diagnostics$.subscribe({ complete: () => (ended = true) })
    await w.settle(explorers[0].close())
    expect(ended).toBe(true)
  })
})
