import type { AddressInfo } from 'node:net'
import type { FastifyInstance } from 'fastify'
import { createSignalServer, type SignalServerOptions } from '../../signal-server'
import { createExplorer, type Explorer, type ExplorerOptions } from '../../src'
import { parseId, randomId } from '../../src/ids'
import { RingOracle } from '../../src/testnet'
import { MemoryNetwork } from '../../src/transport/memory'

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

/** Explorers on an in-memory network (real time), against a real signalling server. */
export function memoryExplorers(url: ExplorerOptions['signalUrl'], n: number, network = new MemoryNetwork(), extra: Partial<ExplorerOptions> = {}): Explorer[] {
  return Array.from({ length: n }, () => {
    const id = randomId()
    return createExplorer({ signalUrl: url, id, transport: network.transport(parseId(id)), ...FAST, ...extra })
  })
}

/** Polls until `predicate` holds (no wall-clock assertion: the timeout is only a guard). */
export async function waitFor(predicate: () => boolean | Promise<boolean>, timeoutMs = 30_000, what = 'condition'): Promise<void> {
  const deadline = Date.now() + timeoutMs
  while (!(await predicate())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`)
    await new Promise((resolve) => setTimeout(resolve, 20))
  }
}

/** Every peer's successor and predecessor are the true ones. */
export function ringCorrect(explorers: Explorer[]): boolean {
  const oracle = new RingOracle(explorers.map((e) => e.ring.id))
  return oracle.ringCorrect(explorers.map((e) => e.ring))
}

/** Ring right and every successor list without gaps: what a row refresh answers from. */
export function successorListsCorrect(explorers: Explorer[]): boolean {
  const oracle = new RingOracle(explorers.map((e) => e.ring.id))
  const rings = explorers.map((e) => e.ring)
  return oracle.ringCorrect(rings) && oracle.successorListsCorrect(rings)
}

/** Ring right and every finger row points at the true owner of its start. */
export function ringStable(explorers: Explorer[]): boolean {
  const oracle = new RingOracle(explorers.map((e) => e.ring.id))
  const rings = explorers.map((e) => e.ring)
  return oracle.ringCorrect(rings) && oracle.fingersCorrect(rings) === 1
}

export const metric = async (http: string, name: string): Promise<number> => {
  const text = await (await fetch(`${http}/metrics`)).text()
  const line = text.split('\n').find((l) => l.startsWith(`${name} `))
  return line === undefined ? NaN : Number(line.split(' ')[1])
}
