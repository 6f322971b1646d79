import WebSocket from 'ws'
import { newIdentity, toBase64url } from '../../src/identity'
import { ClientPool, assertStillServing, eventually, freshIdentity, start, type Started } from './helpers'

/**
 * The proven join (DESIGN.md, "Signalling wire contract"): a join proves the
 * key its id is derived from, for this connection's latest challenge. Each
 * test is an attack a stranger can make with a client of its own.
 */
describe('signal server: proven joins', () => {
  let server: Started
  const clients = new ClientPool()
  const open = () => clients.open(server.url)

  beforeAll(async () => {
    server = await start()
  })
  afterEach(async () => {
    await clients.closeAll()
  })
  afterAll(async () => {
    await server.app.close()
  })

  it('sends a challenge on connect, and a fresh one after each leave and each refused join', async () => {
    const c = await open()
    const first = await c.nonce()
    expect(Buffer.from(first, 'base64url')).toHaveLength(32)
    await c.join(freshIdentity())
    expect(c.challenges).toEqual([first])
    await c.refreshing({ type: 'leave' })
    const afterLeave = c.challenges[1]
    expect(afterLeave).not.toBe(first)
    // A join signed for the old nonce is refused, and the refusal opens another.
    const stale = await c.joinMessage(freshIdentity(), first)
    expect(await c.refreshing(stale)).toMatchObject({ type: 'error', code: 'BAD_PROOF' })
    const afterRefusal = c.challenges[2]
    expect(c.challenges).toHaveLength(3)
    expect(new Set([first, afterLeave, afterRefusal]).size).toBe(3)
    expect(await c.join(freshIdentity())).toMatchObject({ type: 'joined' })
  })

  it("another key cannot take a peer's id: its own key gives BAD_ID, the victim's key without the victim's signature BAD_PROOF", async () => {
    const victim = freshIdentity()
    const attacker = newIdentity()
    const v = await open()
    await v.join(victim)
    const a = await open()
    const withOwnKey = { ...(await a.joinMessage(attacker)), id: victim.id }
    expect(await a.refreshing(withOwnKey)).toMatchObject({ code: 'BAD_ID' })
    const withVictimKey = { ...(await a.joinMessage(attacker)), id: victim.id, key: toBase64url(victim.publicKey) }
    expect(await a.request(withVictimKey)).toMatchObject({ code: 'BAD_PROOF' })
    await assertStillServing(server.url)
  })

  it('a captured join replayed on another connection is refused (BAD_PROOF): the nonce is per connection', async () => {
    const victim = freshIdentity()
    const v = await open()
    const captured = await v.joinMessage(victim)
    await v.close()
    const a = await open()
    expect(await a.request(captured)).toMatchObject({ type: 'error', code: 'BAD_PROOF' })
  })

  it('id takeover after a drop is refused; the owner re-joins at once on a new connection', async () => {
    const victim = freshIdentity()
    const v = await open()
    const captured = await v.joinMessage(victim)
    expect(await v.request(captured)).toMatchObject({ type: 'joined', id: victim.id })
    // The victim's connection drops without a close handshake (a network cut).
    v.ws.terminate()
    await eventually(async () => expect((await (await fetch(`${server.http}/ring`)).json()).peers).not.toContain(victim.id))
    // Now the id is free: the attacker replays what it captured and forges what it can.
    const attacker = await open()
    expect(await attacker.refreshing(captured)).toMatchObject({ code: 'BAD_PROOF' })
    expect(await attacker.refreshing({ ...captured, key: toBase64url(newIdentity().publicKey) })).toMatchObject({ code: 'BAD_ID' })
    const back = await open()
    expect(await back.join(victim)).toMatchObject({ type: 'joined', id: victim.id })
    expect((await (await fetch(`${server.http}/ring`)).json()).peers).toContain(victim.id)
  })

  it.each([
    ['a key of 31 bytes', { key: toBase64url(new Uint8Array(31)) }],
    ['a key in standard base64', { key: Buffer.from(new Uint8Array(32).fill(0xfb)).toString('base64') }],
    ['a signature of 63 bytes', { sig: toBase64url(new Uint8Array(63)) }],
    ['a padded signature', { sig: `${toBase64url(new Uint8Array(64))}==` }],
    ['a numeric key', { key: 42 }],
    ['no sig', { sig: undefined }],
  ])('a join with %s → BAD_MESSAGE', async (_, change) => {
    const c = await open()
    const message = { ...(await c.joinMessage(freshIdentity())), ...change }
    expect(await c.request(message)).toMatchObject({ type: 'error', code: 'BAD_MESSAGE' })
    expect(c.ws.readyState).toBe(WebSocket.OPEN)
  })

  it('a key that is not a curve point fails the proof, not the server', async () => {
    const c = await open()
    // 0xff… is not a valid Ed25519 point encoding; its id is derived correctly, so only the proof can fail.
    const key = new Uint8Array(32).fill(0xff)
    const { createHash } = await import('node:crypto')
    const id = createHash('sha256').update(key).digest('hex').slice(0, 12)
    const message = { ...(await c.joinMessage(freshIdentity())), id, key: toBase64url(key) }
    expect(await c.request(message)).toMatchObject({ type: 'error', code: 'BAD_PROOF' })
    await assertStillServing(server.url)
  })
})
