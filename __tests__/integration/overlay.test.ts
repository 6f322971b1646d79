import { randomBytes } from 'node:crypto'
import { filter, firstValueFrom, take, toArray } from 'rxjs'
import { createExplorer, isExplorerError, type Explorer } from '../../src'
import { formatId } from '../../src/ids'
import { seededRandom } from '../../src/testnet'
import type { WrtcImpl } from '../../src/transport/webrtc'
import { metric, ringCorrect, ringOf, ringStable, startServer, waitFor, type Server } from '../explorer/helpers'

// eslint-disable-next-line @typescript-eslint/no-require-imports
const wrtc = require('@roamhq/wrtc') as WrtcImpl

const PEERS = 16
const TIMING = { stabilizeMs: 200, fixFingersMs: 100, rpcTimeoutMs: 1500, connectTimeoutMs: 3000, reportMs: 200 }
const random = seededRandom(4)

/** Every accepted socket echoes each message back. */
function echo(explorer: Explorer): void {
  explorer.incoming$.subscribe((socket) => socket.data$.subscribe({ next: (data) => socket.send(data), complete: () => socket.close() }))
}

async function roundTrip(from: Explorer, to: string, message: Uint8Array): Promise<Uint8Array> {
  const socket = await firstValueFrom(from.dial$(to))
  const reply = firstValueFrom(socket.data$)
  socket.send(message)
  const echoed = await reply
  socket.close()
  return echoed
}

const others = (explorers: Explorer[], self: Explorer, n: number): Explorer[] => {
  const pool = explorers.filter((e) => e !== self)
  const picked: Explorer[] = []
  while (picked.length < n) picked.push(...pool.splice(Math.floor(random() * pool.length), 1))
  return picked
}

/** A finger of `explorer` that is neither its successor nor its predecessor: closing it leaves the ring alone. */
function spareFinger(explorer: Explorer): { row: number; peer: number } {
  const ring = ringOf(explorer)
  for (const row of ring.fingerTable.rows().reverse()) {
    const peer = ring.fingerTable.get(row)!
    if (peer !== ring.successor && peer !== ring.predecessor) return { row, peer }
  }
  throw new Error(`${explorer.id} has no spare finger`)
}

/** Drops a finger's channel, refreshes the row, and resolves once a new channel to that peer is up. */
async function reopenFinger(explorer: Explorer): Promise<void> {
  const { row, peer } = spareFinger(explorer)
  const up = firstValueFrom(explorer.peers$.pipe(filter((e) => e.type === 'up' && e.id === formatId(peer))))
  ringOf(explorer).channels.close(peer)
  expect(ringOf(explorer).channels.has(peer)).toBe(false)
  const update = await firstValueFrom(explorer.updateFinger(row))
  expect(update).toMatchObject({ row, id: formatId(peer) })
  await up
  expect(ringOf(explorer).channels.has(peer)).toBe(true)
}

describe(`${PEERS} peers over real WebRTC (@roamhq/wrtc) and a real signalling server on loopback`, () => {
  let server: Server
  let serverUp = true
  const explorers: Explorer[] = []

  beforeAll(async () => {
    server = await startServer({ rateLimit: undefined })
    for (let i = 0; i < PEERS; i++) explorers.push(createExplorer({ signalUrl: server.url, wrtc, ...TIMING }))
    explorers.forEach((e) => echo(e))
    await Promise.all(explorers.map((e) => e.listen()))
  }, 90_000)

  afterAll(async () => {
    await Promise.all(explorers.map((e) => e.close()))
    if (serverUp) await server.app.close()
  }, 30_000)

  it('form one ring: every successor and predecessor is right, then every finger', async () => {
    await waitFor(() => ringCorrect(explorers), 60_000, 'the ring')
    await waitFor(() => ringStable(explorers), 60_000, 'the finger tables')
    expect(await metric(server.http, 'signal_peers')).toBe(PEERS)
    // One WebRTC channel per peer pair at most, shared by all routed traffic.
    for (const e of explorers) expect(ringOf(e).channels.size).toBeLessThan(PEERS)
  }, 120_000)

  it('each peer dials 3 random others and gets its messages echoed', async () => {
    const trips = explorers.flatMap((e) =>
      others(explorers, e, 3).map(async (target) => {
        const message = new TextEncoder().encode(`from ${e.id} to ${target.id}`)
        const echoed = await roundTrip(e, target.id, message)
        expect(Buffer.from(echoed).equals(Buffer.from(message))).toBe(true)
      }),
    )
    await Promise.all(trips)
    expect(trips).toHaveLength(3 * PEERS)
  }, 60_000)

  it('a 1 MiB message arrives byte-exact (and comes back so)', async () => {
    const [a, b] = others(explorers, explorers[0], 2)
    const message = new Uint8Array(randomBytes(1024 * 1024))
    const echoed = await roundTrip(a, b.id, message)
    expect(echoed.byteLength).toBe(message.byteLength)
    expect(Buffer.from(echoed).equals(Buffer.from(message))).toBe(true)
  }, 60_000)

  it('1,000 small messages arrive in order, and the remote sees the end after the last', async () => {
    const [a, b] = others(explorers, explorers[1], 2)
    // b emits its end once a's handshake proof arrived, a moment after a's dial$ emitted.
    const accepting = firstValueFrom(b.incoming$.pipe(filter((s) => s.remoteId === a.id)))
    const socket = await firstValueFrom(a.dial$(b.id))
    const remote = await accepting
    const atRemote = firstValueFrom(remote.data$.pipe(toArray()))
    const echoed = firstValueFrom(socket.data$.pipe(take(1000), toArray()))
    const sent = Array.from({ length: 1000 }, (_, i) => `#${i}`)
    for (const m of sent) socket.send(m)
    const decode = (list: Uint8Array[]) => list.map((m) => new TextDecoder().decode(m))
    expect(decode(await echoed)).toEqual(sent)
    socket.close()
    expect(decode(await atRemote)).toEqual(sent)
  }, 60_000)

  it('dialling an id no peer has errors with PEER_NOT_FOUND', async () => {
    let absent = formatId(Math.floor(random() * 2 ** 48))
    while (explorers.some((e) => e.id === absent)) absent = formatId(Math.floor(random() * 2 ** 48))
    const error = await firstValueFrom(explorers[3].dial$(absent)).catch((e) => e)
    expect(isExplorerError(error, 'PEER_NOT_FOUND')).toBe(true)
  }, 30_000)

  it('a new finger channel is signalled through the overlay: the server relays none of it', async () => {
    const before = await metric(server.http, 'signal_messages_relayed_total')
    await reopenFinger(explorers[5])
    expect(await metric(server.http, 'signal_messages_relayed_total')).toBe(before)
  }, 60_000)

  it('with the server stopped, dials still succeed and new finger channels still open', async () => {
    await server.app.close()
    serverUp = false
    await expect(fetch(`${server.http}/health`)).rejects.toThrow()
    await reopenFinger(explorers[7])
    await reopenFinger(explorers[11])
    const trips = explorers.slice(0, 8).map(async (e) => {
      const [target] = others(explorers, e, 1)
      const echoed = await roundTrip(e, target.id, Uint8Array.of(1, 2, 3))
      expect([...echoed]).toEqual([1, 2, 3])
    })
    await Promise.all(trips)
    await waitFor(() => ringStable(explorers), 30_000, 'the ring to settle')
  }, 90_000)
})
