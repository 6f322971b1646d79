import { Client, ClientPool, eventually, freshId, freshIdentity, freshIds, start, type Msg, type Started } from './helpers'
import { getJson, redisForSuite, metric, startCluster } from './cluster-helpers'

/** Three instances on loopback sharing one real redis-server (Debian's, started here on a free port). */
describe('signal server cluster over Redis', () => {
  const redis = redisForSuite()
  let instances: Started[]
  const clients = new ClientPool()
  const open = (at: Started) => clients.open(at.url)

  beforeEach(async () => {
    instances = await startCluster(redis().url, 3, { rateLimit: false })
  })
  afterEach(async () => {
    await clients.closeAll()
    await Promise.all(instances.map((i) => i.app.close()))
  })

  it('peers spread over three instances: a joiner sees the whole ring, and signals cross instances', async () => {
    // Ids in ring order; the last one joins last, after all the others.
    const drawn = freshIds(10)
    const ids = drawn.slice(0, 9)
    const peers: Array<{ id: string; client: Client }> = []
    for (const [i, id] of ids.entries()) {
      const client = await open(instances[i % 3])
      await client.join(id)
      peers.push({ id, client })
    }
    // The last joiner's reply lists peers from every instance, as one registry would.
    const last = await (await open(instances[0])).join(drawn[9])
    expect(last).toMatchObject({ successors: ids.slice(0, 8), predecessor: ids[8], peers: 10 })

    // Every peer signals every other: all arrive, in order per sender, stamped with the sender's id.
    for (const from of peers) for (const to of peers) if (to !== from) from.client.send({ type: 'signal', to: to.id, data: { from: from.id, n: 1 } })
    for (const to of peers) {
      const got: Msg[] = []
      for (let k = 0; k < peers.length - 1; k++) got.push(await to.client.next())
      expect(got.map((m) => m.from).sort()).toEqual(ids.filter((id) => id !== to.id).sort())
      for (const m of got) expect(m).toEqual({ type: 'signal', from: m.from, data: { from: m.from, n: 1 } })
    }
    // Two thirds of those crossed instances, through Redis.
    const forwarded = await Promise.all(instances.map((i) => metric(i.http, 'signal_relays_forwarded_total')))
    const received = await Promise.all(instances.map((i) => metric(i.http, 'signal_relays_received_total')))
    expect(forwarded.reduce((a, b) => a + b)).toBe(9 * 8 - 3 * 3 * 2)
    expect(received.reduce((a, b) => a + b)).toBe(9 * 8 - 3 * 3 * 2)
  })

  it('signals to another instance keep their order, over many batches', async () => {
    const a = await open(instances[0])
    const b = await open(instances[1])
    await a.join(freshId())
    const idb = freshId()
    await b.join(idb)
    for (let n = 0; n < 2000; n++) a.send({ type: 'signal', to: idb, data: n })
    for (let n = 0; n < 2000; n++) expect((await b.next()).data).toBe(n)
  })

  it('an id is unique across instances: a second holder anywhere is refused, and it is free everywhere once left', async () => {
    const id = freshId()
    const holder = await open(instances[0])
    await holder.join(id)
    for (const other of instances) {
      expect(await (await open(other)).tryJoin(id)).toMatchObject({ type: 'error', code: 'ID_TAKEN' })
    }
    holder.send({ type: 'leave' })
    const next = await open(instances[2])
    await eventually(async () => expect(await next.tryJoin(id)).toMatchObject({ type: 'joined', id }))
    // A closed socket frees its id too.
    await next.close()
    await eventually(async () => expect(await (await open(instances[1])).tryJoin(id)).toMatchObject({ type: 'joined', id }))
  })

  it('answers UNKNOWN_PEER for an id no instance holds, and keeps serving', async () => {
    const a = await open(instances[1])
    await a.join(freshId())
    const absent = freshId()
    expect(await a.request({ type: 'signal', to: absent, data: 1 })).toMatchObject({ type: 'error', code: 'UNKNOWN_PEER' })
    const b = await open(instances[2])
    const idb = freshId()
    await b.join(idb)
    a.send({ type: 'signal', to: idb, data: 'still here' })
    expect(await b.next()).toMatchObject({ type: 'signal', data: 'still here' })
  })

  it('a join and a leave in flight: the leave wins, and the id is free again', async () => {
    const a = await open(instances[0])
    const id = freshId()
    a.send(await a.joinMessage(id))
    a.send({ type: 'leave' })
    await eventually(async () => expect(await (await open(instances[1])).tryJoin(id)).toMatchObject({ type: 'joined', id }))
    expect(a.pending).toBe(0)
  })

  it('/health, /metrics and /ring speak for the whole ring from any instance', async () => {
    const ids = [freshId(), freshId(), freshId()]
    for (const [i, id] of ids.entries()) {
      const c = await open(instances[i])
      await c.join(id)
      if (i === 0) c.send({ type: 'report', successors: [ids[1]], predecessor: ids[2], fingers: [{ row: 3, id: ids[1] }] })
    }
    for (const instance of instances) {
      await eventually(async () => {
        const ring = await getJson(`${instance.http}/ring`)
        expect(ring.body.peers).toEqual([...ids].sort())
        expect(ring.body.reports).toEqual({ [ids[0]]: { successors: [ids[1]], predecessor: ids[2], fingers: [{ row: 3, id: ids[1] }], at: expect.any(Number) } })
      })
      await eventually(async () => {
        expect((await getJson(`${instance.http}/health`)).body).toEqual({ status: 'ok', peers: 3, instancePeers: 1, redis: 'up' })
      })
      expect(await metric(instance.http, 'signal_peers')).toBe(1)
      expect(await metric(instance.http, 'signal_redis_up')).toBe(1)
      expect(await metric(instance.http, 'signal_redis_command_duration_seconds_count')).toBeGreaterThan(0)
    }
  })

  it('keeps hinting, from its periodic view of the whole ring, while the report still skips a closer peer', async () => {
    const swept = await startCluster(redis().url, 2, { rateLimit: false, ringCheckMs: 100 })
    instances.push(...swept)
    const [low, mid, high] = freshIds(3)
    const a = await open(swept[0])
    await a.join(low)
    const b = await open(swept[1])
    await b.join(mid)
    b.send({ type: 'report', successors: [low], predecessor: low, fingers: [] })
    await (await open(swept[1])).join(high)
    a.send({ type: 'report', successors: [high], predecessor: mid, fingers: [] })
    // One hint answers the report; more follow, with no new report, from the sweep.
    for (let k = 0; k < 3; k++) expect(await a.next()).toEqual({ type: 'hint', successor: mid })
    expect(await metric(swept[0].http, 'signal_hints_total')).toBeGreaterThanOrEqual(3)
  })

  it('hints a closer successor that joined at another instance', async () => {
    const [low, mid, high] = freshIds(3)
    const a = await open(instances[0])
    await a.join(low)
    const c = await open(instances[2])
    await c.join(high)
    const b = await open(instances[1])
    await b.join(mid)
    b.send({ type: 'report', successors: [high], predecessor: low, fingers: [] })
    c.send({ type: 'report', successors: [low], predecessor: mid, fingers: [] })
    // low reports high as its successor; mid (in a ring: it reported) sits between.
    await eventually(async () => {
      a.send({ type: 'report', successors: [high], predecessor: high, fingers: [{ row: 0, id: high }] })
      expect(await a.next()).toEqual({ type: 'hint', successor: mid })
    }, 50)
  })

  it('claims an id in Redis only once the proof and the admission checks passed', async () => {
    const limited = await startCluster(redis().url, 2, { rateLimit: false, admission: { maxPeersPerAddress: 2, joinBurst: 1000 } })
    instances.push(...limited)
    // Someone with the victim's public key but not its private key: a join signed for another nonce (a replay).
    const victim = freshIdentity()
    const attacker = await Client.open(limited[0].url)
    clients.add(attacker)
    expect(await attacker.refreshing(await attacker.joinMessage(victim, 'bm90IHRoaXMgY29ubmVjdGlvbidzIG5vbmNl'))).toMatchObject({ type: 'error', code: 'BAD_PROOF' })
    // This address holds 2 ids at the first instance; a third is refused there.
    for (const id of freshIds(2)) await (await open(limited[0])).join(id)
    const third = freshId()
    expect(await (await open(limited[0])).tryJoin(third)).toMatchObject({ type: 'error', code: 'TOO_MANY_PEERS' })
    // Neither refused id was claimed: both join at once at the other instance.
    expect(await (await open(limited[1])).tryJoin(victim)).toMatchObject({ type: 'joined', id: victim.id })
    expect(await (await open(limited[1])).tryJoin(third)).toMatchObject({ type: 'joined', id: third })
  })

  it('joins from one address in flight together count against its cap (admission is per instance)', async () => {
    const limited = await startCluster(redis().url, 2, { rateLimit: false, admission: { maxPeersPerAddress: 2, joinBurst: 1000 } })
    instances.push(...limited)
    const joiners = await Promise.all([0, 1, 2].map(() => open(limited[0])))
    const messages = await Promise.all(joiners.map((c) => c.joinMessage(freshId())))
    // All three sent before any claim came back from Redis.
    joiners.forEach((c, i) => c.send(messages[i]))
    const replies = await Promise.all(joiners.map((c) => c.next()))
    expect(replies.map((r) => r.type === 'joined' ? 'joined' : r.code).sort()).toEqual(['TOO_MANY_PEERS', 'joined', 'joined'])
    // The other instance counts its own: the same address joins two more there.
    for (const id of freshIds(2)) await (await open(limited[1])).join(id)
  })
})

/**
 * The same joins, reports and leaves against the embedded server and against
 * three instances over Redis: every reply is the same. The cluster's views
 * (fetched around an id in the claim's round trip) answer as the whole ring in memory does.
 */
describe('a cluster answers joins as one in-memory registry does', () => {
  const redis = redisForSuite()

  it('for 40 joins, reports and leaves spread over three instances', async () => {
    // No STUN responder: its URL (the instance's own port) would differ between the two in every reply.
    const memory = [await start({ successorCount: 3, ringCheckMs: 0, stun: false })]
    const cluster = await startCluster(redis().url, 3, { successorCount: 3, ringCheckMs: 0, stun: false })
    const ids = Array.from({ length: 40 }, freshId)
    const run = async (servers: Started[]) => {
      const replies: Msg[] = []
      const held: Client[] = []
      const ring = async () => (await getJson(`${servers[0].http}/ring`)).body as { peers: string[]; reports: Record<string, unknown> }
      for (const [i, id] of ids.entries()) {
        const c = await Client.open(servers[i % servers.length].url)
        held.push(c)
        const reply = await c.join(id)
        replies.push(reply)
        if (i % 3 === 0) {
          // Reporting the registry's own successor: in a ring, and no hint to answer.
          c.send({ type: 'report', successors: (reply.successors as string[]).slice(0, 1), predecessor: null, fingers: [] })
          await eventually(async () => expect((await ring()).reports[id]).toBeDefined())
        }
        if (i % 5 === 4) {
          held[i - 2].send({ type: 'leave' })
          await eventually(async () => expect((await ring()).peers).not.toContain(ids[i - 2]))
        }
      }
      await Promise.all(held.map((c) => c.close()))
      return replies
    }
    try {
      const fromCluster = await run(cluster)
      const fromMemory = await run(memory)
      expect(fromCluster).toEqual(fromMemory)
    } finally {
      await Promise.all([...memory, ...cluster].map((s) => s.app.close()))
    }
  })
})
