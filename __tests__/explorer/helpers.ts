import type { AddressInfo } from 'node:net'
import type { FastifyInstance } from 'fastify'
import { createSignalServer, type SignalServerOptions } from '../../signal-server'
import { createExplorer, type Explorer, type ExplorerOptions } from '../../src'
import { explorerInternals } from '../../src/explorer/internals'
import { newIdentity, type Identity } from '../../src/identity'
import { cryptoSettled } from '../../src/identity/ed25519'
import { parseId } from '../../src/ids'
import { VirtualScheduler } from '../../src/scheduler/virtual-scheduler'
import { RingOracle, seededRandom } from '../../src/testnet'
import { seededIdentity } from '../../src/testnet/identities'
import { MemoryNetwork } from '../../src/transport/memory'
import { SignalNet } from './virtual-signal'

export interface Server {
  app: FastifyInstance
  url: string
  http: string
  port: number
}

export async function startServer(options: SignalServerOptions = {}, port = 0): Promise<Server> {
  const app = createSignalServer({ rateLimit: false, ...options })
  await app.listen({ port, host: '127.0.0.1' })
  const address = app.server.address() as AddressInfo
  return { app, url: `ws://127.0.0.1:${address.port}/ws`, http: `http://127.0.0.1:${address.port}`, port: address.port }
}

/** Fast ring timing for tests: rounds of 100 ms. */
export const FAST = { stabilizeMs: 100, fixFingersMs: 50, rpcTimeoutMs: 1500, connectTimeoutMs: 3000, reportMs: 100, reconnectMinMs: 100, reconnectMaxMs: 500 }

/** Explorers with fresh identities on an in-memory network (real time), against real signalling servers. */
export function memoryExplorers(url: ExplorerOptions['signalUrl'], n: number, network = new MemoryNetwork(), extra: Partial<ExplorerOptions> = {}): Explorer[] {
  return Array.from({ length: n }, () => {
    const identity = newIdentity()
    return createExplorer({ signalUrl: url, identity, transport: network.transport(parseId(identity.id)), ...FAST, ...extra })
  })
}

/**
 * Explorers on an in-memory network against a virtual signalling server
 * (./virtual-signal.ts), every timer on one VirtualScheduler, every random
 * draw from one seed: nothing waits on the wall clock, and a run repeats.
 */
export function virtualWorld(seed = 1, networkOptions: { failureDetectionMs?: number } = {}) {
  const scheduler = new VirtualScheduler()
  const random = seededRandom(seed)
  const network = new MemoryNetwork({ scheduler, latencyMs: 1, random, ...networkOptions })
  const signal = new SignalNet(scheduler)

  /** An identity from the world's seed (ids are derived from keys: drawn, never chosen). */
  const identity = (): Identity => seededIdentity(random)

  const explorer = (url: string, who: Identity = identity(), extra: Partial<ExplorerOptions> = {}): Explorer =>
    createExplorer({ signalUrl: url, identity: who, transport: network.transport(parseId(who.id)), scheduler, random, WebSocket: signal.WebSocket, ...FAST, ...extra })

  /** Runs virtual time in 10 ms steps until `done()` holds, letting promise callbacks run between steps; throws after `maxMs` of virtual time. */
  async function until(done: () => boolean, maxMs = 60_000, what = 'condition'): Promise<void> {
    const deadline = scheduler.now() + maxMs
    for (;;) {
      // Real asynchronous work first (WebCrypto signatures): virtual time moves only once it is done.
      await cryptoSettled()
      await new Promise<void>((resolve) => setImmediate(resolve))
      if (done()) return
      if (scheduler.now() >= deadline) throw new Error(`${what} did not happen within ${maxMs} ms of virtual time`)
      scheduler.advanceBy(10)
    }
  }

  /** Runs virtual time until `promise` settles; resolves or rejects as it did. */
  async function settle<T>(promise: Promise<T>, maxMs = 60_000): Promise<T> {
    let settled = false
    promise.then(() => (settled = true), () => (settled = true))
    await until(() => settled, maxMs, 'the promise to settle')
    return promise
  }

  return {
    scheduler,
    network,
    signal,
    random,
    identity,
    explorer,
    /** `n` explorers with identities drawn from the world's seed. */
    explorers: (url: string, n: number, extra: Partial<ExplorerOptions> = {}) => Array.from({ length: n }, () => explorer(url, identity(), extra)),
    until,
    settle,
  }
}

/** Polls until `predicate` holds (no wall-clock assertion: the timeout is only a guard). */
export async function waitFor(predicate: () => boolean | Promise<boolean>, timeoutMs = 30_000, what = 'condition'): Promise<void> {
  const deadline = Date.now() + timeoutMs
  while (!(await predicate())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`)
    await new Promise((resolve) => setTimeout(resolve, 20))
  }
}

/** The ring node under an explorer (test-only accessor: not part of the package's API). */
export const ringOf = (explorer: Explorer) => explorerInternals(explorer).ring

/** Every peer's successor and predecessor are the true ones. */
export function ringCorrect(explorers: Explorer[]): boolean {
  const rings = explorers.map(ringOf)
  return new RingOracle(rings.map((r) => r.id)).ringCorrect(rings)
}

/** Ring right and every successor list without gaps: what a row refresh answers from. */
export function successorListsCorrect(explorers: Explorer[]): boolean {
  const rings = explorers.map(ringOf)
  const oracle = new RingOracle(rings.map((r) => r.id))
  return oracle.ringCorrect(rings) && oracle.successorListsCorrect(rings)
}

/** Ring right and every finger row points at the true owner of its start. */
export function ringStable(explorers: Explorer[]): boolean {
  const rings = explorers.map(ringOf)
  const oracle = new RingOracle(rings.map((r) => r.id))
  return oracle.ringCorrect(rings) && oracle.fingersCorrect(rings) === 1
}

export const metric = async (http: string, name: string): Promise<number> => {
  const text = await (await fetch(`${http}/metrics`)).text()
  const line = text.split('\n').find((l) => l.startsWith(`${name} `))
  return line === undefined ? NaN : Number(line.split(' ')[1])
}
