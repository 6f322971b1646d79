import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { buildSync } from 'esbuild'
import { isExplorerError } from '../../src/errors'
import { RING_SIZE } from '../../src/ids'
import { randomRingId } from '../../src/testnet'
import { ParallelTestnet, type ParallelTestnetOptions, partitionOf } from '../../src/testnet/parallel'
import { Exchange, createExchangeBuffer } from '../../src/testnet/parallel/exchange'
import { PartitionOutbox, readPartitionMessages, type PartitionInbox } from '../../src/testnet/parallel/messages'

/** Workers do not run TypeScript: the partition's worker is compiled once, as `npm run simulate` compiles itself. */
let dir: string
let workerScript: string
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'partition-worker-'))
  workerScript = join(dir, 'worker.cjs')
  buildSync({
    stdin: { contents: "require('./src/testnet/parallel').runPartitionWorker()", resolveDir: resolve(__dirname, '../..'), loader: 'ts' },
    bundle: true, platform: 'node', format: 'cjs', target: 'node20', outfile: workerScript, logLevel: 'warning',
  })
})
afterAll(() => rmSync(dir, { recursive: true, force: true }))

async function withNet<T>(n: number, options: Partial<ParallelTestnetOptions>, body: (net: ParallelTestnet) => Promise<T>): Promise<T> {
  const net = new ParallelTestnet(n, { partitions: 2, seed: 1, workerScript, ...options })
  try {
    return await body(net)
  } finally {
    await net.close()
  }
}

/** What a run ends with: enough to tell two runs apart. */
async function converged(net: ParallelTestnet) {
  const rounds = await net.converge(120_000)
  const report = await net.report()
  const stats = await net.stats()
  return { rounds, ...report, framesSent: stats.framesSent }
}

async function lookups(net: ParallelTestnet, count: number) {
  const items = Array.from({ length: count }, () => ({ from: net.liveIds[Math.floor(net.random() * net.liveIds.length)], key: randomRingId(net.random) }))
  await net.startLookups(items)
  for (let waited = 0; (await net.progress()).pendingLookups > 0 && waited < 30_000; waited += 10) await net.advanceTo(net.now() + 10)
  return net.lookupResults()
}

describe('parallel testnet: the ring split across worker threads', () => {
  it('converges: every successor, predecessor and finger right, and lookups from either side reach the owner', async () => {
    await withNet(96, { seed: 3 }, async (net) => {
      const ids = [...net.liveIds]
      // Both partitions hold peers, so channels cross between threads.
      expect(new Set(ids.map((id) => partitionOf(id, 2))).size).toBe(2)
      const run = await converged(net)
      expect(run.rounds).toBeGreaterThan(0)
      expect(run.ringCorrect).toBe(true)
      expect(run.fingersCorrect).toBe(1)
      const { hops, failed } = await lookups(net, 300)
      expect(failed).toBe(0)
      expect(hops).toHaveLength(300)
      expect(Math.max(...hops)).toBeLessThanOrEqual(Math.log2(96) + 2)
    })
  })

  it('is deterministic for a seed (and differs between seeds)', async () => {
    const runOf = (seed: number) => withNet(64, { seed }, async (net) => ({ ...(await converged(net)), lookups: await lookups(net, 100) }))
    const first = await runOf(7)
    const again = await runOf(7)
    const other = await runOf(8)
    expect(again).toEqual(first)
    expect(other.framesSent).not.toBe(first.framesSent)
  })

  it('repairs after a quarter of the peers crash at once, in both partitions', async () => {
    await withNet(96, { seed: 5 }, async (net) => {
      expect((await converged(net)).ringCorrect).toBe(true)
      const victims = net.liveIds.filter((_, i) => i % 4 === 1)
      expect(new Set(victims.map((id) => partitionOf(id, 2))).size).toBe(2)
      await net.crash(victims)
      expect(net.liveIds).toHaveLength(96 - victims.length)
      const repair = await converged(net)
      expect(repair.rounds).toBeGreaterThan(0)
      expect(repair.ringCorrect).toBe(true)
      expect(repair.fingersCorrect).toBe(1)
      expect((await lookups(net, 200)).failed).toBe(0)
    })
  })

  it('refuses fewer than 2 partitions, and a link latency under 1 ms (the lookahead), at once: BAD_OPTIONS', () => {
    const thrownBy = (options: Partial<ParallelTestnetOptions>) => {
      try {
        new ParallelTestnet(8, { partitions: 2, workerScript, ...options })
      } catch (error) {
        return error
      }
    }
    expect(isExplorerError(thrownBy({ partitions: 1 }), 'BAD_OPTIONS')).toBe(true)
    const latency = thrownBy({ latencyMs: 0.5 })
    expect(isExplorerError(latency, 'BAD_OPTIONS')).toBe(true)
    expect((latency as Error).message).toMatch(/latency of at least 1 ms/)
  })

  it('a partition that fails mid-run fails the run with its reason, stops the other, and every later command', async () => {
    // 64-byte regions: the first window's messages between the partitions overflow them.
    await withNet(64, { seed: 2, regionBytes: 64 }, async (net) => {
      const run = net.converge(10_000)
      await expect(run).rejects.toThrow(/over 64 bytes in one window/)
      await expect(net.progress()).rejects.toThrow(/over 64 bytes in one window/)
    })
  })
})

describe('partition messages', () => {
  it('come out as they went in, in order (through a one-partition exchange, which hands us our own)', () => {
    const exchange = new Exchange(createExchangeBuffer({ partitions: 1, regionBytes: 4096 }), { partitions: 1, regionBytes: 4096 }, 0)
    const out = new PartitionOutbox(exchange)
    const max = RING_SIZE - 1
    out.frame(0, 12, 3.5, Uint8Array.of(1, 2, 3))
    out.closed(0, 13, 4)
    out.crashed(0, 14, 1004)
    out.pair(0, 21, 22, max, 0)
    out.signal(0, 31, 1, max, 5, { mem: 'offer', token: 9 })
    out.registered(0, max)
    out.ready(0, 77, false)
    const seen: unknown[] = []
    const inbox: PartitionInbox = {
      frame: (channel, at, bytes) => seen.push(['frame', channel, at, [...bytes]]),
      closed: (channel, at) => seen.push(['closed', channel, at]),
      crashed: (channel, at) => seen.push(['crashed', channel, at]),
      pair: (token, channel, from, to) => seen.push(['pair', token, channel, from, to]),
      signal: (session, from, to, at, signal) => seen.push(['signal', session, from, to, at, signal]),
      registered: (id) => seen.push(['registered', id]),
      ready: (id, ready) => seen.push(['ready', id, ready]),
    }
    const inbound = exchange.exchange(100)
    readPartitionMessages(inbound.from[0], inbox)
    expect(seen).toEqual([
      ['frame', 12, 3.5, [1, 2, 3]],
      ['closed', 13, 4],
      ['crashed', 14, 1004],
      ['pair', 21, 22, max, 0],
      ['signal', 31, 1, max, 5, { mem: 'offer', token: 9 }],
      ['registered', max],
      ['ready', 77, false],
    ])
    // The earliest thing due: the first frame's arrival, before our own next event at 100.
    expect(inbound.globalNext).toBe(3.5)
    // The next window starts empty.
    expect(exchange.exchange(Infinity)).toEqual({ from: [new Uint8Array(0)], globalNext: Infinity, collect: false })
    // A partition's request for a collection reaches every partition (here: itself).
    expect(exchange.exchange(Infinity, true).collect).toBe(true)
  })

  it('a window that outgrows its region fails loudly instead of overwriting', () => {
    const exchange = new Exchange(createExchangeBuffer({ partitions: 1, regionBytes: 64 }), { partitions: 1, regionBytes: 64 }, 0)
    const out = new PartitionOutbox(exchange)
    expect(() => out.frame(0, 1, 1, new Uint8Array(100))).toThrow(/over 64 bytes in one window/)
    // Caught where it was thrown or not, the window's exchange fails with it.
    expect(() => exchange.exchange(0)).toThrow(/over 64 bytes in one window/)
  })
})
