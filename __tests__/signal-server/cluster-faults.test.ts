import type { Explorer } from '../../src'
import { MemoryNetwork } from '../../src/transport/memory'
import { memoryExplorers, ringCorrect, waitFor } from '../explorer/helpers'
import { freePort } from '../helpers/redis-server'
import { TcpBalancer } from '../helpers/tcp-balancer'
import { MAX_PENDING_BYTES } from '../../signal-server/redis/relay-batch'
import { run, started, type Run } from './cli-run'
import { getJson, redisForSuite, metric, startCluster } from './cluster-helpers'
import { Client, ClientPool, eventually, freshId, type Msg, type Started } from './helpers'

const sorted = (ids: readonly string[]) => [...ids].sort()
const ringPeers = async (http: string) => (await getJson(`${http}/ring`)).body.peers as string[]

/** Reads `client`'s messages until one matches; earlier ones are skipped. */
async function nextMatching(client: Client, match: (m: Msg) => boolean): Promise<Msg> {
  for (;;) {
    const m = await client.next()
    if (match(m)) return m
  }
}

describe('cluster faults (real redis-server, instances on loopback)', () => {
  const redis = redisForSuite()
  const runs: Run[] = []
  const clients = new ClientPool()
  let explorers: Explorer[] = []
  let instances: Started[] = []
  let balancer: TcpBalancer | null = null

  const open = (url: string) => clients.open(url)

  afterEach(async () => {
    await Promise.all(explorers.map((e) => e.close()))
    explorers = []
    await clients.closeAll()
    await Promise.all(instances.map((i) => i.app.close()))
    instances = []
    await balancer?.close()
    balancer = null
    for (const r of runs.splice(0)) if (r.child.exitCode === null && r.child.signalCode === null) r.child.kill('SIGKILL')
  })

  it('an instance SIGKILLed: its ids are free once its lease ran out, and its peers come back through another instance (URL list, or one URL behind a load balancer)', async () => {
    const ports = [await freePort(), await freePort(), await freePort()]
    const urls = ports.map((p) => `ws://127.0.0.1:${p}/ws`)
    const http = ports.map((p) => `http://127.0.0.1:${p}`)
    const instance = (port: number) => {
      const r = run(['--port', String(port), '--host', '127.0.0.1', '--redis', redis().url])
      runs.push(r)
      return r
    }
    // Only the first instance is up: every peer joins there, whichever way it comes in.
    const doomed = instance(ports[0])
    await started(doomed)
    balancer = await TcpBalancer.start(ports)
    const network = new MemoryNetwork()
    explorers = [...memoryExplorers(urls, 3, network), ...memoryExplorers(`ws://127.0.0.1:${balancer.port}/ws`, 3, network)]
    await Promise.all(explorers.map((e) => e.listen()))
    const raw = await open(urls[0])
    const rawId = freshId()
    await raw.join(rawId)
    const everyone = sorted([...explorers.map((e) => e.id), rawId])
    expect(sorted(await ringPeers(http[0]))).toEqual(everyone)

    await Promise.all([started(instance(ports[1])), started(instance(ports[2]))])
    doomed.child.kill('SIGKILL')
    await doomed.exited

    // The dead instance's lease still runs: its ids are owned until it ends, whatever its sockets did.
    const probe = await open(urls[1])
    expect(await probe.tryJoin(rawId)).toMatchObject({ type: 'error', code: 'ID_TAKEN' })
    // Then they are free.
    await waitFor(async () => (await probe.tryJoin(rawId)).type === 'joined', 30_000, `${rawId} to be free`)
    // Every peer of the dead instance registered again through the other two (the registry lists the
    // dead instance's ids until they are reaped, so count the live instances' own peers), and the ring held together.
    const joinedAtLive = async () => {
      const health = await Promise.all(http.slice(1).map(async (h) => (await getJson(`${h}/health`)).body))
      return health.reduce((n, h) => n + (h.instancePeers as number), 0)
    }
    await waitFor(async () => (await joinedAtLive()) === everyone.length, 30_000, 'every peer registered again')
    expect(sorted(await ringPeers(http[1]))).toEqual(everyone)
    expect(sorted(await ringPeers(http[2]))).toEqual(everyone)
    expect(ringCorrect(explorers)).toBe(true)
  }, 90_000)

  it('an instance frozen past its lease: an id taken over meanwhile is dropped there when it wakes, so no id is owned twice', async () => {
    const ports = [await freePort(), await freePort()]
    const [urlA, urlB] = ports.map((p) => `ws://127.0.0.1:${p}/ws`)
    const [frozen, other] = ports.map((port) => {
      const r = run(['--port', String(port), '--host', '127.0.0.1', '--redis', redis().url])
      runs.push(r)
      return r
    })
    await Promise.all([started(frozen), started(other)])
    const [id, kept] = [freshId(), freshId()]
    const holder = await open(urlA)
    await holder.join(id)
    const keeper = await open(urlA)
    await keeper.join(kept)
    // Joined before the usurper's retries below spend this address's join tokens at B.
    const probe = await open(urlB)
    await probe.join(freshId())

    frozen.child.kill('SIGSTOP')
    const usurper = await open(urlB)
    await waitFor(async () => (await usurper.tryJoin(id)).type === 'joined', 30_000, `${id} to be taken over`)
    frozen.child.kill('SIGCONT')
    // Awake, it finds its lease lapsed and registers its peers again: the one whose id is owned elsewhere now is dropped.
    expect(await holder.next()).toMatchObject({ type: 'error', code: 'ID_TAKEN' })
    expect((await holder.closed).code).toBe(1001)
    // The other was registered again in the same step, and each id reaches exactly its one holder.
    probe.send({ type: 'signal', to: kept, data: 'to the keeper' })
    expect(await keeper.next()).toMatchObject({ type: 'signal', data: 'to the keeper' })
    probe.send({ type: 'signal', to: id, data: 'to the usurper' })
    expect(await usurper.next()).toMatchObject({ type: 'signal', data: 'to the usurper' })
  }, 60_000)

  it('Redis stopped and started: instances keep serving their own peers, refuse what needs Redis, and re-register when it is back', async () => {
    instances = await startCluster(redis().url, 3, { rateLimit: false })
    const [ida1, ida2, idb, idc] = [freshId(), freshId(), freshId(), freshId()]
    const a1 = await open(instances[0].url)
    const a2 = await open(instances[0].url)
    const b = await open(instances[1].url)
    const c = await open(instances[2].url)
    await a1.join(ida1)
    await a2.join(ida2)
    await b.join(idb)
    await c.join(idc)
    const report = { successors: [idb], predecessor: idc, fingers: [] }
    a1.send({ type: 'report', ...report })
    await eventually(async () => expect((await getJson(`${instances[2].http}/ring`)).body.reports).toHaveProperty(ida1))

    await redis().stop()
    await eventually(async () => {
      expect((await getJson(`${instances[0].http}/health`)).body).toMatchObject({ status: 'degraded', redis: 'down', instancePeers: 2 })
    })
    // Its own peers still reach each other.
    a1.send({ type: 'signal', to: ida2, data: 'local' })
    expect(await a2.next()).toEqual({ type: 'signal', from: ida1, data: 'local' })
    // What needs the registry is refused, with a code.
    expect(await a1.request({ type: 'signal', to: idb, data: 'far' })).toMatchObject({ type: 'error', code: 'REGISTRY_UNAVAILABLE' })
    expect(await (await open(instances[1].url)).tryJoin(freshId())).toMatchObject({ type: 'error', code: 'REGISTRY_UNAVAILABLE' })
    expect((await getJson(`${instances[2].http}/ring`)).status).toBe(503)
    // A peer that leaves meanwhile must not come back with the others.
    a2.send({ type: 'leave' })

    await redis().restart()
    // The new Redis is empty: every instance registers its peers (and their reports) again.
    await eventually(async () => {
      const ring = (await getJson(`${instances[2].http}/ring`)).body
      expect(ring.peers).toEqual(sorted([ida1, idb, idc]))
      expect(ring.reports).toEqual({ [ida1]: { ...report, at: expect.any(Number) } })
    })
    a1.send({ type: 'signal', to: idb, data: 'far again' })
    expect(await b.next()).toEqual({ type: 'signal', from: ida1, data: 'far again' })
    // Ownership is back too: the id is still unique across instances, and the one that left is free.
    expect(await (await open(instances[2].url)).tryJoin(idb)).toMatchObject({ type: 'error', code: 'ID_TAKEN' })
    expect(await (await open(instances[1].url)).tryJoin(ida2)).toMatchObject({ type: 'joined' })
    expect((await getJson(`${instances[0].http}/health`)).body).toMatchObject({ status: 'ok', redis: 'up' })
  })

  it('an instance started while Redis is down refuses joins with REGISTRY_UNAVAILABLE, and registers once Redis is up', async () => {
    await redis().stop()
    instances = await startCluster(redis().url, 1, {}, { commandTimeoutMs: 200 })
    const c = await open(instances[0].url)
    const id = freshId()
    expect(await c.tryJoin(id)).toMatchObject({ type: 'error', code: 'REGISTRY_UNAVAILABLE' })
    expect((await getJson(`${instances[0].http}/health`)).body).toMatchObject({ status: 'degraded', redis: 'down' })
    await redis().restart()
    await eventually(async () => expect(await c.tryJoin(id)).toMatchObject({ type: 'joined', id }))
  })

  it('signals waiting on a stalled Redis are bounded: past 64 MiB pending, more are refused at once; the rest arrive', async () => {
    // As docs/signal-server.md advises for bursts of large signals: Redis's default (32 MB) would
    // disconnect a receiving instance that lags that far (and lose what it had not read).
    await redis().configure('client-output-buffer-limit', 'pubsub 256mb 64mb 60')
    // The receiving test client reads slowly (it parses every 512 KiB frame): not a stuck peer here.
    instances = await startCluster(redis().url, 2, { rateLimit: false, maxPayload: 1 << 20, maxBufferedBytes: 1 << 30 }, { commandTimeoutMs: 20_000 })
    const a = await open(instances[0].url)
    const b = await open(instances[1].url)
    const [ida, idb] = [freshId(), freshId()]
    await a.join(ida)
    await b.join(idb)
    redis().pause()
    // 160 × 512 KiB = 80 MiB: the last ones find the bound reached.
    const sent = 160
    for (let n = 0; n < sent; n++) a.send({ type: 'signal', to: idb, data: 'x'.repeat(512 * 1024) })
    const refused = await a.next()
    expect(refused).toMatchObject({ type: 'error', code: 'REGISTRY_UNAVAILABLE' })
    expect(refused.message).toMatch(/not keeping up/)
    // Every signal handled (the join and the 48), the refusals are all counted.
    await eventually(async () => expect(await metric(instances[0].http, 'signal_messages_received_total')).toBe(1 + sent))
    const refusals = await metric(instances[0].http, 'signal_errors_total{code="REGISTRY_UNAVAILABLE"}')
    expect(refusals).toBeGreaterThanOrEqual(sent - Math.floor(MAX_PENDING_BYTES / (512 * 1024)))
    redis().resume()
    // What was accepted is delivered once Redis answers: a few batches at a time, so Redis
    // never holds enough at once to pass its limit on a subscriber's output buffer (32 MB).
    await eventually(async () => expect(await metric(instances[1].http, 'signal_relays_received_total')).toBe(sent - refusals))
  })

  it('a Redis that stops answering: claims and relays time out with REGISTRY_UNAVAILABLE, local signals go on, and all resumes', async () => {
    instances = await startCluster(redis().url, 2, { rateLimit: false }, { commandTimeoutMs: 300 })
    const [ida, idb] = [freshId(), freshId()]
    const a = await open(instances[0].url)
    const b = await open(instances[1].url)
    await a.join(ida)
    await b.join(idb)

    redis().pause()
    const stalled = freshId()
    const joiner = await open(instances[1].url)
    expect(await joiner.tryJoin(stalled)).toMatchObject({ type: 'error', code: 'REGISTRY_UNAVAILABLE' })
    expect(await a.request({ type: 'signal', to: idb, data: 'stalled' })).toMatchObject({ type: 'error', code: 'REGISTRY_UNAVAILABLE' })
    a.send({ type: 'signal', to: ida, data: 'to myself' })
    expect(await a.next()).toEqual({ type: 'signal', from: ida, data: 'to myself' })

    redis().resume()
    // The timed-out claim may still have run when Redis woke: it must not hold the id for ever.
    const other = await open(instances[0].url)
    await eventually(async () => expect(await other.tryJoin(stalled)).toMatchObject({ type: 'joined' }))
    a.send({ type: 'signal', to: idb, data: 'resumed' })
    expect(await nextMatching(b, (m) => m.data === 'resumed')).toEqual({ type: 'signal', from: ida, data: 'resumed' })
  })
})
