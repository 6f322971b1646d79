import { isExplorerError } from '../../src/errors'
import { verifySignature } from '../../src/identity'
import { formatId, parseId } from '../../src/ids'
import { createNoiseCredentials, SecureInitiator } from '../../src/noise'
import type { LocalFrame } from '../../src/router/router'
import type { ExplorerSocket, RoutedSocket } from '../../src/sockets'
import { SocketSeal, socketPrologue } from '../../src/sockets/seal'
import { ACCEPTER_BIT, RefuseReason, decodeHello, encodeHello, windowInFrameBytes } from '../../src/sockets/wire'
import { RingOracle, seededRandom } from '../../src/testnet'
import { identityWhere, seededIdentity } from '../../src/testnet/identities'
import { FrameFlag, FrameType } from '../../src/wire/frame'
import { impostor, inject, intercept } from './attackers'
import { connect, equalBytes, pathLength, pattern, record, securityOf, socketRing, type SocketRing } from './helpers'

/**
 * Attacks on routed sockets by peers on their path or beside it, each with
 * the library's own code and one thing changed (docs/reliability.md,
 * "Security"). Memory transport, virtual time.
 */

const CANARY = new TextEncoder().encode('canary:7f3a9c-this-text-must-never-cross-a-link')
const contains = (frame: Uint8Array, needle: Uint8Array) => Buffer.from(frame.buffer, frame.byteOffset, frame.byteLength).includes(Buffer.from(needle))
const isSocketFrame = (frame: Uint8Array) => frame[1] >= FrameType.Open && frame[1] <= FrameType.Refuse
/** A socket as its proven key in hex (a socket itself reaches the whole ring: too big for a failure message). */
const keyOf = (socket: Pick<ExplorerSocket, 'remoteKey'>) => Buffer.from(socket.remoteKey).toString('hex')
const echo = (ring: SocketRing, i: number) => ring.layers[i].incoming$.subscribe((s) => s.data$.subscribe({ next: (d) => s.send(d), error: () => undefined }))

/** A pair whose Open takes at least two hops (a relay in between), found by dialling. */
async function relayedPair(ring: SocketRing): Promise<[number, number]> {
  for (let a = 0; a < ring.nodes.length; a++) {
    for (let b = 0; b < ring.nodes.length; b++) {
      if (a === b || ring.nodes[a].channels.has(ring.nodes[b].id)) continue
      const hops = await pathLength(ring, a, b)
      if (hops >= 2) return [a, b]
    }
  }
  throw new Error('no pair two hops apart')
}

describe('what relays see and can do to a routed socket', () => {
  let ring: SocketRing
  afterEach(() => ring.close())

  it("a relay's view of a socket (every byte it forwards) never contains the application's plaintext", async () => {
    /** Socket frames as they left each peer, by sender. */
    const sent: { from: number; frame: Uint8Array }[] = []
    ring = socketRing(12, {}, { frameTap: (from, _, frame) => void (isSocketFrame(frame) && sent.push({ from, frame: frame.slice() })) })
    const [a, b] = await relayedPair(ring)
    echo(ring, b)
    const { local } = await connect(ring, a, b)
    const got = record(local.data$)
    const big = new Uint8Array(100_000)
    for (let at = 0; at + CANARY.byteLength <= big.byteLength; at += 5000) big.set(CANARY, at)
    local.send(CANARY)
    local.send(big)
    expect(await ring.runUntil(() => got.values.length === 2)).toBe(true)
    expect(equalBytes(got.values[0], CANARY) && equalBytes(got.values[1], big)).toBe(true)
    local.close()
    await ring.run(1000)
    const ends = [ring.nodes[a].id, ring.nodes[b].id]
    const relayed = sent.filter(({ from, frame }) => !ends.includes(from) && frame[1] === FrameType.Data)
    // Both directions crossed relays: the message and its echo, several frames each.
    expect(relayed.length).toBeGreaterThanOrEqual(2 * 8)
    expect(relayed.filter(({ frame }) => contains(frame, CANARY))).toEqual([])
    // Not on the first link either: the ends send ciphertext only.
    expect(sent.filter(({ frame }) => contains(frame, CANARY))).toEqual([])
  })

  it('a relay that flips one byte of a Data frame: the receiver fails with AUTH_FAILED and delivers nothing altered; the sender learns it', async () => {
    let tamper: (from: number, frame: Uint8Array) => void = () => undefined
    ring = socketRing(12, {}, { frameTap: (from, _, frame) => tamper(from, frame) })
    const [a, b] = await relayedPair(ring)
    const { local, remote } = await connect(ring, a, b)
    const got = record(remote.data$)
    const back = record(local.data$)
    let forwarded = 0
    let flipped = 0
    // The relay's own send of frames it forwards (the sender's copy is untouched).
    tamper = (from, frame) => {
      if (from === ring.nodes[a].id || from === ring.nodes[b].id || frame[1] !== FrameType.Data || frame.byteLength < 100) return
      if (++forwarded === 4) {
        frame[60] ^= 0x01
        flipped++
      }
    }
    const sent = Array.from({ length: 10 }, (_, i) => pattern(1000, i))
    for (const m of sent) local.send(m)
    expect(await ring.runUntil(() => got.ended && back.ended)).toBe(true)
    expect(flipped).toBe(1)
    expect(isExplorerError(got.error, 'AUTH_FAILED')).toBe(true)
    expect(isExplorerError(back.error, 'AUTH_FAILED')).toBe(true)
    // What arrived before the altered frame, exactly; nothing from it on.
    expect(got.values.length).toBe(3)
    got.values.forEach((m, i) => expect(equalBytes(m, sent[i])).toBe(true))
    expect([ring.layers[a].size, ring.layers[b].size]).toEqual([0, 0])
  })

  it('a peer placed just before V (the last hop to V) answers Opens meant for V as V: each of those dials fails AUTH_FAILED, none gets a socket', async () => {
    // Large enough that many diallers have no channel to V and route through its predecessor (in 12 peers nearly all reach V directly).
    ring = socketRing(32)
    const oracle = new RingOracle(ring.nodes.map((n) => n.id))
    const v = 5
    const V = ring.nodes[v].id
    const predecessor = oracle.predecessorOf(V)
    const inArc = (id: number) => (id - predecessor + 2 ** 48) % 2 ** 48 < (V - predecessor + 2 ** 48) % 2 ** 48 && id !== predecessor
    const random = seededRandom(99)
    const mallory = identityWhere(() => seededIdentity(random), inArc)
    const m = ring.net.addPeer(parseId(mallory.id))
    expect(ring.net.converge()).toBeGreaterThanOrEqual(0)
    expect(m.successor).toBe(V)
    const fake = impostor(m, mallory, V, ring.net.scheduler)
    ring.watch(fake.layer)
    fake.layer.incoming$.subscribe()
    const answered = new Set<number>()
    intercept(m, V, (frame) => {
      if (frame.type === FrameType.Open) answered.add(frame.source)
      fake.feed(frame)
    })
    ring.layers[v].incoming$.subscribe()
    const dials = ring.layers.map((layer, i) => (i === v ? null : record(layer.dial$(V))))
    expect(await ring.runUntil(() => dials.every((d) => d === null || d.ended))).toBe(true)
    const diallers = dials.flatMap((d, i) => (d === null ? [] : [{ id: ring.nodes[i].id, dial: d }]))
    const hijacked = diallers.filter(({ id }) => answered.has(id))
    // Seeded: 2 of the 31 diallers reach V through its predecessor here (the others hold a channel to V or route around it).
    expect(hijacked.length).toBeGreaterThanOrEqual(2)
    for (const { dial } of hijacked) {
      expect(dial.values.map(keyOf)).toEqual([])
      expect(isExplorerError(dial.error, 'AUTH_FAILED')).toBe(true)
    }
    // Whoever reached V itself got V, proven: no socket anywhere speaks for another key.
    for (const { dial } of diallers) {
      for (const socket of dial.values) expect(keyOf(socket)).toBe(keyOf({ remoteKey: ring.identities[v].publicKey }))
    }
  })

  it("dial$(V, { key: another peer's key }) fails AUTH_FAILED; V lets its half-open socket go", async () => {
    ring = socketRing(8)
    ring.layers[4].incoming$.subscribe()
    const dial = record(ring.layers[1].dial$(ring.nodes[4].id, { key: ring.identities[6].publicKey }))
    expect(await ring.runUntil(() => dial.ended)).toBe(true)
    expect(dial.values.map(keyOf)).toEqual([])
    expect(isExplorerError(dial.error, 'AUTH_FAILED')).toBe(true)
    expect(await ring.runUntil(() => ring.layers[4].size === 0, 1000)).toBe(true)
    expect(ring.layers[1].size).toBe(0)
  })
})

describe("frames with another peer's source, injected by a neighbour", () => {
  let ring: SocketRing
  afterEach(() => ring.close())

  /** B, a neighbour N of B, and a third peer A whose id N writes as the source. */
  function cast(ring: SocketRing) {
    const b = 3
    const n = ring.nodes.findIndex((node, i) => i !== b && node.channels.has(ring.nodes[b].id) && ring.nodes[b].channels.has(node.id))
    const a = ring.nodes.findIndex((_, i) => i !== b && i !== n)
    return { a, b, n, A: ring.nodes[a].id, B: ring.nodes[b].id }
  }

  it('a forged Open, message 3, Data and Close "from A": B never has a socket from A and delivers nothing', async () => {
    ring = socketRing(8)
    const { b, n, A, B } = cast(ring)
    const incoming = record(ring.layers[b].incoming$)
    const delivered: Uint8Array[] = []
    ring.layers[b].incoming$.subscribe((s) => s.data$.subscribe({ next: (d) => delivered.push(d), error: () => undefined }))
    // The strongest such attacker: a real Noise handshake (its own identity, the right prologue), and it reads B's answer on its way to A.
    const credentials = await createNoiseCredentials(securityOf(ring.identities[n]).signer)
    const conn = 12345
    const initiator = new SecureInitiator(credentials, { verify: verifySignature, expectedId: formatId(B), prologue: socketPrologue(A, B, conn) })
    let accept: LocalFrame | null = null
    ring.nodes[ring.nodes.findIndex((x) => x.id === A)].router.frames$(FrameType.Accept).subscribe((f) => (accept ??= f.conn === (conn | ACCEPTER_BIT) >>> 0 ? f : null))
    const refusals: number[] = []
    ring.nodes[ring.nodes.findIndex((x) => x.id === A)].router.frames$(FrameType.Refuse).subscribe((f) => refusals.push(f.payload[0]))
    const from = (frame: { type: FrameType; flags?: number; seq: number; payload: Uint8Array }) =>
      inject(ring.nodes[n], B, { flags: FrameFlag.Exact, source: A, dest: B, conn, ...frame })
    from({ type: FrameType.Open, seq: 0, payload: encodeHello(windowInFrameBytes(1 << 20), initiator.message1) })
    expect(await ring.runUntil(() => accept !== null)).toBe(true)
    expect(ring.layers[b].resources.halfOpen).toBe(1)
    const { message3, session } = await initiator.complete(decodeHello(accept!.payload).message)
    const seal = new SocketSeal(session, { source: A, dest: B, conn }, { source: B, dest: A, conn: (conn | ACCEPTER_BIT) >>> 0 })
    // Data and Close overtaking message 3, then message 3.
    from({ type: FrameType.Data, seq: 1, payload: seal.sealStream(FrameType.Data, FrameFlag.Exact, 1, new TextEncoder().encode('forged')) })
    from({ type: FrameType.Close, seq: 2, payload: seal.sealStream(FrameType.Close, FrameFlag.Exact, 2, new Uint8Array(0)) })
    from({ type: FrameType.Data, seq: 0, payload: message3 })
    expect(await ring.runUntil(() => ring.layers[b].size === 0)).toBe(true)
    await ring.run(10_000)
    expect(incoming.values.map(keyOf)).toEqual([])
    expect(delivered).toEqual([])
    // B told "A" that the handshake failed; A, who never dialled, ignores it.
    expect(refusals).toEqual([RefuseReason.AuthFailed])
    expect(ring.layers[b].resources).toMatchObject({ sockets: 0, halfOpen: 0, limits: 0 })
  })

  it('forged Data and Close injected into a socket A really opened: the socket fails AUTH_FAILED, nothing forged is delivered, nothing is cut short in silence', async () => {
    ring = socketRing(8)
    const { a, b, n, A, B } = cast(ring)
    for (const forged of [
      { type: FrameType.Data, payload: new TextEncoder().encode('forged data, no valid tag....') },
      { type: FrameType.Close, payload: new Uint8Array(16) },
      { type: FrameType.Close, payload: new Uint8Array(0) },
    ]) {
      const { local, remote } = await connect(ring, a, b)
      const got = record(remote.data$)
      local.send('genuine')
      expect(await ring.runUntil(() => got.values.length === 1)).toBe(true)
      const conn = (remote as RoutedSocket).inConn
      // The next position B expects (the dialler's seq 0 was its handshake, seq 1 'genuine').
      inject(ring.nodes[n], B, { type: forged.type, flags: FrameFlag.Exact, source: A, dest: B, conn, seq: 2, payload: forged.payload })
      expect(await ring.runUntil(() => got.ended)).toBe(true)
      expect(isExplorerError(got.error, 'AUTH_FAILED')).toBe(true)
      expect(got.values.map((m) => new TextDecoder().decode(m))).toEqual(['genuine'])
      await ring.runUntil(() => ring.layers[a].size === 0 && ring.layers[b].size === 0)
    }
  })

  it('a forged Ack cannot make the sender drop data: it fails AUTH_FAILED; a replayed genuine Ack changes nothing', async () => {
    ring = socketRing(8)
    const { b, n, B } = cast(ring)
    // N injects toward the sender S here: S must be N's neighbour too.
    const sender = ring.nodes.findIndex((x, i) => i !== n && x.channels.has(ring.nodes[n].id) && ring.nodes[n].channels.has(x.id) && i !== b)
    const S = ring.nodes[sender].id
    const acks: LocalFrame[] = []
    ring.nodes[sender].router.frames$(FrameType.Ack).subscribe((f) => acks.push(f))
    const { local, remote } = await connect(ring, sender, b)
    const got = record(remote.data$)
    const back = record(local.data$)
    const inConn = ((remote as RoutedSocket).inConn | ACCEPTER_BIT) >>> 0
    const sent = Array.from({ length: 40 }, (_, i) => pattern(20_000, i))
    for (const m of sent.slice(0, 20)) local.send(m)
    expect(await ring.runUntil(() => got.values.length === 20)).toBe(true)
    // A genuine Ack of B's, replayed later: authentic, but its number is old.
    const old = acks[0]
    for (const m of sent.slice(20)) local.send(m)
    inject(ring.nodes[n], S, { type: FrameType.Ack, flags: FrameFlag.Exact, source: B, dest: S, conn: inConn, seq: old.seq, payload: old.payload })
    expect(await ring.runUntil(() => got.values.length === 40)).toBe(true)
    expect(back.ended).toBe(false)
    got.values.forEach((m, i) => expect(equalBytes(m, sent[i])).toBe(true))
    // A forged Ack that claims everything arrived (and a large window).
    local.send(pattern(20_000, 99))
    const forgedAck = new Uint8Array(old.payload.byteLength).fill(0xff)
    inject(ring.nodes[n], S, { type: FrameType.Ack, flags: FrameFlag.Exact, source: B, dest: S, conn: inConn, seq: 1000, payload: forgedAck })
    expect(await ring.runUntil(() => back.ended)).toBe(true)
    expect(isExplorerError(back.error, 'AUTH_FAILED')).toBe(true)
  })
})
