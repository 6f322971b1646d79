import Fastify, { type FastifyInstance } from 'fastify'
import type { AddressInfo } from 'node:net'
import { signalServerPlugin } from '../../signal-server'
import { Client, freshId } from './helpers'

const [A, B] = [freshId(), freshId()]

describe('signalServerPlugin: the server mounted in an existing Fastify app', () => {
  let app: FastifyInstance
  let base: string
  beforeEach(async () => {
    app = Fastify()
    app.get('/', async () => ({ app: 'mine' }))
    await app.register(signalServerPlugin, { prefix: '/p2p', rateLimit: false })
    await app.listen({ port: 0, host: '127.0.0.1' })
    base = `127.0.0.1:${(app.server.address() as AddressInfo).port}`
  })
  afterEach(() => app.close())

  it('serves /ws, /health and /ring under its prefix, and relays signals between peers', async () => {
    const a = await Client.open(`ws://${base}/p2p/ws`)
    const b = await Client.open(`ws://${base}/p2p/ws`)
    await a.join(A)
    await b.join(B)
    a.send({ type: 'signal', to: B, data: 'through the plugin' })
    expect(await b.next()).toEqual({ type: 'signal', from: A, data: 'through the plugin' })
    expect(await (await fetch(`http://${base}/p2p/health`)).json()).toEqual({ status: 'ok', peers: 2 })
    expect((await (await fetch(`http://${base}/p2p/ring`)).json()).peers).toEqual([A, B].sort())
  })

  it('leaves the app\'s own routes alone and adds nothing outside its prefix', async () => {
    expect(await (await fetch(`http://${base}/`)).json()).toEqual({ app: 'mine' })
    expect((await fetch(`http://${base}/health`)).status).toBe(404)
  })

  it('closes its peers with 1001 when the app closes', async () => {
    const a = await Client.open(`ws://${base}/p2p/ws`)
    await a.join(A)
    await app.close()
    expect((await a.closed).code).toBe(1001)
  })

  it('refuses bad options at registration', async () => {
    const other = Fastify()
    other.register(signalServerPlugin, { maxPeers: 0 })
    await expect(other.ready()).rejects.toThrow(/maxPeers/)
    await other.close()
  })
})
