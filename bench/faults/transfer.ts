import { createHash } from 'node:crypto'
import { firstValueFrom } from 'rxjs'
import { createExplorer, type Explorer, type ExplorerOptions, type ExplorerSocket } from '../../src'
import { explorerInternals } from '../../src/explorer/internals'
import { formatId, parseId } from '../../src/ids'
import { identitiesInArc } from '../../src/testnet/identities'
import type { RoutedSocket, SenderStats } from '../../src/sockets'
import type { WrtcImpl } from '../../src/transport/webrtc'
import { spawnPeers, type PeerProcess } from './crash-peers'
import { FAULT_TIMING, until } from './repair'
import { describeRing, fingerProblems, localState, ringProblems } from './ring-state'

export const MESSAGES = 640
export const MESSAGE_BYTES = 16 * 1024

/**
 * The ring for the transfer: 7 peers whose ids lie within a quarter of the
 * ring (ids are drawn, not chosen), each keeping one finger row, the top one
 * (half the ring away), which starts beyond the last of them and resolves to
 * the first: each peer's channels are its successor, its predecessor and the
 * first peer. A dial from p1 to p4 then travels p1 → p2 → p3 → p4 (3 hops;
 * p3 has the channel to p4), and its acknowledgements come back p4 → p0 → p1.
 */
export const PEERS = 7
const ARC = 1 / 4
const TRANSFER_RING = { maxFingers: 1 }

export interface TransferFigures {
  /** Source, the two intermediates, target: measured, from the peers that forwarded a probe's frames. */
  path: string[]
  killed: string
  /** Which intermediate was killed: 1 (next to the source), 2 (next to the target), 0 none (a reference run). */
  killedHop: number
  messages: number
  bytes: number
  /** Every message arrived once, numbered 0 … 639 in order; the SHA-256 of what arrived equals what was sent. */
  inOrder: boolean
  duplicates: number
  hashMatch: boolean
  /** From the first send until the last message arrived, and the rate over it. */
  ms: number
  mbps: number
  /** When the intermediate was killed (ms after the first send), and how many messages had arrived. */
  killedAtMs: number
  killedAfterMessages: number
  /** The longest gap between two messages arriving: the outage the sockets bridged. */
  stallMs: number
  /** The dialler's sending half: retransmissions, timeouts (in a row at most), RTO. */
  sender: SenderStats
  /** The remote's data$ completed after the last message (the close came through too). */
  completed: boolean
}

export interface TransferRing {
  explorers: Explorer[]
  /** Sockets dialled to a peer go here instead of being echoed, while set. */
  collect: Map<string, (socket: ExplorerSocket) => void>
  victim: PeerProcess
  ids: number[]
  close(): Promise<void>
}

/** The ring above, with peer `victimIndex` (1 … 5) in a child process; resolves once its pointers and fingers are right. */
export async function startTransferRing(signalUrl: string, wrtc: WrtcImpl, victimIndex: number, options: Partial<ExplorerOptions> = FAULT_TIMING, guardMs = 60_000): Promise<TransferRing> {
  const identities = identitiesInArc(PEERS, ARC)
  const ids = identities.map((identity) => parseId(identity.id))
  const local = identities.filter((_, k) => k !== victimIndex)
  const explorers = local.map((identity) => createExplorer({ ...options, ...TRANSFER_RING, signalUrl, wrtc, identity }))
  const collect = new Map<string, (socket: ExplorerSocket) => void>()
  for (const e of explorers) {
    e.incoming$.subscribe((socket) => {
      const sink = collect.get(e.id)
      if (sink) sink(socket)
      else socket.data$.subscribe({ next: (data) => socket.send(data), error: () => undefined, complete: () => socket.close() })
    })
  }
  const victim$ = spawnPeers(signalUrl, [identities[victimIndex]], { ...options, ...TRANSFER_RING })
  let victim: PeerProcess | null = null
  const close = async () => {
    await victim?.kill()
    await Promise.all(explorers.map((e) => e.close()))
  }
  const states = async () => [...explorers.map(localState), ...(victim?.alive ? await victim.states() : [])]
  try {
    ;[victim] = await Promise.all([victim$, ...explorers.map((e) => e.listen())])
    // Fingers too: a lookup answered while the ring was still forming may have left a finger (and its channel) on a peer of the cluster.
    await until(async () => {
      const all = await states()
      return [...ringProblems(all), ...fingerProblems(all)]
    }, guardMs, 'the transfer ring to form', async () => describeRing(await states()))
  } catch (error) {
    victim ??= await victim$.catch(() => null)
    await close()
    throw error
  }
  return { explorers, collect, victim, ids, close }
}

/**
 * Closes every channel that neither end needs (predecessor, successor,
 * fingers): what concurrent joins left behind. Leaves the ring and the hub.
 */
async function pruneSpareChannels(ring: TransferRing): Promise<void> {
  const states = [...ring.explorers.map(localState), ...(await ring.victim.states())]
  const needs = new Map(states.map((s) => [s.id, new Set([s.predecessor, s.successors[0], ...s.fingers.map(([, peer]) => peer)])]))
  for (const e of ring.explorers) {
    const { ring: node } = explorerInternals(e)
    const self = node.id
    for (const remote of node.channels.remotes()) {
      if (!needs.get(self)?.has(remote) && !needs.get(remote)?.has(self)) node.channels.close(remote)
    }
  }
}

/**
 * Which peers relay a socket's data from `from` to `to`: 64 messages, and
 * every peer's forwarded-frame counter before and after (source and target
 * excluded: their own frames count too). Ordered clockwise from the source.
 */
async function probePath(ring: TransferRing, from: Explorer, to: Explorer): Promise<string[]> {
  const before = await forwardedCounts(ring)
  let arrived = 0
  const accepted = nextAccepted(ring, to)
  const socket = await firstValueFrom(from.dial$(to.id))
  ;(await accepted).data$.subscribe({ next: () => void arrived++, error: () => undefined })
  for (let i = 0; i < 64; i++) socket.send(new Uint8Array(1000))
  await until(() => (arrived === 64 ? [] : [`${arrived} of 64 probe messages`]), 10_000, 'the probe')
  const after = await forwardedCounts(ring)
  socket.close()
  const ends = new Set([from.id, to.id])
  const relays = [...after.keys()].filter((id) => !ends.has(formatId(id)) && after.get(id)! - (before.get(id) ?? 0) >= 64)
  const order = (id: number) => (id - parseInt(from.id, 16) + 2 ** 48) % 2 ** 48
  return [from.id, ...relays.sort((a, b) => order(a) - order(b)).map(formatId), to.id]
}

/**
 * The next socket `target` accepts. The dialler's dial$ emits once the target
 * proved its key; the target emits its socket a moment later, once the
 * dialler's last handshake message arrived: wait for it, not for the dial.
 */
function nextAccepted(ring: TransferRing, target: Explorer): Promise<ExplorerSocket> {
  return new Promise((resolve, reject) => {
    const timeout = setTimeout(() => reject(new Error(`${target.id} did not accept the socket within 10 s`)), 10_000)
    ring.collect.set(target.id, (socket) => {
      clearTimeout(timeout)
      ring.collect.delete(target.id)
      resolve(socket)
    })
  })
}

async function forwardedCounts(ring: TransferRing): Promise<Map<number, number>> {
  const states = [...ring.explorers.map(localState), ...(await ring.victim.states())]
  return new Map(states.map((s) => [s.id, s.forwarded]))
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))

/**
 * 10 MiB from p1 to p4 as 640 numbered 16 KiB messages; the child process
 * holding an intermediate is killed once 30 % have arrived. Resolves once
 * every message arrived (or throws after `guardMs` with what did).
 */
export async function transferThroughCrash(ring: TransferRing, killedHop: 0 | 1 | 2, guardMs = 60_000): Promise<TransferFigures> {
  const byId = (k: number) => ring.explorers.find((e) => e.id === formatId(ring.ids[k]))!
  const source = byId(1)
  const target = byId(4)
  const killed = killedHop === 0 ? '' : formatId(ring.ids[killedHop === 1 ? 2 : 3])
  if (killedHop > 0 && !ring.victim.ids.includes(killed)) throw new Error(`${killed} is not the peer in the child process`)
  const expected = [1, 2, 3, 4].map((k) => formatId(ring.ids[k]))
  // Channels left by the joins are pruned, then the path is measured; maintenance may open one
  // again meanwhile (a lookup racing the prune), so a few attempts.
  let path: string[] = []
  for (let attempt = 0; attempt < 5 && path.join() !== expected.join(); attempt++) {
    await pruneSpareChannels(ring)
    path = await probePath(ring, source, target)
  }
  if (path.join() !== expected.join()) {
    throw new Error(`the probe took ${path.join(' → ')}, not ${expected.join(' → ')}\n${describeRing([...ring.explorers.map(localState), ...(await ring.victim.states())])}`)
  }

  // The target keeps what arrives (no echo).
  const accepting = nextAccepted(ring, target)
  const socket = await firstValueFrom(source.dial$(target.id))
  const accepted = await accepting
  const arrivals: number[] = []
  const seqs: number[] = []
  const received = createHash('sha256')
  let bytes = 0
  let completed = false
  let failed: unknown = null
  let killedAtMs = -1
  let killedAfterMessages = -1
  const t0 = performance.now()
  accepted.data$.subscribe({
    next: (m) => {
      arrivals.push(performance.now() - t0)
      seqs.push(new DataView(m.buffer, m.byteOffset, m.byteLength).getUint32(0))
      received.update(m)
      bytes += m.byteLength
      if (killedHop > 0 && killedAtMs < 0 && seqs.length >= 0.3 * MESSAGES) {
        killedAtMs = performance.now() - t0
        killedAfterMessages = seqs.length
        void ring.victim.kill()
      }
    },
    error: (e) => (failed = e),
    complete: () => (completed = true),
  })
  const sent = createHash('sha256')
  for (let i = 0; i < MESSAGES; i++) {
    const message = new Uint8Array(MESSAGE_BYTES)
    for (let j = 0; j < MESSAGE_BYTES; j += 4) new DataView(message.buffer).setUint32(j, (i * 2654435761 + j) >>> 0)
    new DataView(message.buffer).setUint32(0, i)
    sent.update(message)
    socket.send(message)
  }
  const deadline = performance.now() + guardMs
  while (seqs.length < MESSAGES && failed === null) {
    if (performance.now() > deadline) throw new Error(`only ${seqs.length} of ${MESSAGES} messages arrived within ${guardMs} ms (sender ${JSON.stringify((socket as RoutedSocket).stats)})`)
    await sleep(10)
  }
  if (failed !== null) throw failed
  const ms = arrivals[arrivals.length - 1]
  const stats = (socket as RoutedSocket).stats!
  socket.close()
  await until(() => (completed ? [] : ['the remote end to complete']), 10_000, 'the close')
  let stallMs = 0
  for (let i = 1; i < arrivals.length; i++) stallMs = Math.max(stallMs, arrivals[i] - arrivals[i - 1])
  const inOrder = seqs.every((s, i) => s === i)
  return {
    path,
    killed,
    killedHop,
    messages: seqs.length,
    bytes,
    inOrder,
    duplicates: seqs.length - new Set(seqs).size,
    hashMatch: received.digest('hex') === sent.digest('hex'),
    ms,
    mbps: bytes / 1e6 / (ms / 1000),
    killedAtMs,
    killedAfterMessages,
    stallMs,
    sender: stats,
    completed,
  }
}
