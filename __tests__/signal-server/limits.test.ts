import WebSocket from 'ws'
import { Client, ClientPool, assertStillServing, eventually, freshId, start, type Started } from './helpers'

/** The peers of these tests (ids are derived from keys: drawn, not chosen). */
const [A, B, C, D, F] = Array.from({ length: 5 }, freshId)

describe('signal server: limits', () => {
  let server: Started | undefined
  const clients = new ClientPool()
  const open = (options?: WebSocket.ClientOptions) => clients.open(server!.url, options)
  afterEach(async () => {
    await clients.closeAll()
    await server?.app.close()
    server = undefined
  })
  const metric = async (line: RegExp) => expect(await (await fetch(`${server!.http}/metrics`)).text()).toMatch(line)

  it('rate limit: RATE_LIMITED past the burst, then close 1008 for a persistent flood; others still relay', async () => {
    // perSecond is so low that no token comes back during the test: counts are exact.
    server = await start({ rateLimit: { burst: 20, perSecond: 0.001, closeAfter: 50 } })
    const b = await open()
    const c = await open()
    await b.join(B)
    await c.join(C)
    const flooder = await open()
    await flooder.join(F) // token 1
    const replies: Array<Record<string, unknown>> = []
    flooder.ws.on('message', (d) => replies.push(JSON.parse(d.toString())))
    for (let i = 0; i < 500; i++) flooder.send({ type: 'signal', to: B, data: i })
    // c keeps signalling b while the flood is on
    for (let i = 0; i < 5; i++) c.send({ type: 'signal', to: B, data: `c${i}` })
    expect((await flooder.closed).code).toBe(1008)
    // 49 RATE_LIMITED replies; the 50th strike closed the socket
    expect(replies.filter((r) => r.code === 'RATE_LIMITED')).toHaveLength(49)
    expect(replies.every((r) => r.type === 'error' && r.code === 'RATE_LIMITED')).toBe(true)
    c.send({ type: 'signal', to: B, data: 'marker' })
    const got: Array<Record<string, unknown>> = []
    for (;;) {
      const m = await b.next()
      got.push(m)
      if (m.data === 'marker') break
    }
    // exactly the 19 signals inside the burst got through, in order, and all of c's
    expect(got.filter((m) => m.from === F).map((m) => m.data)).toEqual([...Array(19).keys()])
    expect(got.filter((m) => m.from === C).map((m) => m.data)).toEqual(['c0', 'c1', 'c2', 'c3', 'c4', 'marker'])
    await assertStillServing(server.url)
    await metric(/^signal_sockets_closed_total\{reason="flood"\} 1$/m)
    await metric(/^signal_errors_total\{code="RATE_LIMITED"\} 50$/m)
  })

  it('rate limit: a message within the limit resets the strike count (no close)', async () => {
    server = await start({ rateLimit: { burst: 3, perSecond: 0.001, closeAfter: 2 } })
    const a = await open()
    // 3 tokens; then 1 strike; the bucket is empty so every further message is a strike
    a.send('x')
    a.send('x')
    a.send('x')
    expect((await a.next()).code).toBe('BAD_MESSAGE')
    expect((await a.next()).code).toBe('BAD_MESSAGE')
    expect((await a.next()).code).toBe('BAD_MESSAGE')
    expect(await a.request('x')).toMatchObject({ code: 'RATE_LIMITED' })
    a.send('x')
    expect((await a.closed).code).toBe(1008)
    await assertStillServing(server.url)
  })

  it('rate limit: false disables it', async () => {
    server = await start({ rateLimit: false })
    const a = await open()
    for (let i = 0; i < 1000; i++) a.send('{"type":"leave"}')
    for (let i = 0; i < 1000; i++) expect((await a.next()).code).toBe('NOT_JOINED')
  })

  it('maxPeers: upgrades past the cap get HTTP 503; freed slots are reusable', async () => {
    server = await start({ maxPeers: 3 })
    const held = [await open(), await open(), await open()]
    await expect(Client.open(server.url)).rejects.toThrow('HTTP 503')
    await metric(/^signal_upgrades_rejected_total\{reason="capacity"\} 1$/m)
    await held[0].close()
    await held[1].close()
    await eventually(async () => expect(await (await fetch(`${server!.http}/metrics`)).text()).toMatch(/^signal_connections 1$/m))
    await assertStillServing(server.url)
  })

  it('allowedOrigins: only listed Origins may upgrade (HTTP 403 otherwise)', async () => {
    server = await start({ allowedOrigins: ['https://good.example'] })
    await expect(Client.open(server.url)).rejects.toThrow('HTTP 403')
    await expect(Client.open(server.url, { origin: 'https://evil.example' })).rejects.toThrow('HTTP 403')
    const good = await open({ origin: 'https://good.example' })
    const other = await open({ origin: 'https://good.example' })
    await good.join(A)
    await other.join(B)
    other.send({ type: 'signal', to: A, data: 'ok' })
    expect(await good.next()).toEqual({ type: 'signal', from: B, data: 'ok' })
    await metric(/^signal_upgrades_rejected_total\{reason="origin"\} 2$/m)
  })

  it('heartbeat: a socket that stops answering pings is dropped and deregistered; live ones stay', async () => {
    server = await start({ heartbeatIntervalMs: 500 })
    const live = await open()
    await live.join(A)
    const dead = await open({ autoPong: false })
    await dead.join(D)
    const pings = { live: 0, dead: 0 }
    live.ws.on('ping', () => pings.live++)
    dead.ws.on('ping', () => pings.dead++)
    const closed = await dead.closed
    expect(closed.code).toBe(1006) // terminated, no close frame
    expect(pings.dead).toBeGreaterThanOrEqual(1)
    expect(pings.live).toBeGreaterThanOrEqual(1)
    expect(live.ws.readyState).toBe(WebSocket.OPEN)
    await eventually(async () => expect(await (await fetch(`${server!.http}/health`)).json()).toEqual({ status: 'ok', peers: 1 }))
    // its id is free again, and the live peer still relays
    const back = await open()
    await back.join(D)
    live.send({ type: 'signal', to: D, data: 'hello again' })
    expect(await back.next()).toEqual({ type: 'signal', from: A, data: 'hello again' })
    await metric(/^signal_sockets_closed_total\{reason="heartbeat"\} 1$/m)
  })

  it('a peer that stops reading is dropped once its buffer passes maxBufferedBytes', async () => {
    server = await start({ maxBufferedBytes: 64 * 1024, rateLimit: false })
    const sender = await open()
    const stuck = await open()
    await sender.join(A)
    await stuck.join(B)
    // stop reading from the socket: the kernel buffers fill, then the server's buffer grows
    const raw = (stuck.ws as unknown as { _socket: import('node:net').Socket })._socket
    raw.pause()
    const chunk = 'x'.repeat(32 * 1024)
    let reply: Record<string, unknown> | undefined
    sender.ws.once('message', (d) => (reply = JSON.parse(d.toString())))
    // bounded by count: 2,000 × 32 KiB = 64 MiB, far beyond loopback socket buffers
    for (let i = 0; i < 2000 && !reply; i++) {
      sender.send({ type: 'signal', to: B, data: chunk })
      await new Promise<void>((resolve) => sender.ws.send('{"type":"report","successors":[],"predecessor":null,"fingers":[]}', () => resolve()))
    }
    await eventually(() => expect(reply).toBeDefined())
    expect(reply).toMatchObject({ type: 'error', code: 'UNKNOWN_PEER' })
    raw.resume()
    await stuck.closed
    await metric(/^signal_sockets_closed_total\{reason="stuck"\} 1$/m)
    await assertStillServing(server.url)
  })

  it('close(): every client gets 1001', async () => {
    server = await start()
    const a = await open()
    const b = await open()
    await a.join(A)
    await server.app.close()
    expect((await a.closed).code).toBe(1001)
    expect((await b.closed).code).toBe(1001)
    server = undefined
  })

  it('the dashboard hook can own GET /', async () => {
    server = await start({ dashboard: (app) => app.get('/', async () => 'ring dashboard') })
    expect(await (await fetch(`${server.http}/`)).text()).toBe('ring dashboard')
    await assertStillServing(server.url)
  })

  it('rejects nonsense options at once', () => {
    const { createSignalServer } = jest.requireActual('../../signal-server') as typeof import('../../signal-server')
    expect(() => createSignalServer({ maxPayload: -1 })).toThrow(/maxPayload/)
    expect(() => createSignalServer({ rateLimit: { burst: 0 } })).toThrow(/burst/)
    expect(() => createSignalServer({ maxPeers: 1.5 })).toThrow(/maxPeers/)
  })
})
