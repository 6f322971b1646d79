import { ReplaySubject, firstValueFrom, timer } from 'rxjs'
import { ExplorerError } from '../errors'
import type { Identity } from '../identity'
import { identityProver, modelledProver, type SignalProver } from '../identity/signal-proof'
import { formatId, parseId } from '../ids'
import { RingNode } from '../ring/node'
import type { RingOptions } from '../ring/options'
import { VirtualScheduler } from '../scheduler/virtual-scheduler'
import { MemoryNetwork } from '../transport/memory'
import type { Channel, SignalPort, Transport } from '../transport/types'
import { seededIdentity } from './identities'
import { RingOracle } from './oracle'
import { randomRingId, seededRandom } from './random'
import { SortedIds } from '../router/sorted-ids'
import { type FrameTap, tappedTransport } from './tap'
import { Coalition, checkAdversaryOptions, type AdversaryOptions } from './adversary'

export interface TestnetOptions extends Omit<RingOptions, 'id' | 'transport' | 'scheduler' | 'random' | 'prover'> {
  /**
   * How channel set-ups are proven. 'modelled' (default): ids are random
   * numbers and proofs a cheap model of signatures (src/identity/signal-proof.ts),
   * as in the simulator. 'ed25519': every peer has a seeded Ed25519 identity,
   * its id derived from the key, and proofs are real signatures (@noble/curves,
   * synchronous: virtual time never waits on the event loop). For attack tests.
   */
  proofs?: 'modelled' | 'ed25519'
  /** Seed for ids, jitter, join times and loss: the same seed replays the same run. */
  seed?: number
  /** One-way link latency in ms (default 1). */
  latencyMs?: number
  lossRate?: number
  /** How long after a crash its neighbours' channels close (default 1000 ms: WebRTC notices a dead peer in seconds). */
  failureDetectionMs?: number
  /** Joins start at uniformly random times within this window (default 10 s): concurrent, not all in one instant. */
  joinWindowMs?: number
  /** Give up waiting for convergence after this much virtual time (default 600 s). */
  maxConvergeMs?: number
  /**
   * Who a newcomer joins through. 'registry' (default) does what the
   * signalling server does: hands it the closest joined successor of its id.
   * 'first' sends every newcomer through the first peer.
   */
  bootstrap?: 'registry' | 'first'
  /** Sees every frame every peer sends (simulation bookkeeping, e.g. traffic by kind). Default: none, channels are not wrapped. */
  frameTap?: FrameTap
  /** False: finger lookups carry no channel offers, as over WebRTC (see Transport.cheapOffers). Default true. */
  carriedOffers?: boolean
  /** Called when a peer has finished joining (the first peer too), right after the registry learns of it. */
  onJoined?: (node: RingNode) => void
  /**
   * Model the signalling server's successor hints (signal-server/ring-hints.ts)
   * every this many ms over the same registry; 0 leaves the ring to itself,
   * as after the server is gone. Default 2,000, the server's default.
   */
  ringCheckMs?: number
  /**
   * Malicious peers (src/testnet/adversary.ts): each peer made is one with
   * probability `fraction` (drawn from a stream of its own, so the ring is
   * the same as without them); they attack once `coalition.active` is set.
   */
  adversary?: AdversaryOptions
}

export interface Testnet {
  readonly scheduler: VirtualScheduler
  readonly network: MemoryNetwork
  readonly random: () => number
  /** Live peers by id. */
  readonly nodes: Map<number, RingNode>
  /** The malicious peers, when the options asked for some. */
  readonly coalition: Coalition | null
  oracle(): RingOracle
  /** Advances virtual time one stabilize period at a time until the ring and fingers are right. Returns the rounds taken, or -1. */
  converge(maxMs?: number): number
  /** A new peer joins through a random live peer (with proofs 'ed25519', give an identity, not an id). Throws JOIN_FAILED at once if its id is live already. */
  addPeer(who?: number | Identity): RingNode
  /** With proofs 'ed25519': each peer's identity, by id. */
  readonly identities: Map<number, Identity>
  /** Peers vanish without warning (no leave): their neighbours notice when channels fail. */
  crash(ids: Iterable<number>): void
  /** Runs a lookup from `from` in virtual time. */
  lookup(from: RingNode, key: number): Promise<{ owner: number; hops: number }>
  close(): void
}

/** A newcomer tries to join this many times before giving up. */
export const MAX_JOIN_ROUNDS = 10
/** How far past a peer the registry is searched for the first joined one (as the server does). */
export const HINT_SEARCH = 16
/** How many of the registered peers after a newcomer's id are considered as its bootstrap. */
export const BOOTSTRAP_CANDIDATES = 8

/** Builds an n-peer ring on the in-memory transport, in virtual time: every peer joins through the first. */
export function createTestnet(n: number, options: TestnetOptions = {}): Testnet {
  const random = seededRandom(options.seed ?? 1)
  const scheduler = new VirtualScheduler()
  const network = new MemoryNetwork({
    scheduler,
    latencyMs: options.latencyMs ?? 1,
    lossRate: options.lossRate ?? 0,
    random,
    failureDetectionMs: options.failureDetectionMs ?? 1000,
  })
  const stabilizeMs = options.stabilizeMs ?? 1000
  const nodes = new Map<number, RingNode>()

  const { frameTap, onJoined, ringCheckMs = 2000, carriedOffers = true, proofs = 'modelled', adversary, ...nodeOptions } = options
  if (adversary !== undefined) checkAdversaryOptions(adversary)
  const coalition = adversary === undefined ? null : new Coalition(adversary.attack, adversary.proverFor)
  const adversaryRandom = seededRandom(((options.seed ?? 1) * 0x2545f491 + 0x3c6ef372) >>> 0)
  const identities = new Map<number, Identity>()
  // Every transport a peer uses (ring and rendezvous) goes through here, so a tap sees all its frames.
  const transportOf = (id: number): Transport => {
    const tapped = frameTap ? tappedTransport(network.transport(id), id, frameTap) : network.transport(id)
    const transport = coalition?.members.has(id) ? coalition.transport(tapped, id, () => nodes.get(id)) : tapped
    return carriedOffers
      ? transport
      : { connect: (remote, port) => transport.connect(remote, port), accept: (remote, port) => transport.accept(remote, port), bindingOf: (signal) => transport.bindingOf(signal) }
  }
  const proverOf = (id: number): SignalProver => {
    const identity = identities.get(id)
    if (proofs === 'modelled') return modelledProver(id)
    if (identity === undefined) throw new ExplorerError('BAD_OPTIONS', `with proofs 'ed25519' a peer needs an identity, not an id (${formatId(id)})`)
    return identityProver(identity, id, 'sync')
  }
  const makeNode = (id: number) => {
    if (coalition !== null && adversaryRandom() < adversary!.fraction) coalition.members.add(id)
    const node = new RingNode({ ...nodeOptions, id, transport: transportOf(id), scheduler, random, prover: proverOf(id) })
    nodes.set(id, node)
    return node
  }
  const freshId = () => {
    if (proofs === 'ed25519') {
      let identity = seededIdentity(random)
      while (nodes.has(parseId(identity.id))) identity = seededIdentity(random)
      identities.set(parseId(identity.id), identity)
      return parseId(identity.id)
    }
    let id = randomRingId(random)
    while (nodes.has(id)) id = randomRingId(random)
    return id
  }

  // Like a real client: a join that fails is tried again through the bootstrap after a while.
  const joinThrough = (node: RingNode, bootstrap: RingNode, attempt = 1) => {
    if (!nodes.has(node.id) || !nodes.has(bootstrap.id)) return
    const retry = () => {
      if (attempt < MAX_JOIN_ROUNDS) scheduler.schedule(() => joinThrough(node, bootstrapFor(node.id), attempt + 1), stabilizeMs * (5 + Math.floor(random() * 5)))
    }
    const channel = rendezvous(transportOf(node.id), node.id, transportOf(bootstrap.id), bootstrap)
    channel.subscribe({ next: (ch) => node.join$(ch).subscribe({ complete: () => registered(node), error: retry }), error: retry })
  }

  const first = makeNode(freshId())
  first.create()
  // The server's sorted registry of peers that finished joining. It offers the
  // joiner's closest successor among those already integrated (someone points
  // at them: peers report that), since a joiner is answered through its bootstrap.
  const registry = new SortedIds()
  const bootstrapFor = (id: number): RingNode => {
    if (options.bootstrap === 'first') return first
    for (const candidate of registry.from(id, BOOTSTRAP_CANDIDATES)) {
      const node = nodes.get(candidate)
      if (node?.joined && node.predecessor !== null) return node
    }
    return nodes.get(registry.from(id, 1)[0]) ?? first
  }
  const registered = (node: RingNode) => {
    registry.add(node.id)
    onJoined?.(node)
  }
  registered(first)
  const joinWindowMs = options.joinWindowMs ?? 10_000
  for (let i = 1; i < n; i++) {
    const node = makeNode(freshId())
    scheduler.schedule(() => joinThrough(node, bootstrapFor(node.id)), Math.floor(random() * joinWindowMs))
  }

  // The server's successor hints: a joined peer whose successor skips the first
  // joined peer after it in the registry gets a channel to that peer, through
  // the server; its stabilize does the rest.
  const hinting = new Set<number>()
  const hintSuccessors = () => {
    for (const node of nodes.values()) {
      if (!node.joined || hinting.has(node.id)) continue
      const next = registry.from((node.id + 1) % 2 ** 48, HINT_SEARCH).map((id) => nodes.get(id)).find((n) => n?.joined && n !== node)
      if (next === undefined || !node.wantsSuccessor(next.id)) continue
      hinting.add(node.id)
      rendezvous(transportOf(node.id), node.id, transportOf(next.id), next).subscribe({
        next: (channel) => {
          hinting.delete(node.id)
          node.channels.add(channel, node.id)
        },
        error: () => hinting.delete(node.id),
      })
    }
  }
  const hints = ringCheckMs > 0 ? timer(ringCheckMs, ringCheckMs, scheduler).subscribe(hintSuccessors) : null

  const testnet: Testnet = {
    scheduler,
    network,
    random,
    nodes,
    coalition,
    identities,
    oracle: () => new RingOracle(nodes.keys()),
    converge(maxMs = options.maxConvergeMs ?? 600_000) {
      const deadline = scheduler.now() + maxMs
      let rounds = 0
      while (scheduler.now() < deadline) {
        const oracle = testnet.oracle()
        if (oracle.ringCorrect(nodes.values()) && oracle.fingersAllCorrect(nodes.values())) return rounds
        scheduler.advanceBy(stabilizeMs)
        rounds++
      }
      return -1
    },
    addPeer(who) {
      let id: number
      if (who === undefined) id = freshId()
      else if (typeof who === 'number') id = who
      else {
        id = parseId(who.id)
        identities.set(id, who)
      }
      // The memory network has one peer per id: a second node would replace the live one here and share its transport.
      if (nodes.has(id)) throw new ExplorerError('JOIN_FAILED', `id ${formatId(id)} is already in the ring`)
      const bootstrap = bootstrapFor(id)
      const node = makeNode(id)
      joinThrough(node, bootstrap)
      return node
    },
    crash(ids) {
      for (const id of ids) {
        const node = nodes.get(id)
        if (!node) continue
        nodes.delete(id)
        registry.remove(id)
        coalition?.members.remove(id)
        network.crash(id)
        node.close()
      }
    },
    async lookup(from, key) {
      const result = firstValueFrom(from.lookup$(key))
      scheduler.advanceBy((options.rpcTimeoutMs ?? 4000) + 1)
      return result
    },
    close() {
      hints?.unsubscribe()
      for (const node of nodes.values()) node.close()
      nodes.clear()
      scheduler.flush({ maxTime: scheduler.now() + 60_000 })
    },
  }
  return testnet
}

/**
 * What the signalling server does at join, in process: a pair of signal
 * pipes between a newcomer and its bootstrap peer. Emits the newcomer's channel.
 */
export function rendezvous(joiner: Transport, joinerId: number, host: Transport, hostNode: RingNode): ReplaySubject<Channel> {
  const toHost = new ReplaySubject<unknown>()
  const toJoiner = new ReplaySubject<unknown>()
  const joinerPort: SignalPort = { signals$: toJoiner, send: (s) => toHost.next(s) }
  const hostPort: SignalPort = { signals$: toHost, send: (s) => toJoiner.next(s) }
  const result = new ReplaySubject<Channel>(1)
  joiner.connect(hostNode.id, joinerPort).subscribe({ next: (ch) => result.next(ch), error: (e) => result.error(e) })
  host.accept(joinerId, hostPort).subscribe({ next: (ch) => hostNode.channels.add(ch, joinerId), error: () => undefined })
  return result
}
