import type { Observable, Subscription } from 'rxjs'
import type { RingNode } from '../../src/ring/node'
import { SocketLayer, type ExplorerSocket, type SocketOptions } from '../../src/sockets'
import { createTestnet, type Testnet, type TestnetOptions } from '../../src/testnet'

export interface SocketRing {
  net: Testnet
  nodes: RingNode[]
  layers: SocketLayer[]
  /** Runs virtual time until `predicate` holds; false if `ms` passed first. */
  runUntil(predicate: () => boolean, ms?: number): boolean
  run(ms: number): void
  /** The layer of a live node by id. */
  layerOf(id: number): SocketLayer
  close(): void
}

/** A converged in-memory ring (virtual time) with a socket layer on every peer. */
export function socketRing(n = 12, options: SocketOptions | ((i: number) => SocketOptions) = {}, testnet: TestnetOptions = {}): SocketRing {
  const net = createTestnet(n, { seed: 11, joinWindowMs: 2000, ...testnet })
  if (net.converge() < 0) throw new Error('the test ring did not converge')
  const nodes = [...net.nodes.values()]
  const layers = nodes.map(
    (node, i) =>
      new SocketLayer(
        { id: node.id, router: node.router, channels: node.channels, scheduler: net.scheduler, isListening: () => node.joined },
        typeof options === 'function' ? options(i) : options,
      ),
  )
  const byId = new Map(nodes.map((node, i) => [node.id, layers[i]]))
  return {
    net,
    nodes,
    layers,
    runUntil: (predicate, ms = 60_000) => net.scheduler.runUntil(predicate, net.scheduler.now() + ms),
    run: (ms) => net.scheduler.advanceBy(ms),
    layerOf: (id) => byId.get(id)!,
    close: () => {
      // Sockets first: left open, their retransmission timers would outlive the ring.
      const closing = layers.map((layer) => record(layer.close$()))
      net.scheduler.runUntil(() => closing.every((c) => c.ended), net.scheduler.now() + 10_000)
      net.close()
    },
  }
}

export interface Recorded<T> {
  values: T[]
  error: unknown
  completed: boolean
  readonly ended: boolean
  subscription: Subscription
}

/** Subscribes and records what happens, synchronously (virtual time drives everything). */
export function record<T>(source: Observable<T>): Recorded<T> {
  const r: Recorded<T> = {
    values: [],
    error: undefined,
    completed: false,
    get ended() {
      return this.completed || this.error !== undefined
    },
    subscription: undefined as unknown as Subscription,
  }
  r.subscription = source.subscribe({
    next: (v) => r.values.push(v),
    error: (e) => (r.error = e ?? new Error('undefined error')),
    complete: () => (r.completed = true),
  })
  return r
}

/** Deterministic bytes: message i of a test, byte j. */
export function pattern(length: number, seed: number): Uint8Array {
  const bytes = new Uint8Array(length)
  let x = (seed * 2654435761) >>> 0
  for (let j = 0; j < length; j++) {
    x = (x * 1103515245 + 12345) >>> 0
    bytes[j] = x >>> 24
  }
  return bytes
}

export const equalBytes = (a: Uint8Array, b: Uint8Array): boolean => Buffer.compare(Buffer.from(a), Buffer.from(b)) === 0

/** Dials layers[from] → layers[to] in virtual time; returns both ends. */
export function connect(ring: SocketRing, from: number, to: number): { local: ExplorerSocket; remote: ExplorerSocket } {
  const accepted = record(ring.layers[to].incoming$)
  const dial = record(ring.layers[from].dial$(ring.nodes[to].id))
  if (!ring.runUntil(() => dial.ended) || dial.values.length !== 1) throw new Error(`dial failed: ${String(dial.error)}`)
  accepted.subscription.unsubscribe()
  return { local: dial.values[0], remote: accepted.values[0] }
}
