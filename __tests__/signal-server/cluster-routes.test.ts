import { ClientPool, eventually, freshId, type Msg, type Started } from './helpers'
import { metric, redisForSuite, startCluster } from './cluster-helpers'

/**
 * An instance learns from Redis which instance a peer is at and publishes
 * later signals for it there directly (relay-batch.ts). These tests make the
 * routes go stale in each way they can, against a real redis-server.
 */
describe('signal server cluster: routes to peers at other instances', () => {
  const redis = redisForSuite()
  let instances: Started[]
  const clients = new ClientPool()
  const open = (at: Started) => clients.open(at.url)
  const signals = (from: string, to: string, count: number) => Array.from({ length: count }, (_, n) => ({ type: 'signal', to, data: { from, n } }))

  beforeEach(async () => {
    instances = await startCluster(redis().url, 3, { rateLimit: false })
  })
  afterEach(async () => {
    await clients.closeAll()
    await Promise.all(instances.map((i) => i.app.close()))
  })

  /** a at instance 0 and b at instance 1; one signal a → b has taught instance 0 the route. */
  async function pairWithRoute(): Promise<{ a: Awaited<ReturnType<typeof open>>; b: Awaited<ReturnType<typeof open>>; ida: string; idb: string }> {
    const [ida, idb] = [freshId(), freshId()]
    const a = await open(instances[0])
    const b = await open(instances[1])
    await a.join(ida)
    await b.join(idb)
    a.send({ type: 'signal', to: idb, data: 'first' })
    expect(await b.next()).toMatchObject({ from: ida, data: 'first' })
    return { a, b, ida, idb }
  }

  it('after the first signal, signals to a peer at another instance skip the script: published straight to its instance, intact', async () => {
    const { a, b, ida, idb } = await pairWithRoute()
    // Text of every width crosses as the bytes that were sent.
    const data = { n: 0, text: 'ascii, é, 中文, 😀 '.repeat(50) }
    for (let n = 1; n <= 300; n++) a.send({ type: 'signal', to: idb, data: { ...data, n } })
    for (let n = 1; n <= 300; n++) expect(await b.next()).toEqual({ type: 'signal', from: ida, data: { ...data, n } })
    expect(await metric(instances[0].http, 'signal_relays_direct_total')).toBe(300)
    expect(await metric(instances[0].http, 'signal_relays_forwarded_total')).toBe(301)
  })

  it('a peer that moved to another instance: signals sent by the stale route come back and reach it there, in order', async () => {
    const { a, b, ida, idb } = await pairWithRoute()
    await b.close()
    const moved = await open(instances[2])
    await eventually(async () => expect(await moved.tryJoin(idb)).toMatchObject({ type: 'joined', id: idb }))
    for (const s of signals(ida, idb, 50)) a.send(s)
    const got: Msg[] = []
    for (let n = 0; n < 50; n++) got.push(await moved.next())
    expect(got.map((m) => (m.data as { n: number }).n)).toEqual([...Array(50).keys()])
    expect(await metric(instances[1].http, 'signal_relays_bounced_total')).toBe(50)
    // The route is learnt anew: later signals go straight to instance 2.
    const direct = await metric(instances[0].http, 'signal_relays_direct_total')
    a.send({ type: 'signal', to: idb, data: 'later' })
    expect(await moved.next()).toMatchObject({ data: 'later' })
    expect(await metric(instances[0].http, 'signal_relays_direct_total')).toBe(direct + 1)
  })

  it('a peer that left after its route was learnt: its sender gets UNKNOWN_PEER, as for any absent id', async () => {
    const { a, b, idb } = await pairWithRoute()
    await b.close()
    // Gone from the registry too (its release reached Redis).
    await eventually(async () => {
      const ring = (await (await fetch(`${instances[2].http}/ring`)).json()) as { peers: Array<{ id: string }> }
      expect(ring.peers.map((p) => p.id)).not.toContain(idb)
    })
    expect(await a.request({ type: 'signal', to: idb, data: 'anyone?' })).toMatchObject({ type: 'error', code: 'UNKNOWN_PEER' })
  })

  it('a route to an instance that is gone: the signal reaches the peer at the instance it joined again', async () => {
    const { a, b, ida, idb } = await pairWithRoute()
    // The instance stops: nobody listens on its channel any more, its ids are free at once.
    await instances[1].app.close()
    await b.closed
    const moved = await open(instances[2])
    await eventually(async () => expect(await moved.tryJoin(idb)).toMatchObject({ type: 'joined', id: idb }))
    for (const s of signals(ida, idb, 20)) a.send(s)
    for (let n = 0; n < 20; n++) expect((await moved.next()).data).toEqual({ from: ida, n })
  })
})
