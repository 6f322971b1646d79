import { Admission } from '../../signal-server/admission'
import { Client, freshIdentity, start, type Started } from './helpers'

/**
 * Per-address admission: one host cannot take the ring by opening many
 * sockets. The clients below all come from 127.0.0.1; where a test needs
 * other addresses, the server trusts X-Forwarded-For (as behind a proxy).
 */
describe('signal server: admission per client address', () => {
  let server: Started
  let clients: Client[] = []

  afterEach(async () => {
    await Promise.all(clients.map((c) => c.close()))
    clients = []
    await server?.app.close()
  })

  async function joinMany(count: number, headers: Record<string, string> = {}): Promise<Record<string, number>> {
    const opened = await Promise.all(Array.from({ length: count }, () => Client.open(server.url, { headers })))
    clients.push(...opened)
    const replies = await Promise.all(opened.map(async (c) => c.tryJoin(freshIdentity())))
    const tally: Record<string, number> = {}
    for (const r of replies) {
      const key = r.type === 'joined' ? 'joined' : String(r.code)
      tally[key] = (tally[key] ?? 0) + 1
    }
    return tally
  }

  const peers = async () => ((await (await fetch(`${server.http}/health`)).json()) as { peers: number }).peers

  it('500 joins from one address with the defaults: the burst gets in, the rest RATE_LIMITED, all coded', async () => {
    server = await start({ admission: {}, rateLimit: false })
    const tally = await joinMany(500)
    expect(tally.joined).toBeLessThanOrEqual(128)
    expect((tally.joined ?? 0) + (tally.RATE_LIMITED ?? 0) + (tally.TOO_MANY_PEERS ?? 0)).toBe(500)
    expect(await peers()).toBe(tally.joined)
  })

  it('past the live cap: TOO_MANY_PEERS; a leave frees a place; another address is not affected', async () => {
    server = await start({ admission: { maxPeersPerAddress: 16, joinBurst: 1000 }, trustProxy: true, rateLimit: false })
    const tally = await joinMany(60, { 'x-forwarded-for': '203.0.113.7' })
    expect(tally).toEqual({ joined: 16, TOO_MANY_PEERS: 44 })
    // Someone else behind another address joins as usual.
    expect(await joinMany(3, { 'x-forwarded-for': '198.51.100.1' })).toEqual({ joined: 3 })
    // One of the 16 leaves: its address may hold one more.
    const holder = clients.find((c) => c.challenges.length === 1)!
    await holder.refreshing({ type: 'leave' })
    expect(await joinMany(2, { 'x-forwarded-for': '203.0.113.7' })).toEqual({ joined: 1, TOO_MANY_PEERS: 1 })
    expect(await peers()).toBe(16 + 3)
  })

  it('without trustProxy, X-Forwarded-For changes nothing: a flood cannot dress up as many addresses', async () => {
    server = await start({ admission: { maxPeersPerAddress: 8, joinBurst: 1000 }, rateLimit: false })
    const spoofed = await Promise.all(Array.from({ length: 20 }, (_, i) => joinMany(1, { 'x-forwarded-for': `192.0.2.${i}` })))
    const joined = spoofed.filter((t) => t.joined === 1).length
    expect(joined).toBe(8)
  })
})

describe('Admission', () => {
  it('counts IPv4 as is (also IPv4-mapped), IPv6 by its /64', () => {
    expect(Admission.keyOf('203.0.113.7')).toBe('203.0.113.7')
    expect(Admission.keyOf('::ffff:203.0.113.7')).toBe('203.0.113.7')
    expect(Admission.keyOf('2001:db8:1:2:aaaa::1')).toBe('2001:db8:1:2::/64')
    expect(Admission.keyOf('2001:db8:1:2:ffff:ffff:ffff:ffff')).toBe('2001:db8:1:2::/64')
    expect(Admission.keyOf('2001:0db8:0001:0002::9')).toBe('2001:db8:1:2::/64')
    expect(Admission.keyOf('2001:db8::1')).toBe('2001:db8:0:0::/64')
    expect(Admission.keyOf('2001:db8:1:3::1')).not.toBe(Admission.keyOf('2001:db8:1:2::1'))
  })

  it('refills join tokens over time and forgets idle addresses', () => {
    let now = 0
    const admission = new Admission({ maxPeersPerAddress: 100, joinsPerSecond: 2, joinBurst: 3 }, () => now)
    expect([1, 2, 3, 4].map(() => admission.attempt('a'))).toEqual(['ok', 'ok', 'ok', 'RATE_LIMITED'])
    now += 500
    expect(admission.attempt('a')).toBe('ok')
    expect(admission.attempt('a')).toBe('RATE_LIMITED')
    for (let i = 0; i < 5000; i++) admission.attempt(`host-${i}`)
    now += 10_000
    admission.attempt('late')
    expect(admission.size).toBeLessThan(100)
  })
})
