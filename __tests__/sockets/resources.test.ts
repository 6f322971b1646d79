import { firstValueFrom } from 'rxjs'
import { createExplorer, type Explorer, type ExplorerSocket } from '../../src'
import { explorerInternals } from '../../src/explorer/internals'
import type { RingNode } from '../../src/ring/node'
import type { SocketLayer } from '../../src/sockets'
import { createWebRtcTransport, type WebRtcTransport, type WrtcImpl } from '../../src/transport/webrtc'
import { FAST, startServer, waitFor, type Server } from '../explorer/helpers'
import { pattern, record, socketRing, type SocketRing } from './helpers'

// eslint-disable-next-line @typescript-eslint/no-require-imports
const wrtc = require('@roamhq/wrtc') as WrtcImpl

/**
 * Resources: many dial/send/close cycles leave nothing behind. Counted before
 * and after, in the same steady state: open channels, sockets and everything
 * the socket layer holds (dial timers, socket timers, drain waits), observers
 * of each router's streams, signalling sessions, strikes, and the timers
 * pending in the virtual scheduler.
 */

/** Accepted sockets echo every message and close when the dialler does. */
const echo = (layer: SocketLayer) =>
  layer.incoming$.subscribe((socket) => socket.data$.subscribe({ next: (d) => socket.send(d), complete: () => socket.close() }))

/** Everything a peer holds that a cycle could leak. */
function holdings(node: RingNode, layer: SocketLayer) {
  return {
    channels: node.channels.size,
    ...layer.resources,
    routerObservers: node.router.observerCount,
    channelsWithStrikes: node.router.channelsWithStrikes,
    signallingSessions: node.signalling.sessionCount,
  }
}

describe('1,000 cycles on a 3-peer ring (memory transport, virtual time)', () => {
  let ring: SocketRing
  afterEach(() => ring.close())

  const snapshot = () => ({
    openChannelEnds: ring.net.network.channelCount(),
    peers: ring.nodes.map((n, i) => holdings(n, ring.layers[i])),
  })
  /** Lets acks, closes and a few maintenance rounds run out, so before and after are taken in the same state. */
  const settle = () => ring.run(5_000)

  it('socket dial → send → echo → close, 1,000 times between every pair: no growth anywhere', async () => {
    ring = socketRing(3)
    ring.layers.forEach(echo)
    let cycles = 0
    const cycle = async (i: number) => {
      const from = i % 3
      const to = (from + 1 + ((i >> 1) % 2)) % 3
      const dial = record(ring.layers[from].dial$(ring.nodes[to].id))
      expect(await ring.runUntil(() => dial.ended)).toBe(true)
      expect(dial.error).toBeUndefined()
      const socket = dial.values[0] as ExplorerSocket
      const got = record(socket.data$)
      // Mostly one frame; every fifth message is fragmented (three frames).
      const message = pattern(i % 5 === 0 ? 40_000 : 100, i)
      socket.send(message)
      expect(await ring.runUntil(() => got.values.length === 1)).toBe(true)
      expect(got.values[0].byteLength).toBe(message.byteLength)
      socket.close()
      expect(await ring.runUntil(() => got.completed && ring.layers.every((l) => l.size === 0))).toBe(true)
      cycles++
    }
    // Warm up (lazily made state exists after the first few), then count.
    for (let i = 0; i < 12; i++) await cycle(i)
    await settle()
    const before = snapshot()
    const pendingBefore = ring.net.scheduler.pending
    const channelsCreated = ring.net.network.stats.channelsCreated
    for (let i = 12; i < 1012; i++) await cycle(i).catch((error) => { throw new Error(`cycle ${i}: ${error}`) })
    await settle()
    expect(cycles).toBe(1012)
    expect(snapshot()).toEqual(before)
    expect(before.peers.every((p) => p.sockets === 0 && p.dialTimers === 0 && p.socketTimers === 0 && p.drainWaits === 0)).toBe(true)
    // Sockets ride the ring's channels: none was opened for them.
    expect(ring.net.network.stats.channelsCreated).toBe(channelsCreated)
    // Pending timers: the ring's own periodic maintenance only (a round may be mid-flight either time).
    expect(ring.net.scheduler.pending).toBeLessThanOrEqual(pendingBefore + ring.nodes.length)
  })

  it('channel close → re-dial through the overlay, 1,000 times: every channel made is closed again, nothing else grows', async () => {
    ring = socketRing(3)
    const [a, b] = ring.nodes
    await settle()
    const before = snapshot()
    const pendingBefore = ring.net.scheduler.pending
    const channelsCreated = ring.net.network.stats.channelsCreated
    for (let i = 0; i < 1000; i++) {
      expect(a.channels.has(b.id)).toBe(true)
      a.channels.close(b.id)
      const dial = record(a.signalling.ensureChannel$(b.id))
      expect(await ring.runUntil(() => dial.ended && a.channels.has(b.id) && b.channels.has(a.id))).toBe(true)
      expect(dial.error).toBeUndefined()
    }
    expect(ring.net.converge()).toBeGreaterThanOrEqual(0)
    await settle()
    // A thousand channels were made (at least: maintenance may have raced a dial) ...
    expect(ring.net.network.stats.channelsCreated - channelsCreated).toBeGreaterThanOrEqual(1000)
    // ... and all but the ring's own are closed on both ends.
    expect(snapshot()).toEqual(before)
    expect(ring.net.scheduler.pending).toBeLessThanOrEqual(pendingBefore + ring.nodes.length)
  })
})

describe('100 socket cycles between 2 explorers over real WebRTC (@roamhq/wrtc) and a real signalling server', () => {
  let server: Server
  let serverClosed = false
  const explorers: Explorer[] = []
  const transports: WebRtcTransport[] = []
  const layerOf = (e: Explorer) => explorerInternals(e).sockets
  /** Node's active resources by kind (sockets, servers, timers...): what would keep the process from exiting. */
  const activeResources = () => {
    const counts: Record<string, number> = {}
    for (const kind of process.getActiveResourcesInfo()) counts[kind] = (counts[kind] ?? 0) + 1
    return counts
  }
  let baseline: Record<string, number> = {}

  beforeAll(async () => {
    baseline = activeResources()
    server = await startServer()
    for (let i = 0; i < 2; i++) {
      const transport = createWebRtcTransport({ wrtc, connectTimeoutMs: FAST.connectTimeoutMs })
      transports.push(transport)
      explorers.push(createExplorer({ signalUrl: server.url, transport, ...FAST }))
    }
    for (const e of explorers) await e.listen()
  }, 60_000)

  afterAll(async () => {
    // Only if the test failed before it closed everything itself.
    await Promise.all(explorers.map((e) => e.close()))
    if (!serverClosed) await server.app.close()
  }, 30_000)

  it('leaves the same channels, peer connections, sockets and observers; closing destroys every peer connection and leaves nothing that keeps the process alive', async () => {
    const [a, b] = explorers
    for (const e of explorers) e.incoming$.subscribe((s) => s.data$.subscribe({ next: (d) => s.send(d), complete: () => s.close() }))
    const snapshot = () => ({
      livePeers: transports.map((t) => t.livePeers),
      peers: explorers.map((e) => holdings(explorerInternals(e).ring, layerOf(e))),
    })
    const cycle = async (i: number) => {
      const [from, to] = i % 2 === 0 ? [a, b] : [b, a]
      const socket = await firstValueFrom(from.dial$(to.id))
      const reply = firstValueFrom(socket.data$)
      const message = pattern(i % 10 === 0 ? 40_000 : 200, i)
      socket.send(message)
      expect((await reply).byteLength).toBe(message.byteLength)
      socket.close()
      await waitFor(() => explorers.every((e) => layerOf(e).size === 0), 10_000, 'both ends of the socket to close')
    }
    for (let i = 0; i < 4; i++) await cycle(i)
    const before = snapshot()
    expect(before.livePeers).toEqual([1, 1])
    for (let i = 4; i < 104; i++) await cycle(i)
    // Acks and timers of the last socket run out within a few ms; the counts settle to what they were.
    await waitFor(() => JSON.stringify(snapshot()) === JSON.stringify(before), 5_000, 'the counts to settle').catch(() => undefined)
    expect(snapshot()).toEqual(before)

    await Promise.all(explorers.map((e) => e.close()))
    expect(transports.map((t) => t.livePeers)).toEqual([0, 0])
    expect(explorers.map((e) => explorerInternals(e).ring.channels.size)).toEqual([0, 0])
    expect(explorers.map((e) => layerOf(e).resources)).toEqual([0, 1].map(() => ({ sockets: 0, peers: 0, dialTimers: 0, socketTimers: 0, drainWaits: 0, halfOpen: 0, handshakes: 0, limits: 0 })))
    // Nothing of ours keeps the process alive: once the server is closed too, no more sockets, servers or timers than before we began.
    serverClosed = true
    await server.app.close()
    await waitFor(() => Object.entries(activeResources()).every(([kind, n]) => n <= (baseline[kind] ?? 0)), 5_000, 'sockets and timers to go').catch(() => undefined)
    const left = activeResources()
    for (const kind of Object.keys(left)) expect({ kind, n: left[kind] }).toEqual({ kind, n: Math.min(left[kind], baseline[kind] ?? 0) })
  }, 120_000)
})
