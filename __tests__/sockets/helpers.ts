import type { Observable, Subscription } from 'rxjs'
import { signAs, verifySignature, type Identity } from '../../src/identity'
import { parseId } from '../../src/ids'
import type { RingNode } from '../../src/ring/node'
import { SocketLayer, type ExplorerSocket, type SocketOptions, type SocketSecurity } from '../../src/sockets'
import { createTestnet, seededRandom, type Testnet, type TestnetOptions } from '../../src/testnet'
import { seededIdentity } from '../../src/testnet/identities'
import { FrameType } from '../../src/wire/frame'

export interface SocketRing {
  net: Testnet
  nodes: RingNode[]
  layers: SocketLayer[]
  /** nodes[i]'s identity: its id is derived from the key, as every socket's handshake checks. */
  identities: Identity[]
  /**
   * Runs virtual time until `predicate` holds; false if `ms` passed first.
   * Between steps it lets the handshakes' asynchronous crypto (signing,
   * verifying) settle, so dials and accepts complete as they would in real time.
   */
  runUntil(predicate: () => boolean, ms?: number): Promise<boolean>
  run(ms: number): Promise<void>
  /** The layer of a live node by id. */
  layerOf(id: number): SocketLayer
  /** Lets runUntil wait for the handshakes of a layer made outside the ring (an attacker's). */
  watch(layer: SocketLayer): void
  close(): Promise<void>
}

/** What a socket layer proves and checks identities with: the identity's own key (src/identity), as the explorer passes it. */
export const securityOf = (identity: Identity): SocketSecurity => ({
  signer: { publicKey: identity.publicKey, sign: (message) => signAs(identity, message) },
  verify: verifySignature,
})

/** A socket layer on `node`, signing as `identity` (whose id is the node's). */
export function layerOn(node: RingNode, identity: Identity, scheduler: Testnet['scheduler'], options: SocketOptions = {}): SocketLayer {
  return new SocketLayer({ id: node.id, router: node.router, channels: node.channels, scheduler, security: securityOf(identity), isListening: () => node.joined }, options)
}

/**
 * A converged in-memory ring (virtual time) with a socket layer on every
 * peer. Ids are drawn from seeded identities (ids are hashes of keys, never
 * chosen): the testnet's first peer only starts the ring and leaves it.
 */
export function socketRing(n = 12, options: SocketOptions | ((i: number) => SocketOptions) = {}, testnet: TestnetOptions = {}): SocketRing {
  const net = createTestnet(1, { seed: 11, ...testnet })
  const random = seededRandom(testnet.seed ?? 11)
  const identities = Array.from({ length: n }, () => seededIdentity(random))
  const [starter] = net.nodes.keys()
  const nodes = identities.map((identity) => net.addPeer(parseId(identity.id)))
  if (net.converge() < 0) throw new Error('the test ring did not converge')
  net.crash([starter])
  if (net.converge() < 0) throw new Error('the test ring did not converge without its starter')
  const layers = nodes.map((node, i) => layerOn(node, identities[i], net.scheduler, typeof options === 'function' ? options(i) : options))
  const byId = new Map(nodes.map((node, i) => [node.id, layers[i]]))

  const watched = [...layers]
  /** Lets promise callbacks run while any handshake waits on crypto. */
  const settle = async () => {
    for (let rounds = 0; watched.some((layer) => layer.handshakes.pending > 0); rounds++) {
      if (rounds > 100_000) throw new Error('handshake crypto never settled')
      await new Promise<void>((resolve) => setImmediate(resolve))
    }
  }
  const runUntil = async (predicate: () => boolean, ms = 60_000): Promise<boolean> => {
    const { scheduler } = net
    const deadline = scheduler.now() + ms
    for (;;) {
      await settle()
      if (predicate()) return true
      const next = scheduler.nextTime()
      if (next === undefined || next > deadline) {
        if (deadline > scheduler.now()) scheduler.advanceTo(deadline)
        await settle()
        return predicate()
      }
      scheduler.advanceTo(next)
    }
  }
  return {
    net,
    nodes,
    layers,
    identities,
    runUntil,
    run: async (ms) => void (await runUntil(() => false, ms)),
    layerOf: (id) => byId.get(id)!,
    watch: (layer) => void watched.push(layer),
    close: async () => {
      // Sockets first: left open, their retransmission timers would outlive the ring.
      const closing = layers.map((layer) => record(layer.close$()))
      await runUntil(() => closing.every((c) => c.ended), 10_000)
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

/** Dials layers[from] → layers[to] in virtual time; returns both ends once both finished the handshake. */
export async function connect(ring: SocketRing, from: number, to: number): Promise<{ local: ExplorerSocket; remote: ExplorerSocket }> {
  const accepted = record(ring.layers[to].incoming$)
  const dial = record(ring.layers[from].dial$(ring.nodes[to].id))
  if (!(await ring.runUntil(() => dial.ended && accepted.values.length > 0)) || dial.values.length !== 1) throw new Error(`dial failed: ${String(dial.error)}`)
  accepted.subscription.unsubscribe()
  return { local: dial.values[0], remote: accepted.values[0] }
}

/** How many hops an Open from layers[a] takes to layers[b] (the dial is abandoned once it arrived). */
export async function pathLength(ring: SocketRing, a: number, b: number): Promise<number> {
  let hops = -1
  const tap = ring.nodes[b].router.frames$(FrameType.Open).subscribe((f) => (hops = f.hops))
  const dial = record(ring.layers[a].dial$(ring.nodes[b].id))
  await ring.runUntil(() => hops >= 0, 5000)
  dial.subscription.unsubscribe()
  tap.unsubscribe()
  await ring.run(50)
  return hops
}
