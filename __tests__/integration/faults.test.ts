import { createExplorer, type Explorer } from '../../src'
import type { WrtcImpl } from '../../src/transport/webrtc'
import { echoOnce, sweepUntilClean } from '../../bench/faults/dials'
import { FAULT_TIMING, crashAndRepair, echo, inProcessVictims, startFaultRing, until, type FaultRing } from '../../bench/faults/repair'
import { describeRing, localState, ringProblems } from '../../bench/faults/ring-state'
import { MESSAGES, MESSAGE_BYTES, startTransferRing, transferThroughCrash, type TransferRing } from '../../bench/faults/transfer'
import { ringOf, startServer, type Server } from '../explorer/helpers'

// eslint-disable-next-line @typescript-eslint/no-require-imports
const wrtc = require('@roamhq/wrtc') as WrtcImpl
// eslint-disable-next-line @typescript-eslint/no-require-imports
const WebSocket = require('ws') as new (url: string) => object

/**
 * Faults over real WebRTC (@roamhq/wrtc) and real signalling servers on
 * loopback (issue 6; docs/reliability.md has the matrix). Peers that crash
 * live in a child process killed with SIGKILL (bench/faults/crash-peers.ts):
 * no leave, no socket Close, no SCTP ABORT, no WebSocket close frame; their
 * neighbours learn it from silence alone (the ring's RPC timeouts; libwebrtc
 * declares the connections failed ~17 s later). Peers that "vanish" close
 * their connections without a word, as a closing tab does. Times are printed
 * (one JSON line per scenario), never asserted; every wait has a guard.
 */

// simple-peer warns for every ICE candidate that arrives after its peer closed: noise here, where peers crash by design.
const warn = console.warn.bind(console)
beforeAll(() => jest.spyOn(console, 'warn').mockImplementation((...args: unknown[]) => void (args[0] === 'Ignoring unsupported ICE candidate.' || warn(...args))))
afterAll(() => jest.restoreAllMocks())

const print = (scenario: string, figures: object): void => console.log(JSON.stringify({ scenario, ...figures }))
const round = (ms: number): number => Math.round(ms)

/** When each in-process peer opened a WebSocket to the signalling server (performance.now()). */
const connects: number[][] = []
const recordingWebSocket = (peer: number) => {
  connects[peer] = []
  return class extends WebSocket {
    constructor(url: string) {
      super(url)
      connects[peer].push(performance.now())
    }
  }
}

describe('16 peers over real WebRTC: 4 crash, the signalling server restarts, 4 more vanish', () => {
  let server: Server
  let ring: FaultRing
  const newcomers: Explorer[] = []

  beforeAll(async () => {
    server = await startServer()
    ring = await startFaultRing(server.url, 12, 4, wrtc, { perLocal: (i) => ({ WebSocket: recordingWebSocket(i) as never }) })
  }, 90_000)

  afterAll(async () => {
    await ring?.close()
    await Promise.all(newcomers.map((e) => e.close()))
    await server?.app.close()
  }, 30_000)

  it('4 peers crash without a word: the 12 others repair the ring and every ordered pair dials and echoes again', async () => {
    const figures = await crashAndRepair(ring, 8, 60_000)
    const survivors = ring.explorers.map(localState)
    expect(ringProblems(survivors)).toEqual([])
    // The last sweep dialled all 132 ordered pairs and every one echoed.
    const last = figures.sweeps[figures.sweeps.length - 1]
    expect(last).toMatchObject({ failures: 0 })
    expect(ring.explorers.length * (ring.explorers.length - 1)).toBe(132)
    // The crash did cut links: the victims were neighbours, fingers or relays of the survivors...
    expect(figures.channelsToVictims).toBeGreaterThan(4)
    // ...and every one of those links was found dead and closed in the end (crashAndRepair waits for it).
    const victims = new Set(figures.victims.map((id) => parseInt(id, 16)))
    expect(ring.explorers.flatMap((e) => ringOf(e).channels.remotes().filter((id) => victims.has(id)))).toEqual([])
    print('crash 4 of 16', {
      formedMs: round(ring.formedMs), channelsToVictims: figures.channelsToVictims, ringRepairedMs: round(figures.ringMs),
      allDialsMs: round(figures.dialsMs), deadChannelsClosedMs: round(figures.channelsClosedMs), sweeps: figures.sweeps,
    })
  }, 90_000)

  it('the signalling server restarts on the same port: every peer re-registers and a new peer joins through it', async () => {
    const survivors = ring.explorers
    const port = server.port
    await server.app.close()
    const stoppedAt = performance.now()
    // Down long enough for every peer to fail a reconnect or two (after 100–200 ms, then 200–400 ms, …).
    await new Promise((resolve) => setTimeout(resolve, 1500))
    const restartedAt = performance.now()
    server = await startServer({}, port)
    const health = async (): Promise<number> => ((await (await fetch(`${server.http}/health`)).json()) as { peers: number }).peers
    await until(async () => ((await health()) === survivors.length ? [] : [`${await health()} of ${survivors.length} registered`]), 30_000, 'every peer to register again')
    const reRegisteredMs = performance.now() - restartedAt
    // Each peer kept trying while the server was down, backing off with jitter: the peers' retries are spread out.
    const tries = connects.map((times) => times.filter((t) => t > stoppedAt))
    const failedTries = tries.map((times) => times.filter((t) => t < restartedAt).length)
    expect(Math.min(...failedTries)).toBeGreaterThanOrEqual(1)
    const firstRetryMs = tries.map((times) => Math.round(times[0] - stoppedAt))
    expect(new Set(firstRetryMs).size).toBeGreaterThan(1)
    // Their ring reports came back too: the new server knows who is in a ring (what a joiner is told).
    await until(async () => {
      const snapshot = (await (await fetch(`${server.http}/ring`)).json()) as { peers: string[]; reports: Record<string, unknown> }
      return survivors.filter((e) => !snapshot.reports[e.id]).map((e) => `${e.id} has not reported`)
    }, 10_000, 'every peer to report its ring state')

    const newcomer = createExplorer({ ...FAULT_TIMING, signalUrl: server.url, wrtc })
    newcomers.push(newcomer)
    echo(newcomer)
    const t0 = performance.now()
    await newcomer.listen()
    const all = [...survivors, newcomer]
    await until(() => ringProblems(all.map(localState)), 30_000, 'the ring with the newcomer', async () => describeRing(all.map(localState)))
    const joinedMs = performance.now() - t0
    await echoOnce(newcomer, survivors[0].id, 10_000)
    await echoOnce(survivors[5], newcomer.id, 10_000)
    expect(await health()).toBe(survivors.length + 1)
    print('server restart', {
      peers: survivors.length, downMs: round(restartedAt - stoppedAt), reRegisteredMs: round(reRegisteredMs), newcomerInRingMs: round(joinedMs),
      firstRetryMs, triesWhileDown: failedTries,
    })
  }, 90_000)

  it('4 more peers vanish with their connections torn down (a tab closing): the other 9 repair the ring and dial each other', async () => {
    const all = [...ring.explorers, ...newcomers]
    const doomed = inProcessVictims(all.filter((_, i) => i % 3 === 1))
    const rest = all.filter((_, i) => i % 3 !== 1)
    expect([doomed.ids.length, rest.length]).toEqual([4, 9])
    const t0 = performance.now()
    await doomed.kill()
    await until(() => ringProblems(rest.map(localState)), 30_000, 'the ring of 9', async () => describeRing(rest.map(localState)))
    const ringMs = performance.now() - t0
    const sweeps = await sweepUntilClean(rest, 8, 5000, 30_000, () => describeRing(rest.map(localState)))
    expect(sweeps[sweeps.length - 1]).toMatchObject({ pairs: 72, failures: [] })
    print('4 of 13 vanish (connections closed)', { ringRepairedMs: round(ringMs), allDialsMs: round(performance.now() - t0), sweeps: sweeps.map((s) => s.failures.length) })
  }, 60_000)
})

describe('a routed socket survives the crash of an intermediate peer', () => {
  let server: Server
  let ring: TransferRing

  beforeAll(async () => {
    server = await startServer()
    // p3 lives in the child process: the second intermediate of the path p1 → p2 → p3 → p4.
    ring = await startTransferRing(server.url, wrtc, 3)
  }, 90_000)

  afterAll(async () => {
    await ring?.close()
    await server?.app.close()
  }, 30_000)

  it('10 MiB over 3 hops whose second intermediate is killed after 30 % arrive: byte-exact, in order, no duplicates', async () => {
    const figures = await transferThroughCrash(ring, 2, 60_000)
    expect(figures.path).toHaveLength(4)
    expect(figures.path[2]).toBe(figures.killed)
    expect(ring.victim.alive).toBe(false)
    expect(figures.killedAfterMessages).toBeLessThan(MESSAGES)
    expect(figures.messages).toBe(MESSAGES)
    expect(figures.bytes).toBe(MESSAGES * MESSAGE_BYTES)
    expect(figures.duplicates).toBe(0)
    expect(figures.inOrder).toBe(true)
    expect(figures.hashMatch).toBe(true)
    expect(figures.completed).toBe(true)
    // What was in flight through the dead peer was sent again: the socket bridged the outage itself.
    expect(figures.sender.retransmitted).toBeGreaterThan(0)
    print('transfer through a crash', {
      path: figures.path.join(' → '), killed: figures.killed, killedAtMs: round(figures.killedAtMs), killedAfterMessages: figures.killedAfterMessages,
      ms: round(figures.ms), MBps: Number(figures.mbps.toFixed(2)), stallMs: round(figures.stallMs), sender: figures.sender,
    })
  }, 90_000)
})
