import fc from 'fast-check'
import type { FastifyInstance } from 'fastify'
import type { AddressInfo } from 'node:net'
import type { WebSocket as ServerSocket } from 'ws'
import WebSocket from 'ws'
import { createSignalServer } from '../../signal-server'
import { ERROR_CODES } from '../../signal-server/protocol'
import { newIdentity, signAs, toBase64url, type Identity } from '../../src/identity'
import { joinProofText } from '../../src/protocol/signal-server'
import { Client, assertStillServing, start, type Msg, type Started } from './helpers'

/**
 * Property tests of the server's message handling. In process: the server's
 * own per-message listener is called directly and synchronously on the
 * server side of in-memory WebSockets (`injectWS`: no TCP), with the socket's
 * `send` and `close` recorded, 10,000 arbitrary messages against a model of
 * the contract (DESIGN.md, "Signalling wire contract"). Then 500 cases over
 * a real WebSocket to one live server that keeps serving well-behaved clients.
 */

const ID = /^[0-9a-f]{12}$/
const isId = (v: unknown): v is string => typeof v === 'string' && ID.test(v)
const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v)
const has = (o: Record<string, unknown>, key: string) => Object.prototype.hasOwnProperty.call(o, key)

/** One connection as the server sees it, with everything the server sent it. */
interface Conn {
  server: ServerSocket
  out: Msg[]
  closes: Array<{ code?: number; reason?: string }>
}

/**
 * A server with in-memory connections to it (injectWS), driven synchronously.
 * It also listens on loopback, only so the registry can be read over HTTP
 * (/ring, /health): Fastify's inject needs a module jest cannot load.
 */
async function inProcess(): Promise<{ app: FastifyInstance; http: string; connect(): Promise<Conn>; say(c: Conn, raw: string | Buffer, binary?: boolean): void }> {
  const app = createSignalServer({ rateLimit: false, heartbeatIntervalMs: 0, admission: false })
  await app.listen({ port: 0, host: '127.0.0.1' })
  const { port } = app.server.address() as AddressInfo
  let latest: Conn | null = null
  // Before the server's own listener: its first words (the challenge) are recorded too.
  app.websocketServer.prependListener('connection', (server: ServerSocket) => {
    const conn: Conn = { server, out: [], closes: [] }
    // Record instead of writing: the handler's replies are seen synchronously.
    server.send = ((data: string) => conn.out.push(JSON.parse(String(data)) as Msg)) as ServerSocket['send']
    server.close = ((code?: number, reason?: string) => conn.closes.push({ code, reason })) as ServerSocket['close']
    server.terminate = () => conn.closes.push({ reason: 'terminate' })
    latest = conn
  })
  return {
    app,
    http: `http://127.0.0.1:${port}`,
    /** One at a time: the connection is picked up from the 'connection' event. */
    async connect() {
      await app.injectWS('/ws')
      return latest!
    },
    say(c, raw, binary = false) {
      c.server.emit('message', typeof raw === 'string' ? Buffer.from(raw) : raw, binary)
    },
  }
}

/** A message to send: text (JSON or not) or binary bytes. */
type Sent = { text: string; binary: false } | { bytes: Buffer; binary: true }

/**
 * Keys and signatures depend on the connection's nonce, known only when a
 * message is sent: generated joins carry placeholders (`@key2@`, `@sig2now@`,
 * `@sig0old@`) that `Proofs.fill` replaces then, keeping what each became so
 * the model can judge the join.
 */
class Proofs {
  private readonly keys = new Map<string, number>()
  private readonly sigs = new Map<string, { who: number; fresh: boolean }>()
  /** Signatures made, by identity and nonce: the same nonce stays open for many messages. */
  private readonly made = new Map<string, string>()

  constructor(readonly identities: Identity[]) {}

  get ids(): string[] {
    return this.identities.map((i) => i.id)
  }

  async fill(text: string, nonce: string, oldNonce: string): Promise<string> {
    let out = text
    for (const [placeholder, who, kind] of [...text.matchAll(/@(key|sig)(\d)(now|old)?@/g)].map((m) => [m[0], Number(m[2]), m[3]] as const)) {
      const identity = this.identities[who]
      let value: string
      if (kind === undefined) {
        value = toBase64url(identity.publicKey)
        this.keys.set(value, who)
      } else {
        const signed = kind === 'now' ? nonce : oldNonce
        const cacheKey = `${who} ${signed}`
        value = this.made.get(cacheKey) ?? toBase64url(await signAs(identity, new TextEncoder().encode(joinProofText(signed, identity.id))))
        this.made.set(cacheKey, value)
        this.sigs.set(value, { who, fresh: kind === 'now' })
      }
      out = out.replace(placeholder, value)
    }
    return out
  }

  /** Whose key this is (by index), or undefined for anything a placeholder did not become. */
  keyOwner(key: string): number | undefined {
    return this.keys.get(key)
  }

  /** Whether `sig` proves `who`'s key for the latest nonce and the id `who` has. */
  proves(sig: string, who: number): boolean {
    const made = this.sigs.get(sig)
    return made !== undefined && made.who === who && made.fresh
  }
}

const KEY = /^[A-Za-z0-9_-]{42}[AEIMQUYcgkosw048]$/
const SIG = /^[A-Za-z0-9_-]{85}[AQgw]$/

function messagesArb(pool: { ids: string[]; proofs: number }): fc.Arbitrary<Sent> {
  const badId = fc.constantFrom('', 'AAAAAAAAAAAA', 'aaaaaaaaaaa', 'aaaaaaaaaaaaa', 'gggggggggggg', 'aaaaaaaaaaaa\n', ' aaaaaaaaaaaa', '__proto__')
  const goodId = fc.oneof(fc.constantFrom(...pool.ids), fc.stringMatching(/^[0-9a-f]{12}$/))
  const anyId = fc.oneof({ weight: 4, arbitrary: goodId }, { weight: 1, arbitrary: badId }, { weight: 1, arbitrary: fc.jsonValue() })
  const data = fc.oneof(fc.jsonValue({ maxDepth: 3 }), fc.constant({ sdp: 'v=0\r\n', type: 'offer' }), fc.constant({ __proto__: { x: 1 } }))
  const who = fc.integer({ min: 0, max: pool.proofs - 1 })
  const valid = fc.oneof(
    // A coherent join (id, key and fresh signature of one identity) or a mix that should fail its proof.
    who.map((i) => ({ type: 'join', id: pool.ids[i], key: `@key${i}@`, sig: `@sig${i}now@` })),
    fc.record({ type: fc.constant('join'), id: goodId, key: who.map((i) => `@key${i}@`), sig: fc.tuple(who, fc.constantFrom('now', 'old')).map(([i, k]) => `@sig${i}${k}@`) }),
    fc.record({ type: fc.constant('signal'), to: goodId, data }),
    fc.constant({ type: 'leave' }),
    fc.record({
      type: fc.constant('report'),
      successors: fc.array(goodId, { maxLength: 3 }),
      predecessor: fc.option(goodId),
      fingers: fc.array(fc.record({ row: fc.integer({ min: 0, max: 47 }), id: goodId }), { maxLength: 3 }),
    }),
  )
  /** A valid message with one field dropped, retyped or added. */
  const mutatedObject = fc.tuple(valid, fc.nat(), fc.constantFrom('drop', 'retype', 'add', 'type'), anyId, fc.jsonValue({ maxDepth: 2 })).map(([msg, n, how, id, junk]) => {
    const m: Record<string, unknown> = { ...msg }
    const keys = Object.keys(m)
    const key = keys[n % keys.length]
    if (how === 'drop') delete m[key]
    else if (how === 'retype') m[key] = key === 'to' || key === 'id' ? id : junk
    else if (how === 'add') m[['from', 'id', 'to', 'data', '__proto__', 'constructor'][n % 6]] = key === 'type' ? junk : id
    else m.type = ['JOIN', 'signal ', 'hello', 'toString', '__proto__', 'constructor', 'hasOwnProperty', ''][n % 8]
    return m
  })
  /** A valid message's text with a character deleted, replaced, inserted, or cut short. */
  const mutatedText = fc.tuple(valid, fc.nat(), fc.constantFrom('delete', 'replace', 'insert', 'cut'), fc.constantFrom('"', '{', '}', ':', ',', '\\', 'x', '0', ' ', '\u0000', '\u2028')).map(([msg, n, how, ch]) => {
    const text = JSON.stringify(msg)
    const i = n % text.length
    if (how === 'delete') return text.slice(0, i) + text.slice(i + 1)
    if (how === 'replace') return text.slice(0, i) + ch + text.slice(i + 1)
    if (how === 'insert') return text.slice(0, i) + ch + text.slice(i)
    return text.slice(0, i)
  })
  const asText = (s: string): Sent => ({ text: s, binary: false })
  return fc.oneof(
    { weight: 4, arbitrary: valid.map((m) => asText(JSON.stringify(m))) },
    { weight: 3, arbitrary: mutatedObject.map((m) => asText(JSON.stringify(m))) },
    { weight: 2, arbitrary: mutatedText.map(asText) },
    { weight: 1, arbitrary: fc.json({ maxDepth: 3 }).map(asText) },
    { weight: 1, arbitrary: fc.anything({ maxDepth: 3 }).map((v) => asText(JSON.stringify(v) ?? 'undefined')) },
    { weight: 1, arbitrary: fc.string({ maxLength: 40 }).map(asText) },
    { weight: 1, arbitrary: fc.uint8Array({ maxLength: 64 }).map((b) => ({ text: Buffer.from(b).toString(), binary: false as const })) },
    { weight: 1, arbitrary: fc.uint8Array({ maxLength: 64 }).map((b) => ({ bytes: Buffer.from(b), binary: true as const })) },
  )
}

/**
 * What the contract says the server does with one message from a client
 * joined as `self` (null: not joined), given the ids others hold: an error
 * code, or the effect (joined as id, relayed to a target, left, reported).
 */
type Expected =
  | { error: string; orId?: boolean }
  | { joined: string }
  | { relay: string; data: unknown }
  | { left: true }
  | { report: true }

function expected(sent: Sent, self: string | null, taken: (id: string) => boolean, proofs: Proofs): Expected {
  if (sent.binary) return { error: 'BAD_MESSAGE' }
  let msg: unknown
  try {
    msg = JSON.parse(sent.text)
  } catch {
    return { error: 'BAD_MESSAGE' }
  }
  if (!isObject(msg) || typeof msg.type !== 'string') return { error: 'BAD_MESSAGE' }
  switch (msg.type) {
    case 'join': {
      // Schema first (every field present, then id, key, sig in that order), then the proof, then the registry.
      if (!['id', 'key', 'sig'].every((k) => has(msg, k)) || typeof msg.id !== 'string') return { error: 'BAD_MESSAGE' }
      if (!isId(msg.id)) return { error: 'BAD_ID' }
      if (typeof msg.key !== 'string' || !KEY.test(msg.key) || typeof msg.sig !== 'string' || !SIG.test(msg.sig)) return { error: 'BAD_MESSAGE' }
      if (self !== null) return { error: 'BAD_MESSAGE' }
      const owner = proofs.keyOwner(msg.key)
      if (owner === undefined || proofs.ids[owner] !== msg.id) return { error: 'BAD_ID' }
      if (!proofs.proves(msg.sig, owner)) return { error: 'BAD_PROOF' }
      return taken(msg.id) ? { error: 'ID_TAKEN' } : { joined: msg.id }
    }
    case 'signal':
      if (!has(msg, 'to') || !has(msg, 'data') || typeof msg.to !== 'string') return { error: 'BAD_MESSAGE' }
      if (!isId(msg.to)) return { error: 'BAD_ID' }
      if (self === null) return { error: 'NOT_JOINED' }
      return taken(msg.to) || msg.to === self ? { relay: msg.to, data: msg.data } : { error: 'UNKNOWN_PEER' }
    case 'leave':
      return self === null ? { error: 'NOT_JOINED' } : { left: true }
    case 'report':
      // An extension with a larger schema: any coded error the contract lists, or stored.
      return { report: true }
    default:
      return { error: 'BAD_MESSAGE' }
  }
}

/** Hints (an extension: "a closer successor exists") may come at any time; they are checked for shape and set aside. */
function withoutHints(out: Msg[]): Msg[] {
  return out.filter((m) => {
    if (m.type !== 'hint') return true
    expect(isId(m.successor)).toBe(true)
    return false
  })
}

/** The nonce of the latest challenge a connection got. */
function nonceOf(c: Conn): string {
  const challenge = [...c.out].reverse().find((m) => m.type === 'challenge')
  if (challenge === undefined || typeof challenge.nonce !== 'string') throw new Error('no challenge on this connection')
  return challenge.nonce
}

function splitChallenges(out: Msg[]): { replies: Msg[]; challenges: string[] } {
  const challenges = out.filter((m) => m.type === 'challenge').map((m) => m.nonce as string)
  challenges.forEach((n) => expect(n).toMatch(/^[A-Za-z0-9_-]{43}$/))
  return { replies: out.filter((m) => m.type !== 'challenge'), challenges }
}

/** Whether the server reads this text as a join (JSON object whose type is "join"). */
function isJoin(text: string): boolean {
  try {
    const m: unknown = JSON.parse(text)
    return isObject(m) && m.type === 'join'
  } catch {
    return false
  }
}

describe('signal server message handling, in process (10,000 arbitrary messages)', () => {
  it('never throws; answers each message with a coded error or its effect; the registry stays consistent; other peers are unaffected', async () => {
    const s = await inProcess()
    try {
      // Three well-behaved peers that stay joined throughout, and one connection that sends anything.
      // Identities 0–2 are theirs (the fuzzer's joins with them get ID_TAKEN), 3–5 free.
      const proofs = new Proofs(Array.from({ length: 6 }, newIdentity))
      const others = proofs.ids.slice(0, 3)
      const peers: Conn[] = []
      for (let i = 0; i < others.length; i++) peers.push(await s.connect())
      for (const [i, p] of peers.entries()) s.say(p, await proofs.fill(JSON.stringify({ type: 'join', id: others[i], key: `@key${i}@`, sig: `@sig${i}now@` }), nonceOf(p), ''))
      peers.forEach((p, i) => expect(p.out.splice(0)).toEqual([expect.objectContaining({ type: 'challenge' }), expect.objectContaining({ type: 'joined', id: others[i] })]))
      const fuzzer = await s.connect()
      let self: string | null = null
      const pool = { ids: [...proofs.ids, '000000000001', 'abcdefabcdef'], proofs: proofs.identities.length }
      let nonce = nonceOf(fuzzer)
      let oldNonce = nonce
      fuzzer.out.splice(0)
      let runs = 0

      const checkRegistry = async () => {
        const ring = (await (await fetch(`${s.http}/ring`)).json()) as { peers: string[] }
        expect(ring.peers).toEqual([...others, ...(self === null ? [] : [self])].sort())
        const health = (await (await fetch(`${s.http}/health`)).json()) as { peers: number }
        expect(health.peers).toBe(ring.peers.length)
      }

      await fc.assert(
        fc.asyncProperty(messagesArb(pool), async (generated) => {
          const sent: Sent = generated.binary ? generated : { text: await proofs.fill(generated.text, nonce, oldNonce), binary: false }
          const want = expected(sent, self, (id) => others.includes(id), proofs)
          if (sent.binary) s.say(fuzzer, sent.bytes, true)
          else s.say(fuzzer, sent.text)
          const { replies: got, challenges } = splitChallenges(withoutHints(fuzzer.out.splice(0)))
          // A new challenge after every refused join and every leave, and only then.
          const refusedJoin = 'error' in want && !sent.binary && isJoin(sent.text)
          expect(challenges.length).toBe(refusedJoin || 'left' in want ? 1 : 0)
          if (challenges.length === 1) {
            oldNonce = nonce
            nonce = challenges[0]
          }
          const relayed = peers.map((p) => withoutHints(p.out.splice(0)))
          // Nobody was ever closed: errors leave the connection open.
          expect([fuzzer, ...peers].map((p) => p.closes)).toEqual([[], [], [], []])

          if ('error' in want) {
            expect(got).toEqual([{ type: 'error', code: want.error, message: expect.any(String) }])
          } else if ('joined' in want) {
            expect(got).toHaveLength(1)
            const reply = got[0] as { type: string; id: string; successors: unknown[]; predecessor: unknown; peers: number }
            expect(reply).toMatchObject({ type: 'joined', id: want.joined, peers: others.length + 1 })
            expect(reply.successors.every(isId) && !reply.successors.includes(want.joined)).toBe(true)
            expect(reply.predecessor === null || isId(reply.predecessor)).toBe(true)
            self = want.joined
          } else if ('relay' in want) {
            const signal = { type: 'signal', from: self, data: want.data }
            // To itself: it arrives on its own connection; to another: there, and nothing comes back.
            expect(got).toEqual(want.relay === self ? [JSON.parse(JSON.stringify(signal))] : [])
            others.forEach((id, i) => expect(relayed[i]).toEqual(id === want.relay ? [JSON.parse(JSON.stringify(signal))] : []))
          } else if ('left' in want) {
            expect(got).toEqual([])
            self = null
          } else {
            // report: stored (no answer) or refused with a code the contract lists.
            expect(got.length).toBeLessThanOrEqual(1)
            if (got.length === 1) {
              expect(got[0]).toEqual({ type: 'error', code: expect.any(String), message: expect.any(String) })
              expect(['BAD_MESSAGE', 'BAD_ID', 'NOT_JOINED']).toContain(got[0].code)
              if (self === null) expect(got[0].code).not.toBe('RATE_LIMITED')
            }
          }
          if (!('relay' in want)) expect(relayed).toEqual([[], [], []])
          for (const m of got) if (m.type === 'error') expect(ERROR_CODES).toContain(m.code)

          if (++runs % 100 === 0) {
            // The others still talk to each other, as themselves.
            s.say(peers[0], JSON.stringify({ type: 'signal', to: others[2], data: { probe: runs } }))
            expect(peers[2].out.splice(0)).toEqual([{ type: 'signal', from: others[0], data: { probe: runs } }])
          }
          if (runs % 500 === 0) await checkRegistry()
        }),
        { numRuns: 10_000, seed: 6, endOnFailure: true },
      )
      await checkRegistry()
      expect(runs).toBe(10_000)
    } finally {
      await s.app.close()
    }
  })
})

describe('signal server over a real WebSocket (500 arbitrary messages on one connection)', () => {
  let server: Started
  const clients: Client[] = []
  beforeAll(async () => {
    server = await start({ rateLimit: false })
  })
  afterAll(async () => {
    await Promise.all(clients.map((c) => c.close()))
    await server.app.close()
  })

  it('answers each with a coded error or its effect, keeps the connection open, and keeps serving well-behaved clients', async () => {
    const a = await Client.open(server.url)
    const b = await Client.open(server.url)
    const fuzzer = await Client.open(server.url)
    clients.push(a, b, fuzzer)
    const proofs = new Proofs(Array.from({ length: 3 }, newIdentity))
    const [ida, idb] = proofs.ids
    await a.join(proofs.identities[0])
    await b.join(proofs.identities[1])
    const fuzzerIds = new Set<string>()
    const messages = fc.sample(messagesArb({ ids: proofs.ids, proofs: 3 }), { numRuns: 500, seed: 7 })
    for (const [i, sent] of messages.entries()) {
      if (sent.binary) fuzzer.ws.send(sent.bytes, { binary: true })
      else fuzzer.ws.send(await proofs.fill(sent.text, await fuzzer.nonce(), fuzzer.challenges[0] ?? ''))
      // A sentinel the server always answers the same way marks the end of this case's replies.
      const sentinel = `zz-sentinel-${i}`
      fuzzer.send({ type: sentinel })
      for (;;) {
        const m = await fuzzer.next()
        if (m.type === 'error' && typeof m.message === 'string' && m.message.includes(sentinel)) {
          expect(m.code).toBe('BAD_MESSAGE')
          break
        }
        if (m.type === 'error') expect(ERROR_CODES).toContain(m.code)
        else if (m.type === 'joined') fuzzerIds.add(m.id as string)
        else expect(['signal', 'hint']).toContain(m.type)
      }
      expect(fuzzer.ws.readyState).toBe(WebSocket.OPEN)
      if (i % 50 === 49) {
        a.send({ type: 'signal', to: idb, data: { probe: i } })
        // b sees the probe, after any signals the fuzzer was allowed to relay to it (from its own joined id only).
        for (;;) {
          const m = await b.next()
          expect(m.type).toBe('signal')
          if (m.from === ida) {
            expect(m).toEqual({ type: 'signal', from: ida, data: { probe: i } })
            break
          }
          expect(fuzzerIds.has(m.from as string)).toBe(true)
        }
      }
    }
    await assertStillServing(server.url)
  })
})
