import WebSocket from 'ws'
import { Client, ClientPool, assertStillServing, eventually, freshId, start, type Started } from './helpers'

/** The peers of these tests (ids are derived from keys: drawn, not chosen). */
const [A, B, C, D, E] = Array.from({ length: 5 }, freshId)

/** Every bad input gets a coded error, the connection stays open, and the server keeps serving others. */
describe('signal server: hostile and malformed input', () => {
  let server: Started
  const clients = new ClientPool()
  const open = () => clients.open(server.url)

  beforeAll(async () => {
    // 128 KiB so that a 50,000-deep nested array (100 KB) fits inside the size limit
    server = await start({ maxPayload: 128 * 1024 })
  })
  afterEach(async () => {
    await clients.closeAll()
  })
  afterAll(async () => {
    await server.app.close()
  })

  /** Sends a raw frame, expects this error code, then proves the same socket and the server still work. */
  async function expectError(c: Client, frame: string, code: string): Promise<void> {
    const reply = await c.request(frame)
    expect(reply).toEqual({ type: 'error', code, message: expect.any(String) })
    expect(c.ws.readyState).toBe(WebSocket.OPEN)
    await assertStillServing(server.url)
  }

  it.each([
    ['not JSON', 'hello'],
    ['truncated JSON', `{"type":"join","id":"${A}"`],
    ['empty text', ''],
    ['JSON null', 'null'],
    ['JSON number', '42'],
    ['JSON array', '[]'],
    ['JSON string', '"join"'],
    ['JSON true', 'true'],
    ['object without type', `{"id":"${A}"}`],
    ['non-string type', '{"type":5}'],
    ['unknown type', '{"type":"hello"}'],
    ['prototype-named type', '{"type":"__proto__"}'],
    ['constructor type', '{"type":"constructor"}'],
    ['toString type', '{"type":"toString"}'],
    ['join without id', '{"type":"join"}'],
    ['join with numeric id', '{"type":"join","id":123456789012}'],
    ['join with null id', '{"type":"join","id":null}'],
    ['signal without to', '{"type":"signal","data":1}'],
    ['signal without data', `{"type":"signal","to":"${A}"}`],
    ['signal with ill-typed to', `{"type":"signal","to":["${A}"],"data":1}`],
  ])('%s → BAD_MESSAGE', async (_name, frame) => {
    await expectError(await open(), frame, 'BAD_MESSAGE')
  })

  it.each([
    ['uppercase hex', 'AAAAAAAAAAAA'],
    ['too short', 'aaaaaaaaaaa'],
    ['too long', `${A}a`],
    ['not hex', 'gggggggggggg'],
    ['empty', ''],
    ['with a newline', `${A}\n`],
  ])('join with a bad id (%s) → BAD_ID; signal to it → BAD_ID', async (_name, id) => {
    const c = await open()
    // A join that is right in every other respect (key, signature for the nonce) but its id.
    await expectError(c, JSON.stringify({ ...(await c.joinMessage(E)), id }), 'BAD_ID')
    await c.join(E)
    await expectError(c, JSON.stringify({ type: 'signal', to: id, data: 1 }), 'BAD_ID')
  })

  it('a binary frame → BAD_MESSAGE', async () => {
    const c = await open()
    c.ws.send(Buffer.from(`{"type":"join","id":"${A}"}`), { binary: true })
    expect(await c.next()).toMatchObject({ type: 'error', code: 'BAD_MESSAGE' })
    await assertStillServing(server.url)
  })

  it('__proto__ keys pollute nothing and are relayed as data, as sent', async () => {
    const a = await open()
    const b = await open()
    // a __proto__ envelope does not supply the missing type
    await expectError(a, `{"__proto__":{"type":"join","id":"${A}"}}`, 'BAD_MESSAGE')
    // nor a missing id
    await expectError(a, `{"type":"join","__proto__":{"id":"${A}"}}`, 'BAD_MESSAGE')
    await a.join(A)
    await b.join(B)
    // a __proto__ inside a report is just an extra field, ignored
    a.send('{"type":"report","successors":[],"predecessor":null,"fingers":[],"__proto__":{"polluted":1}}')
    // a __proto__ in data reaches the target as an own key, exactly as sent
    const raw = new Promise<string>((resolve) => b.ws.once('message', (d) => resolve(d.toString())))
    a.send(`{"type":"signal","to":"${B}","data":{"__proto__":{"polluted":true},"constructor":{"prototype":{"polluted":true}}}}`)
    expect(await raw).toBe(
      `{"type":"signal","from":"${A}","data":{"__proto__":{"polluted":true},"constructor":{"prototype":{"polluted":true}}}}`,
    )
    await b.next()
    // nothing in this process (the server runs in it) was polluted
    expect(({} as Record<string, unknown>).polluted).toBeUndefined()
    expect(Object.prototype.hasOwnProperty.call(Object.prototype, 'polluted')).toBe(false)
    const ring = await (await fetch(`${server.http}/ring`)).json()
    expect(ring.reports[A]).toEqual({ successors: [], predecessor: null, fingers: [], at: expect.any(Number) })
    expect(Object.keys(ring.reports[A])).not.toContain('__proto__')
    await assertStillServing(server.url)
  })

  it('50,000-deep nested arrays inside the size limit do not crash anything', async () => {
    const deep = '['.repeat(50_000) + ']'.repeat(50_000)
    const a = await open()
    const b = await open()
    await expectError(a, deep, 'BAD_MESSAGE')
    await expectError(a, `{"type":"join","id":${deep}}`, 'BAD_MESSAGE')
    await a.join(A)
    await b.join(B)
    const frame = `{"type":"signal","to":"${B}","data":${deep}}`
    expect(frame.length).toBeLessThan(128 * 1024)
    await expectError(a, frame, 'BAD_MESSAGE')
    await expectError(a, `{"type":"report","successors":${deep},"predecessor":null,"fingers":[]}`, 'BAD_MESSAGE')
    // the deep data never reached b: the next thing b sees is a's probe
    a.send({ type: 'signal', to: B, data: 'after' })
    expect(await b.next()).toEqual({ type: 'signal', from: A, data: 'after' })
  })

  it('an oversize frame closes that socket with 1009; everyone else is served', async () => {
    const a = await open()
    const b = await open()
    await b.join(B)
    a.send('x'.repeat(128 * 1024 + 1))
    expect((await a.closed).code).toBe(1009)
    expect(b.ws.readyState).toBe(WebSocket.OPEN)
    await assertStillServing(server.url)
    const metrics = await (await fetch(`${server.http}/metrics`)).text()
    expect(metrics).toMatch(/^signal_sockets_closed_total\{reason="oversize"\} 1$/m)
  })

  it('a client-supplied from is ignored: a spoof never reaches the target as the spoofed id', async () => {
    const a = await open()
    const b = await open()
    const victim = await open()
    await a.join(A)
    await b.join(B)
    await victim.join(C)
    a.send({ type: 'signal', from: C, to: B, data: 'spoof' })
    a.send(`{"type":"signal","to":"${B}","data":"spoof2","from":"${C}"}`)
    a.send(`{"from":"${C}","type":"signal","to":"${B}","data":"spoof3","fr\\u006fm":"${C}"}`)
    expect(await b.next()).toEqual({ type: 'signal', from: A, data: 'spoof' })
    expect(await b.next()).toEqual({ type: 'signal', from: A, data: 'spoof2' })
    expect(await b.next()).toEqual({ type: 'signal', from: A, data: 'spoof3' })
    // before joining, from does not help either
    const stranger = await open()
    await expectError(stranger, `{"type":"signal","from":"${C}","to":"${B}","data":1}`, 'NOT_JOINED')
    expect(b.pending).toBe(0)
    expect(victim.pending).toBe(0)
  })

  it('a duplicate id (the same key on another socket) → ID_TAKEN; joining twice on one socket → BAD_MESSAGE; the holder keeps its id', async () => {
    const a = await open()
    const b = await open()
    const c = await open()
    await a.join(A)
    await expectError(b, JSON.stringify(await b.joinMessage(A)), 'ID_TAKEN')
    await expectError(a, JSON.stringify(await a.joinMessage(A)), 'BAD_MESSAGE')
    await expectError(a, JSON.stringify(await a.joinMessage(D)), 'BAD_MESSAGE')
    await c.join(C)
    c.send({ type: 'signal', to: A, data: 'still yours' })
    expect(await a.next()).toEqual({ type: 'signal', from: C, data: 'still yours' })
    // dddddddddddd was never registered
    await expectError(c, `{"type":"signal","to":"${D}","data":1}`, 'UNKNOWN_PEER')
  })

  it('a reconnecting peer takes its id back once the old socket is gone', async () => {
    const old = await open()
    const c = await open()
    await old.join(A)
    await c.join(C)
    await old.close()
    const again = await open()
    await eventually(async () => {
      const reply = await again.tryJoin(A)
      expect(reply).toMatchObject({ type: 'joined', id: A })
    })
    c.send({ type: 'signal', to: A, data: 'welcome back' })
    expect(await again.next()).toEqual({ type: 'signal', from: C, data: 'welcome back' })
  })

  it("an old socket's late close never deregisters the new holder of its id", async () => {
    const old = await open()
    const c = await open()
    await old.join(A)
    await c.join(C)
    old.send({ type: 'leave' })
    const fresh = await open()
    await fresh.join(A) // possible because old has left
    await old.close() // old socket goes away after the id moved on
    // the close was processed (old's connection is gone) ...
    await eventually(async () => {
      const metrics = await (await fetch(`${server.http}/metrics`)).text()
      expect(metrics).toMatch(/^signal_connections 2$/m)
    })
    // ... and the id still belongs to the new socket
    c.send({ type: 'signal', to: A, data: 'for the new one' })
    expect(await fresh.next()).toEqual({ type: 'signal', from: C, data: 'for the new one' })
    expect((await (await fetch(`${server.http}/ring`)).json()).peers).toEqual([A, C].sort())
  })

  it('signal to an unknown peer → UNKNOWN_PEER', async () => {
    const a = await open()
    await a.join(A)
    await expectError(a, '{"type":"signal","to":"000000000001","data":{"sdp":"x"}}', 'UNKNOWN_PEER')
  })

  it('signal, report or leave before join → NOT_JOINED', async () => {
    const b = await open()
    await b.join(B)
    const a = await open()
    await expectError(a, `{"type":"signal","to":"${B}","data":1}`, 'NOT_JOINED')
    await expectError(a, '{"type":"leave"}', 'NOT_JOINED')
    await expectError(a, '{"type":"report","successors":[],"predecessor":null,"fingers":[]}', 'NOT_JOINED')
    expect(b.pending).toBe(0)
  })
})
