import { createSocket, type Socket } from 'node:dgram'
import { randomBytes } from 'node:crypto'
import { iceOptionsFrom } from '../../signal-server/ice-cli'
import { MAGIC_COOKIE, stunReply } from '../../signal-server/stun'
import { ClientPool, freshId, start, type Started } from './helpers'

const [A, B, C, D, E] = Array.from({ length: 5 }, freshId)

/** A STUN Binding request (RFC 8489): header, then the given attributes. */
function bindingRequest(attributes: Array<[number, Buffer]> = [], transaction = randomBytes(12)): Buffer {
  const body = Buffer.concat(attributes.map(([type, value]) => {
    const a = Buffer.alloc(4 + Math.ceil(value.length / 4) * 4)
    a.writeUInt16BE(type, 0)
    a.writeUInt16BE(value.length, 2)
    value.copy(a, 4)
    return a
  }))
  const header = Buffer.alloc(20)
  header.writeUInt16BE(0x0001, 0)
  header.writeUInt16BE(body.length, 2)
  header.writeUInt32BE(MAGIC_COOKIE, 4)
  transaction.copy(header, 8)
  return Buffer.concat([header, body])
}

/** Decodes a success response's XOR-MAPPED-ADDRESS (IPv4 only) and checks the transaction id. */
function mappedAddress(response: Buffer, transaction: Buffer): { address: string; port: number } {
  expect(response.readUInt16BE(0)).toBe(0x0101)
  expect(response.subarray(8, 20).equals(transaction)).toBe(true)
  expect(response.readUInt16BE(20)).toBe(0x0020)
  expect(response[25]).toBe(0x01)
  const port = response.readUInt16BE(26) ^ (MAGIC_COOKIE >>> 16)
  const cookie = Buffer.alloc(4)
  cookie.writeUInt32BE(MAGIC_COOKIE)
  const address = [0, 1, 2, 3].map((i) => response[28 + i] ^ cookie[i]).join('.')
  return { address, port }
}

describe('the STUN binding responder (stunReply)', () => {
  const from = { address: '203.0.113.7', port: 54321 }

  it('answers a Binding request with the sender address, XORed (IPv4 and IPv6)', () => {
    const transaction = randomBytes(12)
    expect(mappedAddress(stunReply(bindingRequest([], transaction), from)!, transaction)).toEqual(from)
    const v6 = stunReply(bindingRequest([], transaction), { address: '2001:db8::1', port: 443 })!
    expect(v6.readUInt16BE(2)).toBe(24) // one 20-byte XOR-MAPPED-ADDRESS
    expect(v6[25]).toBe(0x02)
    const key = Buffer.concat([Buffer.from([0x21, 0x12, 0xa4, 0x42]), transaction])
    const bytes = [...v6.subarray(28, 44)].map((b, i) => b ^ key[i])
    expect(bytes).toEqual([0x20, 0x01, 0x0d, 0xb8, ...Array(11).fill(0), 1])
  })

  it('maps IPv4 seen through a dual-stack socket (::ffff:a.b.c.d) as IPv4', () => {
    const transaction = randomBytes(12)
    expect(mappedAddress(stunReply(bindingRequest([], transaction), { address: '::ffff:198.51.100.2', port: 9 })!, transaction))
      .toEqual({ address: '198.51.100.2', port: 9 })
  })

  it('ignores comprehension-optional attributes, refuses unknown comprehension-required ones with 420', () => {
    const optional = stunReply(bindingRequest([[0x8022, Buffer.from('client')]]), from)!
    expect(optional.readUInt16BE(0)).toBe(0x0101)
    const refused = stunReply(bindingRequest([[0x0024, Buffer.alloc(4)], [0x7777, Buffer.alloc(3)]]), from)!
    expect(refused.readUInt16BE(0)).toBe(0x0111)
    expect(refused.readUInt16BE(20)).toBe(0x0009) // ERROR-CODE
    expect(refused[26] * 100 + refused[27]).toBe(420)
    const listAt = 20 + 4 + Math.ceil(refused.readUInt16BE(22) / 4) * 4
    expect(refused.readUInt16BE(listAt)).toBe(0x000a) // UNKNOWN-ATTRIBUTES
    expect([refused.readUInt16BE(listAt + 4), refused.readUInt16BE(listAt + 6)]).toEqual([0x0024, 0x7777])
  })

  it.each([
    ['a datagram shorter than a header', Buffer.alloc(19)],
    ['a wrong magic cookie (classic RFC 3489 STUN)', (() => { const b = bindingRequest(); b.writeUInt32BE(0, 4); return b })()],
    ['a length that is not the datagram\'s', (() => { const b = bindingRequest(); b.writeUInt16BE(8, 2); return b })()],
    ['a length not a multiple of 4', Buffer.concat([(() => { const b = bindingRequest(); b.writeUInt16BE(2, 2); return b })(), Buffer.alloc(2)])],
    ['an attribute running past the end', (() => { const b = bindingRequest([[0x8022, Buffer.alloc(4)]]); b.writeUInt16BE(200, 22); return b })()],
    ['a Binding indication', (() => { const b = bindingRequest(); b.writeUInt16BE(0x0011, 0); return b })()],
    ['a Binding success response (no reflection loops)', (() => { const b = bindingRequest(); b.writeUInt16BE(0x0101, 0); return b })()],
    ['an Allocate request (we are no TURN server)', (() => { const b = bindingRequest(); b.writeUInt16BE(0x0003, 0); return b })()],
  ])('ignores %s', (_label, packet) => {
    expect(stunReply(packet, from)).toBeNull()
  })

  it('never answers with more than 12 bytes over the request (IPv4), 24 (IPv6): no amplification', () => {
    const request = bindingRequest()
    expect(stunReply(request, from)!.length - request.length).toBe(12)
    expect(stunReply(request, { address: '2001:db8::2', port: 1 })!.length - request.length).toBe(24)
  })
})

describe('signal server: ICE servers for peers', () => {
  let server: Started | null = null
  const clients = new ClientPool()
  const sockets: Socket[] = []
  const open = (headers?: Record<string, string>) => clients.open(server!.url, headers ? { headers } : {})
  afterEach(async () => {
    await clients.closeAll()
    sockets.splice(0).forEach((s) => s.close())
    await server?.app.close()
    server = null
  })
  const port = () => Number(new URL(server!.url).port)

  /** Sends `packets` to the server's STUN port from one socket; resolves with the first reply (or null after 1 s). */
  async function stunExchange(packets: Buffer[], toPort = port()): Promise<{ reply: Buffer | null; local: number }> {
    const socket = createSocket('udp4')
    sockets.push(socket)
    await new Promise<void>((resolve) => socket.bind(0, '127.0.0.1', resolve))
    const reply = new Promise<Buffer | null>((resolve) => {
      const timer = setTimeout(() => resolve(null), 1000)
      socket.once('message', (m) => (clearTimeout(timer), resolve(m)))
    })
    for (const p of packets) socket.send(p, toPort, '127.0.0.1')
    return { reply: await reply, local: socket.address().port }
  }

  it('by default answers STUN on its own HTTP port number over UDP, and hands that out as stun:<host>:<port>', async () => {
    server = await start()
    const reply = await (await open()).join(A)
    expect(reply.iceServers).toEqual([{ urls: `stun:127.0.0.1:${port()}` }])
    const transaction = randomBytes(12)
    const { reply: answer, local } = await stunExchange([bindingRequest([], transaction)])
    expect(mappedAddress(answer!, transaction)).toEqual({ address: '127.0.0.1', port: local })
  })

  it('a flood of garbage datagrams gets no answer, and the responder keeps answering', async () => {
    server = await start()
    const garbage = [Buffer.alloc(0), Buffer.from('GET / HTTP/1.1\r\n\r\n'), randomBytes(1400), Buffer.alloc(20, 0xff)]
    const flood = await stunExchange(Array.from({ length: 200 }, (_, i) => garbage[i % garbage.length]))
    expect(flood.reply).toBeNull()
    const transaction = randomBytes(12)
    const { reply, local } = await stunExchange([bindingRequest([], transaction)])
    expect(mappedAddress(reply!, transaction).port).toBe(local)
  })

  it('advertises the host name the client used (its Host header), never a header that is not a plain host', async () => {
    server = await start()
    expect((await (await open({ host: 'signal.example.test:443' })).join(A)).iceServers).toEqual([{ urls: `stun:signal.example.test:${port()}` }])
    expect((await (await open({ host: '[2001:db8::5]:9000' })).join(B)).iceServers).toEqual([{ urls: `stun:[2001:db8::5]:${port()}` }])
    expect((await (await open({ host: 'evil"host?x=1' })).join(C)).iceServers).toEqual([])
  })

  it('stun: false answers nothing and hands out only what is configured; stun.url replaces the advertised URL', async () => {
    server = await start({ stun: false, iceServers: [{ urls: 'stun:stun.example.test:3478' }] })
    expect((await (await open()).join(A)).iceServers).toEqual([{ urls: 'stun:stun.example.test:3478' }])
    expect((await stunExchange([bindingRequest()])).reply).toBeNull()
    await clients.closeAll()
    await server.app.close()
    server = await start({ stun: { url: 'stun:udp.example.test:3478' } })
    expect((await (await open()).join(A)).iceServers).toEqual([{ urls: 'stun:udp.example.test:3478' }])
  })

  it('hands each peer TURN credentials of its own in coturn\'s use-auth-secret scheme', async () => {
    server = await start({ stun: false, turn: { urls: ['turn:turn.example.test:3478?transport=udp'], secret: 'north', ttlSeconds: 600 } })
    const before = Math.floor(Date.now() / 1000)
    const reply = await (await open()).join(D)
    const [turn] = reply.iceServers as Array<{ urls: string[]; username: string; credential: string }>
    expect(turn.urls).toEqual(['turn:turn.example.test:3478?transport=udp'])
    const [expiry, id] = turn.username.split(':')
    expect(id).toBe(D)
    expect(Number(expiry)).toBeGreaterThanOrEqual(before + 600)
    expect(Number(expiry)).toBeLessThanOrEqual(Math.ceil(Date.now() / 1000) + 600)
    const other = await (await open()).join(E)
    expect((other.iceServers as Array<{ username: string }>)[0].username).toMatch(new RegExp(`:${E}$`))
  })

  it('the credential is base64(HMAC-SHA1(secret, username)): a vector computed elsewhere (Python hmac)', async () => {
    const { turnCredential } = await import('../../signal-server/ice-servers')
    expect(turnCredential('north', '1700000000:abcdefabcdef')).toBe('Q5Ig9kDuZPNLDJUSL7tI2hFQxf4=')
  })

  it('renews TURN credentials with an ice-servers message at half their lifetime', async () => {
    server = await start({ stun: false, turn: { urls: ['turn:turn.example.test:3478'], secret: 's3cret', ttlSeconds: 2 } })
    const client = await open()
    const joined = await client.join(D)
    const first = (joined.iceServers as Array<{ username: string }>)[0].username
    const renewal = await client.next()
    expect(renewal.type).toBe('ice-servers')
    const renewed = (renewal.iceServers as Array<{ username: string; credential: string }>)[0]
    expect(Number(renewed.username.split(':')[0])).toBeGreaterThan(Number(first.split(':')[0]))
    expect(renewed.username.endsWith(`:${D}`)).toBe(true)
  })

  it.each([
    [{ turn: { urls: ['turn:x:3478'], secret: '' } }, /secret/],
    [{ turn: { urls: ['http://x'], secret: 's' } }, /turn.urls/],
    [{ turn: { urls: ['turn:x'], secret: 's', ttlSeconds: 1 } }, /ttlSeconds/],
    [{ iceServers: [{ urls: 'ftp://x' }] }, /iceServers\[0\]/],
    [{ stun: { port: 70000 } }, /stun.port/],
  ])('misuse throws at once: %j', async (options, message) => {
    const { createSignalServer } = await import('../../signal-server')
    expect(() => createSignalServer(options as never)).toThrow(message)
  })
})

describe('sig-server ICE flags (iceOptionsFrom)', () => {
  it('flags win over the environment; URLs repeat; STUN_PORT off turns the responder off', () => {
    expect(iceOptionsFrom({ stun: ['stun:a:1', 'stun:b:2'], turn: ['turn:t:3478'], 'turn-secret': 'x', 'turn-ttl': '60' }, { TURN_URLS: 'turn:ignored' })).toEqual({
      stun: {}, iceServers: [{ urls: ['stun:a:1', 'stun:b:2'] }], turn: { urls: ['turn:t:3478'], secret: 'x', ttlSeconds: 60 },
    })
    expect(iceOptionsFrom({}, { TURN_URLS: 'turn:a:1, turn:b:2', TURN_SECRET: 'y', STUN_PORT: 'off' })).toEqual({
      stun: false, turn: { urls: ['turn:a:1', 'turn:b:2'], secret: 'y' },
    })
    expect(iceOptionsFrom({ 'stun-port': '3478' }, {})).toEqual({ stun: { port: 3478 } })
  })

  it.each([
    [{ turn: ['turn:t'] }, {}, /needs --turn-secret/],
    [{ 'turn-secret': 'x' }, {}, /without any --turn/],
    [{}, { STUN_PORT: 'x' }, /invalid --stun-port/],
    [{ turn: ['turn:t'], 'turn-secret': 'x', 'turn-ttl': '1h' }, {}, /invalid --turn-ttl/],
  ])('refuses %j %j', (values, env, message) => {
    expect(() => iceOptionsFrom(values, env)).toThrow(message)
  })
})
