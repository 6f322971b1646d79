import WebSocket from 'ws'
import type { AddressInfo } from 'node:net'
import type { FastifyInstance } from 'fastify'
import { createSignalServer, type SignalServerOptions } from '../../signal-server'
import { newIdentity, signAs, toBase64url, type Identity } from '../../src/identity'
import { joinProofText } from '../../src/protocol/signal-server'

export interface Started {
  app: FastifyInstance
  url: string
  http: string
}

/**
 * A server on a free loopback port. Every test client comes from 127.0.0.1,
 * so per-address admission is off unless a test asks for it (admission.test.ts does).
 */
export async function start(options: SignalServerOptions = {}): Promise<Started> {
  const app = createSignalServer({ admission: false, ...options })
  await app.listen({ port: 0, host: '127.0.0.1' })
  const { port } = app.server.address() as AddressInfo
  return { app, url: `ws://127.0.0.1:${port}/ws`, http: `http://127.0.0.1:${port}` }
}

export type Msg = Record<string, unknown>

/**
 * A real ws client that queues every text message so tests can await them in
 * order. Challenges are kept apart (`nonce`, `challenges`): a join answers the
 * latest one, and tests read replies without stepping over them.
 */
export class Client {
  readonly ws: WebSocket
  private readonly queue: Msg[] = []
  private readonly waiters: Array<(m: Msg) => void> = []
  /** Every challenge nonce received, oldest first. */
  readonly challenges: string[] = []
  private readonly challengeWaiters: Array<() => void> = []
  readonly opened: Promise<void>
  readonly closed: Promise<{ code: number; reason: string }>

  constructor(url: string, options: WebSocket.ClientOptions = {}) {
    this.ws = new WebSocket(url, options)
    this.ws.on('error', () => undefined)
    this.opened = new Promise((resolve, reject) => {
      this.ws.once('open', () => resolve())
      this.ws.once('unexpected-response', (_req, res) => reject(new Error(`HTTP ${res.statusCode}`)))
      this.ws.once('error', reject)
    })
    this.closed = new Promise((resolve) =>
      this.ws.once('close', (code, reason) => resolve({ code, reason: reason.toString() })),
    )
    this.ws.on('message', (data) => {
      const m = JSON.parse(data.toString()) as Msg
      if (m.type === 'challenge' && typeof m.nonce === 'string') {
        this.challenges.push(m.nonce)
        this.challengeWaiters.splice(0).forEach((w) => w())
        return
      }
      const w = this.waiters.shift()
      if (w) w(m)
      else this.queue.push(m)
    })
  }

  static async open(url: string, options?: WebSocket.ClientOptions): Promise<Client> {
    const c = new Client(url, options)
    await c.opened
    return c
  }

  send(value: unknown): void {
    this.ws.send(typeof value === 'string' ? value : JSON.stringify(value))
  }

  next(): Promise<Msg> {
    const m = this.queue.shift()
    if (m) return Promise.resolve(m)
    return new Promise((resolve) => this.waiters.push(resolve))
  }

  /** Sends and returns the next reply. */
  async request(value: unknown): Promise<Msg> {
    this.send(value)
    return this.next()
  }

  /** The latest challenge's nonce (waits for the first). */
  async nonce(): Promise<string> {
    await this.challengeNumber(1)
    return this.challenges[this.challenges.length - 1]
  }

  /** The n-th challenge of this connection (1: the one on connect), once it has arrived. */
  async challengeNumber(n: number): Promise<string> {
    while (this.challenges.length < n) await new Promise<void>((resolve) => this.challengeWaiters.push(resolve))
    return this.challenges[n - 1]
  }

  /** Sends what opens a new challenge (a leave, a join the server will refuse); resolves with the reply (null for a leave) once that challenge arrived. */
  async refreshing(value: unknown): Promise<Msg | null> {
    const count = this.challenges.length
    const isLeave = typeof value === 'object' && value !== null && (value as Msg).type === 'leave'
    const reply = isLeave ? (this.send(value), null) : await this.request(value)
    await this.challengeNumber(count + 1)
    return reply
  }

  /** A join message proving `who`'s key for `nonce` (default: the latest challenge). */
  async joinMessage(who: string | Identity, nonce?: string): Promise<{ type: 'join'; id: string; key: string; sig: string }> {
    const identity = identityOf(who)
    const n = nonce ?? (await this.nonce())
    const sig = await signAs(identity, new TextEncoder().encode(joinProofText(n, identity.id)))
    return { type: 'join', id: identity.id, key: toBase64url(identity.publicKey), sig: toBase64url(sig) }
  }

  /** Joins as `who` (an identity, or an id from freshId()/freshIds()); throws unless joined. */
  async join(who: string | Identity): Promise<Msg> {
    const reply = await this.tryJoin(who)
    if (reply.type !== 'joined') throw new Error(`join ${identityOf(who).id} failed: ${JSON.stringify(reply)}`)
    return reply
  }

  /** Sends a valid join for the latest challenge and returns the reply, whatever it is. */
  async tryJoin(who: string | Identity): Promise<Msg> {
    const count = this.challenges.length
    const reply = await this.request(await this.joinMessage(who))
    // A refusal opens a new challenge: wait for it, so the next join signs that one.
    if (reply.type !== 'joined') await this.challengeNumber(count + 1)
    return reply
  }

  /** Messages received and not yet consumed. */
  get pending(): number {
    return this.queue.length
  }

  async close(): Promise<void> {
    if (this.ws.readyState === WebSocket.CLOSED) return
    if (this.ws.readyState !== WebSocket.CLOSING) this.ws.close()
    await this.closed
  }
}

/** The clients a test opens, closed together after it (so a failing test leaks no connection into the next). */
export class ClientPool {
  private readonly clients: Client[] = []

  async open(url: string, options?: WebSocket.ClientOptions): Promise<Client> {
    return this.add(await Client.open(url, options))
  }

  /** A client opened elsewhere (e.g. by Client.join) that this pool closes too. */
  add(client: Client): Client {
    this.clients.push(client)
    return client
  }

  async closeAll(): Promise<void> {
    await Promise.all(this.clients.splice(0).map((c) => c.close()))
  }
}

/** Ids cannot be chosen (they are derived from keys): tests draw identities and refer to them by id. */
const identities = new Map<string, Identity>()

export function freshIdentity(): Identity {
  const identity = newIdentity()
  identities.set(identity.id, identity)
  return identity
}

/** The id of a fresh identity (Client.join finds its key). */
export const freshId = (): string => freshIdentity().id

/** `count` fresh ids in ring order (ascending). */
export const freshIds = (count: number): string[] => Array.from({ length: count }, freshId).sort()

function identityOf(who: string | Identity): Identity {
  if (typeof who !== 'string') return who
  const identity = identities.get(who)
  if (identity === undefined) throw new Error(`no test identity has id ${who}: draw ids with freshId()`)
  return identity
}

/**
 * Proof that the server still serves everyone: two brand-new clients join
 * and one relays a signal to the other, which gets it with the right `from`.
 */
export async function assertStillServing(url: string): Promise<void> {
  const a = await Client.open(url)
  const b = await Client.open(url)
  try {
    const ida = freshId()
    const idb = freshId()
    await a.join(ida)
    await b.join(idb)
    a.send({ type: 'signal', to: idb, data: { probe: ida } })
    const got = await b.next()
    expect(got).toEqual({ type: 'signal', from: ida, data: { probe: ida } })
  } finally {
    await Promise.all([a.close(), b.close()])
  }
}

/**
 * Retries an async check until it stops throwing. For state that changes on
 * the server after a client-side event (e.g. a close being processed); the
 * bound is jest's own test timeout, never a wall-clock threshold here.
 */
export async function eventually(check: () => Promise<void> | void, attempts = 1000): Promise<void> {
  for (let i = 1; ; i++) {
    try {
      await check()
      return
    } catch (err) {
      if (i >= attempts) throw err
      await new Promise((resolve) => setTimeout(resolve, 10))
    }
  }
}
