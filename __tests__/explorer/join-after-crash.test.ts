import { firstValueFrom, timeout } from 'rxjs'
import type { Explorer } from '../../src'
import { betweenOpen, parseId } from '../../src/ids'
import { RingOracle } from '../../src/testnet'
import { identityWhere } from '../../src/testnet/identities'
import { ringCorrect, ringOf, virtualWorld } from './helpers'

const URL = 'ws://signal.test/ws'
/** The explorer's defaults (docs/api.md): what a new user gets. */
const DEFAULT_TIMING = { stabilizeMs: 1000, fixFingersMs: 1000, rpcTimeoutMs: 4000, connectTimeoutMs: 15_000, reportMs: 1000 }
/** A crashed peer's channels close this long after it went silent (the WebRTC transport's silenceMs). */
const SILENCE_MS = 4000

/**
 * A newcomer right after its would-be successor crashed (issue 14: "joining
 * stays fast when peers have just vanished"). The server drops the crashed
 * peer at once (its socket closed); the ring learns of it only after
 * SILENCE_MS. In virtual time, with the explorer's default timing.
 */
describe('joining right after a peer vanished', () => {
  let w = virtualWorld()
  let explorers: Explorer[] = []
  afterEach(async () => {
    await w.settle(Promise.all(explorers.map((e) => e.close())), 60_000)
    explorers = []
  })

  it('a newcomer whose successor just crashed listens, dials a ring peer and echoes within 2 s (virtual)', async () => {
    w = virtualWorld(7, { failureDetectionMs: SILENCE_MS })
    w.signal.serve(URL)
    const ring = w.explorers(URL, 5, DEFAULT_TIMING)
    explorers = [...ring]
    for (const e of ring) await w.settle(e.listen())
    ring.forEach((e) => e.incoming$.subscribe((s) => s.data$.subscribe((d) => s.send(d))))
    await w.until(() => ringCorrect(ring), 30_000, 'the ring')
    // The victim sits right after the newcomer: the peer the newcomer's id belongs to until it joins.
    const newcomerIdentity = w.identity()
    const n = parseId(newcomerIdentity.id)
    const next = new RingOracle([...ring.map((e) => parseId(e.id)), n]).successorOf(n)
    const victim = w.explorer(URL, identityWhere(() => w.identity(), (id) => betweenOpen(id, n, next)), DEFAULT_TIMING)
    explorers.push(victim)
    await w.settle(victim.listen())
    await w.until(() => ringCorrect([...ring, victim]), 30_000, 'the ring with the victim')
    // The crash: nothing more leaves it, its server connection closes (no leave), its channels go silent.
    w.network.crash(parseId(victim.id))
    ringOf(victim).close()
    await w.settle(victim.close())

    const start = w.scheduler.now()
    const newcomer = w.explorer(URL, newcomerIdentity, DEFAULT_TIMING)
    explorers.push(newcomer)
    await w.settle(newcomer.listen(), 30_000)
    const target = ring.find((e) => parseId(e.id) !== next) as Explorer
    const socket = await w.settle(firstValueFrom(newcomer.dial$(target.id)), 30_000)
    const echoed = firstValueFrom(socket.data$.pipe(timeout({ first: 30_000, scheduler: w.scheduler })))
    socket.send('hello')
    expect(new TextDecoder().decode(await w.settle(echoed, 30_000))).toBe('hello')
    expect(w.scheduler.now() - start).toBeLessThanOrEqual(2000)
    // And the ring heals around it: the newcomer takes its place.
    await w.until(() => ringCorrect([...ring, newcomer]), 30_000, 'the ring with the newcomer')
  })
})
