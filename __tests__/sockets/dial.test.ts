import { isExplorerError } from '../../src/errors'
import { formatId } from '../../src/ids'
import type { ExplorerSocket } from '../../src/sockets'
import { SocketLayer } from '../../src/sockets'
import { RingOracle } from '../../src/testnet'
import { FrameType, decodeFrame } from '../../src/wire/frame'
import { record, securityOf, socketRing, type SocketRing } from './helpers'

const echo = (layer: SocketLayer) => layer.incoming$.subscribe((s) => s.data$.subscribe((d) => s.send(d)))

describe('dial$ and incoming$ over an in-memory ring (virtual time)', () => {
  let ring: SocketRing
  afterEach(() => ring.close())

  it('emits one socket once accepted and the remote proved its key, and completes; the remote emits one socket on incoming$ once the dialler proved its own', async () => {
    ring = socketRing()
    const [a, b] = [ring.layers[0], ring.layers[5]]
    const accepted = record(b.incoming$)
    const dial = record(a.dial$(ring.nodes[5].id))
    expect(await ring.runUntil(() => dial.ended)).toBe(true)
    expect(dial.values).toHaveLength(1)
    expect(dial.completed).toBe(true)
    expect(dial.values[0].remoteId).toBe(formatId(ring.nodes[5].id))
    expect(dial.values[0].remoteKey).toEqual(ring.identities[5].publicKey)
    // The dialler's last handshake message is half a round trip behind.
    expect(await ring.runUntil(() => accepted.values.length === 1)).toBe(true)
    expect(accepted.values[0].remoteId).toBe(formatId(ring.nodes[0].id))
    expect(accepted.values[0].remoteKey).toEqual(ring.identities[0].publicKey)
    // remoteKey is a copy: writing to it changes nothing.
    accepted.values[0].remoteKey.fill(0)
    expect(accepted.values[0].remoteKey).toEqual(ring.identities[0].publicKey)
    expect([a.size, b.size]).toEqual([1, 1])
  })

  it('the handshake adds no round trip: dial$ completes on one Open there and one Accept back, the only frame the dialled end sent until then', async () => {
    // Frames of the socket as they leave their first hop (a relay's forwarding is the same frame again).
    const sent: string[] = []
    let pair: number[] = []
    ring = socketRing(12, {}, {
      frameTap: (from, _to, bytes) => {
        const frame = decodeFrame(bytes)
        if (frame !== null && frame.source === from && pair.includes(frame.source) && pair.includes(frame.dest) && frame.type !== FrameType.Ring && frame.type !== FrameType.Signal) {
          sent.push(`${FrameType[frame.type]} from ${frame.source === pair[0] ? 'dialler' : 'dialled'}`)
        }
        return true
      },
    })
    pair = [ring.nodes[1].id, ring.nodes[7].id]
    ring.layers[7].incoming$.subscribe()
    const dial = record(ring.layers[1].dial$(ring.nodes[7].id))
    expect(await ring.runUntil(() => dial.ended)).toBe(true)
    expect(dial.values).toHaveLength(1)
    // The dialler waited for one frame (the Accept); what else it sent by then (Noise's message 3, in a Data frame) it sent without waiting.
    expect(sent.slice(0, 2)).toEqual(['Open from dialler', 'Accept from dialled'])
    expect(sent.slice(2).filter((f) => !f.endsWith('from dialler'))).toEqual([])
  })

  it('dial$(id, { key }) with the remote\'s key succeeds; a key that is not 32 bytes throws BAD_OPTIONS at once', async () => {
    ring = socketRing(6)
    ring.layers[3].incoming$.subscribe()
    const dial = record(ring.layers[0].dial$(ring.nodes[3].id, { key: ring.identities[3].publicKey }))
    expect(await ring.runUntil(() => dial.ended)).toBe(true)
    expect(dial.values).toHaveLength(1)
    for (const key of [new Uint8Array(31), new Uint8Array(33), 'key', [1, 2, 3]]) {
      expect(() => ring.layers[0].dial$(ring.nodes[3].id, { key } as never)).toThrow(expect.objectContaining({ code: 'BAD_OPTIONS' }))
    }
    expect(() => ring.layers[0].dial$(ring.nodes[3].id, null as never)).toThrow(expect.objectContaining({ code: 'BAD_OPTIONS' }))
  })

  it('echoes text and bytes in both directions', async () => {
    ring = socketRing()
    ring.layers.forEach(echo)
    const dial = record(ring.layers[2].dial$(ring.nodes[9].id))
    await ring.runUntil(() => dial.ended)
    const socket = dial.values[0]
    const got = record(socket.data$)
    socket.send('héllo ✓')
    socket.send(Uint8Array.of(0, 255, 7))
    expect(await ring.runUntil(() => got.values.length === 2)).toBe(true)
    expect(new TextDecoder().decode(got.values[0])).toBe('héllo ✓')
    expect([...got.values[1]]).toEqual([0, 255, 7])
  })

  it('a peer can dial itself', async () => {
    ring = socketRing()
    echo(ring.layers[3])
    const dial = record(ring.layers[3].dial$(ring.nodes[3].id))
    await ring.runUntil(() => dial.ended)
    const got = record(dial.values[0].data$)
    dial.values[0].send('me')
    expect(await ring.runUntil(() => got.values.length === 1)).toBe(true)
  })

  it('errors PEER_NOT_FOUND for an id no peer has (the owner of that id refuses)', async () => {
    ring = socketRing()
    ring.layers.forEach(echo)
    const oracle = new RingOracle(ring.nodes.map((n) => n.id))
    const absent = ring.nodes[4].id - 1
    expect(oracle.owner(absent)).toBe(ring.nodes[4].id)
    const dial = record(ring.layers[0].dial$(absent))
    expect(await ring.runUntil(() => dial.ended)).toBe(true)
    expect(isExplorerError(dial.error, 'PEER_NOT_FOUND')).toBe(true)
    expect(ring.layers[0].size).toBe(0)
  })

  it('errors NOT_LISTENING while the peer is not in the ring', async () => {
    ring = socketRing(4)
    const node = ring.nodes[1]
    const layer = new SocketLayer({ id: node.id, router: node.router, channels: node.channels, scheduler: ring.net.scheduler, security: securityOf(ring.identities[1]), isListening: () => false })
    const dial = record(layer.dial$(ring.nodes[2].id))
    expect(isExplorerError(dial.error, 'NOT_LISTENING')).toBe(true)
  })

  it('errors DIAL_REFUSED when nobody subscribes to the remote incoming$, or it is at its limit', async () => {
    ring = socketRing(8, (i) => (i === 1 ? { maxSockets: 1 } : {}))
    const unheard = record(ring.layers[0].dial$(ring.nodes[2].id))
    await ring.runUntil(() => unheard.ended)
    expect(isExplorerError(unheard.error, 'DIAL_REFUSED')).toBe(true)

    echo(ring.layers[1])
    const first = record(ring.layers[0].dial$(ring.nodes[1].id))
    await ring.runUntil(() => first.ended)
    expect(first.values).toHaveLength(1)
    const second = record(ring.layers[3].dial$(ring.nodes[1].id))
    await ring.runUntil(() => second.ended)
    expect(isExplorerError(second.error, 'DIAL_REFUSED')).toBe(true)
  })

  it('throws TOO_MANY_SOCKETS on the error channel at the local limit', async () => {
    ring = socketRing(6, { maxSocketsPerPeer: 2 })
    ring.layers.forEach(echo)
    const dials = [0, 1, 2].map(() => record(ring.layers[0].dial$(ring.nodes[3].id)))
    await ring.runUntil(() => dials.every((d) => d.ended))
    expect(dials.map((d) => d.values.length)).toEqual([1, 1, 0])
    expect(isExplorerError(dials[2].error, 'TOO_MANY_SOCKETS')).toBe(true)
  })

  it('errors DIAL_TIMEOUT when the remote has vanished and nobody answers', async () => {
    ring = socketRing(8, { dialTimeoutMs: 800 }, { failureDetectionMs: 30_000 })
    const target = ring.nodes[6].id
    ring.net.crash([target])
    const dial = record(ring.layers[0].dial$(target))
    expect(await ring.runUntil(() => dial.ended, 5000)).toBe(true)
    expect(isExplorerError(dial.error, 'DIAL_TIMEOUT')).toBe(true)
    expect(ring.layers[0].size).toBe(0)
  })

  it('unsubscribing before the socket is emitted aborts the dial: the remote drops its half-open socket at once and never emits it', async () => {
    ring = socketRing()
    const [a, b] = [ring.layers[0], ring.layers[7]]
    const accepted: ExplorerSocket[] = []
    b.incoming$.subscribe((s) => accepted.push(s))
    const dial = record(a.dial$(ring.nodes[7].id))
    // Stop the moment the remote answered the Open: its Accept is still on the way.
    expect(await ring.runUntil(() => b.resources.halfOpen === 1)).toBe(true)
    const now = ring.net.scheduler.now()
    dial.subscription.unsubscribe()
    expect(await ring.runUntil(() => b.size === 0)).toBe(true)
    // The abort, not the handshake timeout, let it go.
    expect(ring.net.scheduler.now() - now).toBeLessThan(b.options.handshakeTimeoutMs)
    await ring.run(5000)
    expect(dial.values).toHaveLength(0)
    expect(accepted).toHaveLength(0)
    expect([a.size, b.size]).toEqual([0, 0])
    expect(b.resources.halfOpen).toBe(0)
  })

  it('repeats the Open while routes settle and accepts it once', async () => {
    ring = socketRing(10, { initialRtoMs: 1 })
    const accepted = record(ring.layers[4].incoming$)
    let opens = 0
    ring.nodes[4].router.frames$(FrameType.Open).subscribe(() => opens++)
    // A 1 ms repeat with 1 ms links: the accepter sees the Open several times.
    const dial = record(ring.layers[0].dial$(ring.nodes[4].id))
    await ring.runUntil(() => dial.ended)
    await ring.run(100)
    expect(opens).toBeGreaterThan(1)
    expect(accepted.values).toHaveLength(1)
    expect(dial.values).toHaveLength(1)
  })

  it('close$ closes every socket gracefully: data$ completes on both sides', async () => {
    ring = socketRing()
    const remote = record(ring.layers[5].incoming$)
    const dial = record(ring.layers[0].dial$(ring.nodes[5].id))
    await ring.runUntil(() => dial.ended && remote.values.length === 1)
    const local = record(dial.values[0].data$)
    const other = record(remote.values[0].data$)
    const closed = record(ring.layers[0].close$())
    expect(await ring.runUntil(() => closed.completed && other.ended)).toBe(true)
    expect(local.completed && other.completed).toBe(true)
    expect([ring.layers[0].size, ring.layers[5].size]).toEqual([0, 0])
    const late = record(ring.layers[0].dial$(ring.nodes[5].id))
    expect(isExplorerError(late.error, 'CLOSED')).toBe(true)
  })
})
