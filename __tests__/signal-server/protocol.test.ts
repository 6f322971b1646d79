import { Client, ClientPool, assertStillServing, eventually, freshId, freshIds, start, type Started } from './helpers'

/** Peers named by their role (ids are derived from keys: drawn, not chosen). */
const [A, B, C] = Array.from({ length: 3 }, freshId)

describe('signal server: the wire contract', () => {
  let server: Started
  const clients = new ClientPool()
  const open = () => clients.open(server.url)

  beforeEach(async () => {
    server = await start({ successorCount: 2 })
  })
  afterEach(async () => {
    await clients.closeAll()
    await server.app.close()
  })

  it('answers join with bootstrap info from the sorted registry', async () => {
    const s = freshIds(6)
    for (const id of [s[0], s[1], s[3], s[4]]) await (await open()).join(id)
    const joiner = await open()
    expect(await joiner.join(s[2])).toEqual({
      type: 'joined',
      id: s[2],
      successors: [s[3], s[4]],
      ring: [],
      predecessor: s[1],
      peers: 5,
      iceServers: [{ urls: `stun:127.0.0.1:${new URL(server.url).port}` }],
    })
    // wraps around the top of the ring
    expect(await (await open()).join(s[5])).toMatchObject({
      successors: [s[0], s[1]],
      predecessor: s[4],
      peers: 6,
    })
  })

  it('a lone joiner has no successors and no predecessor', async () => {
    const id = freshId()
    expect(await (await open()).join(id)).toEqual({
      type: 'joined', id, successors: [], ring: [], predecessor: null, peers: 1, iceServers: [{ urls: `stun:127.0.0.1:${new URL(server.url).port}` }],
    })
  })

  it('relays signal data as sent, stamped with the sender id', async () => {
    const a = await open()
    const b = await open()
    await a.join(A)
    await b.join(B)
    const payloads = [
      { sdp: 'v=0\r\no=- 1 2 IN IP4 127.0.0.1\r\n', type: 'offer' },
      { candidate: 'candidate:1 1 udp 2122260223 10.0.0.1 5000 typ host', sdpMid: '0', sdpMLineIndex: 0 },
      'a string', 0, null, true, [1, [2, [3]]], { 'ünïcødé': '✓' },
    ]
    for (const data of payloads) a.send({ type: 'signal', to: B, data })
    for (const data of payloads) expect(await b.next()).toEqual({ type: 'signal', from: A, data })
    // and back, and to oneself
    b.send({ type: 'signal', to: A, data: 'answer' })
    expect(await a.next()).toEqual({ type: 'signal', from: B, data: 'answer' })
    a.send({ type: 'signal', to: A, data: 'self' })
    expect(await a.next()).toEqual({ type: 'signal', from: A, data: 'self' })
  })

  it('leave deregisters but keeps the socket open; the socket may join again', async () => {
    const a = await open()
    const b = await open()
    await a.join(A)
    await b.join(B)
    a.send({ type: 'leave' })
    expect(await b.request({ type: 'signal', to: A, data: 1 })).toMatchObject({ type: 'error', code: 'UNKNOWN_PEER' })
    expect(await a.request({ type: 'signal', to: B, data: 1 })).toMatchObject({ type: 'error', code: 'NOT_JOINED' })
    expect(await a.request({ type: 'leave' })).toMatchObject({ type: 'error', code: 'NOT_JOINED' })
    expect(await a.join(C)).toMatchObject({ id: C, peers: 2 })
    b.send({ type: 'signal', to: C, data: 'hi' })
    expect(await a.next()).toEqual({ type: 'signal', from: B, data: 'hi' })
  })

  it('serves /health, /metrics and /ring; GET / is left free', async () => {
    const a = await open()
    await a.join(A)
    expect(await (await fetch(`${server.http}/health`)).json()).toEqual({ status: 'ok', peers: 1 })
    await a.request('not json')
    await a.request({ type: 'signal', to: '000000000000', data: 1 })
    const metrics = await (await fetch(`${server.http}/metrics`)).text()
    expect(metrics).toMatch(/^signal_peers 1$/m)
    expect(metrics).toMatch(/^signal_connections_total 1$/m)
    expect(metrics).toMatch(/^signal_errors_total\{code="BAD_MESSAGE"\} 1$/m)
    expect(metrics).toMatch(/^signal_errors_total\{code="UNKNOWN_PEER"\} 1$/m)
    expect(metrics).toMatch(/^signal_messages_relayed_total 0$/m)
    expect((await fetch(`${server.http}/ring`)).headers.get('content-type')).toMatch(/application\/json/)
    expect((await fetch(`${server.http}/`)).status).toBe(404)
  })

  it('counts relayed messages', async () => {
    await assertStillServing(server.url)
    const metrics = await (await fetch(`${server.http}/metrics`)).text()
    expect(metrics).toMatch(/^signal_messages_relayed_total 1$/m)
  })
})

describe('signal server: the report extension and GET /ring', () => {
  let server: Started
  beforeEach(async () => {
    server = await start()
  })
  afterEach(async () => {
    await server.app.close()
  })
  const ring = async () => (await fetch(`${server.http}/ring`)).json()

  it('stores the last report per joined peer and clears it on leave and on close', async () => {
    const a = await Client.open(server.url)
    const b = await Client.open(server.url)
    await b.join(B)
    await a.join(A)
    const report = {
      type: 'report', successors: [B], predecessor: B,
      fingers: [{ row: 47, id: B }], extra: 'ignored',
    }
    a.send(report)
    b.send({ ...report, successors: [A], predecessor: null, fingers: [] })
    // a round trip proves both reports were processed
    await assertStillServing(server.url)
    const snapshot = await ring()
    expect(snapshot.peers).toEqual([A, B].sort())
    expect(snapshot.reports[A]).toEqual({
      successors: [B], predecessor: B, fingers: [{ row: 47, id: B }],
      at: expect.any(Number),
    })
    expect(snapshot.reports[B]).toMatchObject({ successors: [A], predecessor: null, fingers: [] })

    a.send({ type: 'leave' })
    await b.close()
    await assertStillServing(server.url)
    await eventually(async () => expect(await ring()).toEqual({ peers: [], reports: {} }))
    await a.close()
  })

  it('lists, in a join reply, the peers after the joiner that report (they are in a ring), closest first', async () => {
    const s = freshIds(5)
    const clients = await Promise.all([s[0], s[1], s[3], s[4]].map(async (id) => {
      const c = await Client.open(server.url)
      await c.join(id)
      return c
    }))
    for (const c of [clients[1], clients[3]]) c.send({ type: 'report', successors: [], predecessor: null, fingers: [] })
    await assertStillServing(server.url)
    const joiner = await Client.open(server.url)
    expect(await joiner.join(s[2])).toMatchObject({ ring: [s[4], s[1]] })
    await Promise.all([...clients, joiner].map((c) => c.close()))
  })

  it('hints a reporting peer whose successor skips a closer peer in the ring', async () => {
    const s = freshIds(3)
    const [a, b, c] = await Promise.all(s.map(async (id) => {
      const client = await Client.open(server.url)
      await client.join(id)
      return client
    }))
    b.send({ type: 'report', successors: [s[2]], predecessor: null, fingers: [] })
    await assertStillServing(server.url)
    // a reports c as its successor, skipping b (in a ring: it reported)
    expect(await a.request({ type: 'report', successors: [s[2]], predecessor: null, fingers: [] })).toEqual({ type: 'hint', successor: s[1] })
    await Promise.all([a, b, c].map((client) => client.close()))
  })

  it('validates reports by schema and bounds their size', async () => {
    const a = await Client.open(server.url)
    expect(await a.request({ type: 'report', successors: [], predecessor: null, fingers: [] }))
      .toMatchObject({ code: 'NOT_JOINED' })
    await a.join(A)
    const base = { type: 'report', successors: [], predecessor: null, fingers: [] }
    const bad: Array<[unknown, string]> = [
      [{ ...base, successors: Array(33).fill(B) }, 'BAD_MESSAGE'],
      [{ ...base, fingers: Array(49).fill({ row: 1, id: B }) }, 'BAD_MESSAGE'],
      [{ ...base, fingers: [{ row: 48, id: B }] }, 'BAD_MESSAGE'],
      [{ ...base, fingers: [{ row: 1.5, id: B }] }, 'BAD_MESSAGE'],
      [{ ...base, fingers: [{ row: 1 }] }, 'BAD_MESSAGE'],
      [{ ...base, predecessor: 'BBBBBBBBBBBB' }, 'BAD_ID'],
      [{ ...base, successors: ['xyz'] }, 'BAD_ID'],
      [{ type: 'report', successors: [], fingers: [] }, 'BAD_MESSAGE'],
    ]
    for (const [message, code] of bad) expect(await a.request(message)).toMatchObject({ type: 'error', code })
    expect((await ring()).reports).toEqual({})
    await assertStillServing(server.url)
    await a.close()
  })
})
