import WebSocket from 'ws'
import type { AddressInfo } from 'node:net'
import type { FastifyInstance } from 'fastify'
import { createSignalServer, type SignalServerOptions } from '../../signal-server'

export interface Started {
  app: FastifyInstance
  url: string
  http: string
}

export async function start(options: SignalServerOptions = {}): Promise<Started> {
  const app = createSignalServer(options)
  await app.listen({ port: 0, host: '127.0.0.1' })
  const { port } = app.server.address() as AddressInfo
  return { app, url: `ws://127.0.0.1:${port}/ws`, http: `http://127.0.0.1:${port}` }
}

export type Msg = Record<string, unknown>

/** A real ws client that queues every text message so tests can await them in order. */
export class Client {
  readonly ws: WebSocket
  private readonly queue: Msg[] = []
  private readonly waiters: Array<(m: Msg) => void> = []
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

  async join(id: string): Promise<Msg> {
    const reply = await this.request({ type: 'join', id })
    if (reply.type !== 'joined') throw new Error(`join ${id} failed: ${JSON.stringify(reply)}`)
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

let counter = 0
/** A fresh valid id per call, unique within a test file. */
export const freshId = (): string => (0x100000000000 + ++counter * 7919).toString(16).padStart(12, '0')

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
