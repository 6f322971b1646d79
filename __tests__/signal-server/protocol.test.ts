import { Client, assertStillServing, eventually, start, type Started } from './helpers'

describe('signal server: the wire contract', () => {
  let server: Started
  const clients: Client[] = []
  const open = async () => {
    const c = await Client.open(server.url)
    clients.push(c)
    return c
  }

  beforeEach(async () => {
    server = await start({ successorCount: 2 })
  })
  afterEach(async () => {
    await Promise.all(clients.splice(0).map((c) => c.close()))
    await server.app.close()
  })

  it('answers join with bootstrap info from the sorted registry', async () => {
    const ids = ['000000000100', '000000000300', '000000000500', 'f00000000000']
    for (const id of ids) await (await open()).join(id)
    const joiner = await open()
    expect(await joiner.join('000000000400')).toEqual({
      type: 'joined',
      id: '000000000400',
      successors: ['000000000500', 'f00000000000'],
      ring: [],
      predecessor: '000000000300',
      peers: 5,
      iceServers: [{ urls: `stun:127.0.0.1:${new URL(server.url).port}` }],
    })
    // wraps around the top of the ring
    expect(await (await open()).join('ff0000000000')).toMatchObject({
      successors: ['000000000100', '000000000300'],
      predecessor: 'f00000000000',
      peers: 6,
    })
  })

  it('a lone joiner has no successors and no predecessor', async () => {
    expect(await (await open()).join('abcdefabcdef')).toEqual({
      type: 'joined', id: 'abcdefabcdef', successors: [], ring: [], predecessor: null, peers: 1, iceServers: [{ urls: `stun:127.0.0.1:${new URL(server.url).port}` }],
    })
  })

  it('relays signal data as sent, stamped with the sender id', async () => {
    const a = await open()
    const b = await open()
    await a.join('aaaaaaaaaaaa')
    await b.join('bbbbbbbbbbbb')
    const payloads = [
      { sdp: 'v=0\r\no=- 1 2 IN IP4 127.0.0.1\r\n', type: 'offer' },
      { candidate: 'candidate:1 1 udp 2122260223 10.0.0.1 5000 typ host', sdpMid: '0', sdpMLineIndex: 0 },
      'a string', 0, null, true, [1, [2, [3]]], { 'ünïcødé': '✓' },
    ]
    for (const data of payloads) a.send({ type: 'signal', to: 'bbbbbbbbbbbb', data })
    for (const data of payloads) expect(await b.next()).toEqual({ type: 'signal', from: 'aaaaaaaaaaaa', data })
    // and back, and to oneself
    b.send({ type: 'signal', to: 'aaaaaaaaaaaa', data: 'answer' })
    expect(await a.next()).toEqual({ type: 'signal', from: 'bbbbbbbbbbbb', data: 'answer' })
    a.send({ type: 'signal', to: 'aaaaaaaaaaaa', data: 'self' })
    expect(await a.next()).toEqual({ type: 'signal', from: 'aaaaaaaaaaaa', data: 'self' })
  })

  it('leave deregisters but keeps the socket open; the socket may join again', async () => {
    const a = await open()
    const b = await open()
    await a.join('aaaaaaaaaaaa')
    await b.join('bbbbbbbbbbbb')
    a.send({ type: 'leave' })
    expect(await b.request({ type: 'signal', to: 'aaaaaaaaaaaa', data: 1 })).toMatchObject({ type: 'error', code: 'UNKNOWN_PEER' })
    expect(await a.request({ type: 'signal', to: 'bbbbbbbbbbbb', data: 1 })).toMatchObject({ type: 'error', code: 'NOT_JOINED' })
    expect(await a.request({ type: 'leave' })).toMatchObject({ type: 'error', code: 'NOT_JOINED' })
    expect(await a.join('cccccccccccc')).toMatchObject({ id: 'cccccccccccc', peers: 2 })
    b.send({ type: 'signal', to: 'cccccccccccc', data: 'hi' })
    expect(await a.next()).toEqual({ type: 'signal', from: 'bbbbbbbbbbbb', data: 'hi' })
  })

  it('serves /health, /metrics and /ring; GET / is left free', async () => {
    const a = await open()
    await a.join('aaaaaaaaaaaa')
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
    await b.join('bbbbbbbbbbbb')
    await a.join('aaaaaaaaaaaa')
    const report = {
      type: 'report', successors: ['bbbbbbbbbbbb'], predecessor: 'bbbbbbbbbbbb',
      fingers: [{ row: 47, id: 'bbbbbbbbbbbb' }], extra: 'ignored',
    }
    a.send(report)
    b.send({ ...report, successors: ['aaaaaaaaaaaa'], predecessor: null, fingers: [] })
    // a round trip proves both reports were processed
    await assertStillServing(server.url)
    const snapshot = await ring()
    expect(snapshot.peers).toEqual(['aaaaaaaaaaaa', 'bbbbbbbbbbbb'])
    expect(snapshot.reports.aaaaaaaaaaaa).toEqual({
      successors: ['bbbbbbbbbbbb'], predecessor: 'bbbbbbbbbbbb', fingers: [{ row: 47, id: 'bbbbbbbbbbbb' }],
      at: expect.any(Number),
    })
    expect(snapshot.reports.bbbbbbbbbbbb).toMatchObject({ successors: ['aaaaaaaaaaaa'], predecessor: null, fingers: [] })

    a.send({ type: 'leave' })
    await b.close()
    await assertStillServing(server.url)
    await eventually(async () => expect(await ring()).toEqual({ peers: [], reports: {} }))
    await a.close()
  })

  it('lists, in a join reply, the peers after the joiner that report (they are in a ring), closest first', async () => {
    const clients = await Promise.all(['000000000100', '000000000300', '000000000500', 'f00000000000'].map(async (id) => {
      const c = await Client.open(server.url)
      await c.join(id)
      return c
    }))
    for (const c of [clients[1], clients[3]]) c.send({ type: 'report', successors: [], predecessor: null, fingers: [] })
    await assertStillServing(server.url)
    const joiner = await Client.open(server.url)
    expect(await joiner.join('000000000400')).toMatchObject({ ring: ['f00000000000', '000000000300'] })
    await Promise.all([...clients, joiner].map((c) => c.close()))
  })

  it('hints a reporting peer whose successor skips a closer peer in the ring', async () => {
    const [a, b, c] = await Promise.all(['000000000100', '000000000200', '000000000300'].map(async (id) => {
      const client = await Client.open(server.url)
      await client.join(id)
      return client
    }))
    b.send({ type: 'report', successors: ['000000000300'], predecessor: null, fingers: [] })
    await assertStillServing(server.url)
    // a reports c as its successor, skipping b (in a ring: it reported)
    expect(await a.request({ type: 'report', successors: ['000000000300'], predecessor: null, fingers: [] })).toEqual({ type: 'hint', successor: '000000000200' })
    await Promise.all([a, b, c].map((client) => client.close()))
  })

  it('validates reports by schema and bounds their size', async () => {
    const a = await Client.open(server.url)
    expect(await a.request({ type: 'report', successors: [], predecessor: null, fingers: [] }))
      .toMatchObject({ code: 'NOT_JOINED' })
    await a.join('aaaaaaaaaaaa')
    const base = { type: 'report', successors: [], predecessor: null, fingers: [] }
    const bad: Array<[unknown, string]> = [
      [{ ...base, successors: Array(33).fill('bbbbbbbbbbbb') }, 'BAD_MESSAGE'],
      [{ ...base, fingers: Array(49).fill({ row: 1, id: 'bbbbbbbbbbbb' }) }, 'BAD_MESSAGE'],
      [{ ...base, fingers: [{ row: 48, id: 'bbbbbbbbbbbb' }] }, 'BAD_MESSAGE'],
      [{ ...base, fingers: [{ row: 1.5, id: 'bbbbbbbbbbbb' }] }, 'BAD_MESSAGE'],
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
