/**
 * What bench/signal.ts (ours vs PeerServer) and bench/signal/cluster.ts (the
 * cluster over Redis) share: server child processes, swarms of raw WebSocket
 * clients, relay rounds.
 */
import { fork, type ChildProcess } from 'node:child_process'
import { generateKeyPairSync, sign, type KeyObject } from 'node:crypto'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { buildSync } from 'esbuild'
import type { CpuBudget } from './cpu-budget'
import { idOfKey } from '../../signal-server/join-proof'
import { joinProofText } from '../../src/protocol/signal-server'
import { RawClient, encodeFrame } from './raw-client'

/** `ours-unproven`: our server before the proven join (issue 12), as a baseline tree may be. */
export type Kind = 'ours' | 'ours-unproven' | 'peerjs'

/** A trickle-ICE candidate, the most common signal (≈ 200 bytes of JSON). */
const candidate = (seq: number) => ({
  type: 'candidate',
  candidate: 'candidate:842163049 1 udp 1677729535 192.0.2.10 56143 typ srflx raddr 0.0.0.0 rport 0 generation 0 ufrag sXP5 network-cost 999',
  sdpMid: '0',
  sdpMLineIndex: 0,
  seq,
})

/** What differs between the servers: URL, join, the relay frame, and how a delivery looks. */
interface Protocol {
  path: (id: string) => string
  /** Sent once connected; null: joining is the connection itself, or the join answers the server's challenge. */
  joinFrame: (id: string) => Buffer | null
  /** The server challenges each connection and the join proves a key (ids are then drawn, not chosen). */
  proven: boolean
  isJoined: (p: Buffer) => boolean
  signalFrame: (to: string, seq: number) => string
  isDelivery: (p: Buffer) => boolean
}

const startsWith = (p: Buffer, prefix: Buffer) => p.length >= prefix.length && p.compare(prefix, 0, prefix.length, 0, prefix.length) === 0
const OURS_JOINED = Buffer.from('{"type":"joined"')
const OURS_SIGNAL = Buffer.from('{"type":"signal"')
const OURS_CHALLENGE = Buffer.from('{"type":"challenge"')
const PEER_OPEN = Buffer.from('{"type":"OPEN"')
const PEER_CANDIDATE = Buffer.from('{"type":"CANDIDATE"')

export const PROTOCOLS: Record<Kind, Protocol> = {
  ours: {
    path: () => '/ws',
    joinFrame: () => null,
    proven: true,
    isJoined: (p) => startsWith(p, OURS_JOINED),
    signalFrame: (to, seq) => JSON.stringify({ type: 'signal', to, data: candidate(seq) }),
    isDelivery: (p) => startsWith(p, OURS_SIGNAL),
  },
  'ours-unproven': {
    path: () => '/ws',
    joinFrame: (id) => encodeFrame(JSON.stringify({ type: 'join', id })),
    proven: false,
    isJoined: (p) => startsWith(p, OURS_JOINED),
    signalFrame: (to, seq) => JSON.stringify({ type: 'signal', to, data: candidate(seq) }),
    isDelivery: (p) => startsWith(p, OURS_SIGNAL),
  },
  peerjs: {
    path: (id) => `/peerjs?key=peerjs&id=${id}&token=t${id}`,
    joinFrame: () => null, // joining is the connection itself; the server answers OPEN
    proven: false,
    isJoined: (p) => startsWith(p, PEER_OPEN),
    signalFrame: (to, seq) => JSON.stringify({ type: 'CANDIDATE', dst: to, payload: candidate(seq) }),
    isDelivery: (p) => startsWith(p, PEER_CANDIDATE),
  },
}

export interface ServerChild {
  child: ChildProcess
  port: number
  path: string
}

export const ROOT = path.resolve(__dirname, '../..')

/**
 * Servers run as plain JavaScript (no TypeScript loader in the measured
 * process, as in production where the package ships compiled): the child is
 * bundled once per source tree with esbuild, npm dependencies left external.
 * `tree` is this checkout by default, or another one (e.g. the code before a change).
 */
const built = new Map<string, string>()
export function buildChild(tree = ROOT): string {
  const cached = built.get(tree)
  if (cached) return cached
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'bench-signal-'))
  const script = path.join(dir, 'server-child.cjs')
  buildSync({
    entryPoints: [path.join(tree, 'bench/signal/server-child.ts')],
    bundle: true,
    platform: 'node',
    format: 'cjs',
    target: 'node20',
    packages: 'external',
    outfile: script,
    logLevel: 'warning',
  })
  process.once('exit', () => fs.rmSync(dir, { recursive: true, force: true }))
  built.set(tree, script)
  return script
}

/** When set, every server child started from now on runs under it (cpu-budget.ts). */
let budget: CpuBudget | null = null
export function setCpuBudget(b: CpuBudget | null): void {
  budget = b
}

/** Starts a server child: `args` go to server-child.ts (its kind first). */
export function spawnServer(args: string[], script = buildChild(), env: NodeJS.ProcessEnv = {}): Promise<ServerChild> {
  // BENCH_CPU_PROF=<dir> writes a V8 CPU profile per server process (open in Chrome DevTools).
  const prof = process.env.BENCH_CPU_PROF ? ['--cpu-prof', '--cpu-prof-dir', path.resolve(process.env.BENCH_CPU_PROF)] : []
  const child = fork(script, args, {
    execArgv: ['--expose-gc', ...prof],
    env: { ...process.env, ...env, NODE_PATH: path.join(ROOT, 'node_modules') },
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  })
  if (budget !== null) budget.confine(child.pid!)
  return new Promise((resolve, reject) => {
    child.once('message', (m: { ready?: boolean; port: number; path: string }) => resolve({ child, port: m.port, path: m.path }))
    child.once('exit', (code) => reject(new Error(`server ${args.join(' ')} exited with ${code}`)))
  })
}

export function memory(s: ServerChild): Promise<{ rss: number; heapUsed: number }> {
  return new Promise((resolve) => {
    s.child.once('message', (m: { rss: number; heapUsed: number }) => resolve(m))
    s.child.send({ cmd: 'mem' })
  })
}

export function cpuMicros(s: ServerChild): Promise<number> {
  return new Promise((resolve) => {
    s.child.once('message', (m: { cpuMicros: number }) => resolve(m.cpuMicros))
    s.child.send({ cmd: 'cpu' })
  })
}

export async function stopServer(s: ServerChild): Promise<void> {
  const exited = new Promise((resolve) => s.child.once('exit', resolve))
  s.child.send({ cmd: 'stop' })
  await exited
}

/**
 * Distinct source addresses per swarm, so runs never compete for ephemeral
 * ports; and a new one every ADDRESS_CLIENTS clients, within our server's
 * default admission per address (burst of 64 joins, 128 live ids).
 */
const ADDRESS_CLIENTS = 64
let addressCounter = 0
const nextLocalAddress = () => {
  // Skip x.x.x.0 (it used to stand in as .1, so two swarms shared an address).
  if ((++addressCounter & 0xff) === 0) addressCounter++
  return `127.${(addressCounter >> 16) & 0xff}.${(addressCounter >> 8) & 0xff}.${addressCounter & 0xff}`
}

export const idOf = (i: number) => (0x100000000000 + i * 104729).toString(16).padStart(12, '0')

/** A client's key for the proven join: node:crypto Ed25519, cheap enough for 10,000 clients. */
interface ClientKey {
  id: string
  key: string
  privateKey: KeyObject
}

function newClientKey(): ClientKey {
  const { publicKey, privateKey } = generateKeyPairSync('ed25519')
  // The raw 32-byte key is the end of its DER SubjectPublicKeyInfo.
  const raw = publicKey.export({ format: 'der', type: 'spki' }).subarray(-32)
  return { id: idOfKey(raw), key: raw.toString('base64url'), privateKey }
}

/** The join answering a challenge frame: the key, and its signature over the nonce and id. */
function proofFrame(who: ClientKey, challenge: Buffer): Buffer {
  const { nonce } = JSON.parse(challenge.toString()) as { nonce: string }
  const sig = sign(null, Buffer.from(joinProofText(nonce, who.id)), who.privateKey).toString('base64url')
  return encodeFrame(JSON.stringify({ type: 'join', id: who.id, key: who.key, sig }))
}

export interface Swarm {
  clients: RawClient[]
  ids: string[]
  delivered: number
  errors: number
  onDelivery: (() => void) | null
}

/**
 * Opens n clients (at most `parallel` handshakes at a time) and waits until
 * each is joined; client i connects to `servers[serverOf(i)]`.
 */
export async function openSwarm(kind: Kind, servers: ServerChild[], n: number, serverOf: (i: number) => number = () => 0, parallel = 250): Promise<Swarm> {
  const proto = PROTOCOLS[kind]
  let localAddress = ''
  const swarm: Swarm = { clients: [], ids: [], delivered: 0, errors: 0, onDelivery: null }
  for (let start = 0; start < n; start += parallel) {
    const batch: Array<Promise<void>> = []
    for (let i = start; i < Math.min(n, start + parallel); i++) {
      if (i % ADDRESS_CLIENTS === 0) localAddress = nextLocalAddress()
      const who = proto.proven ? newClientKey() : null
      const id = who?.id ?? idOf(i)
      let joined!: () => void
      const isJoined = new Promise<void>((resolve) => (joined = resolve))
      let isUp = false
      const client = new RawClient(servers[serverOf(i)].port, proto.path(id), localAddress, {
        onText(p) {
          if (proto.isDelivery(p)) {
            swarm.delivered++
            swarm.onDelivery?.()
          } else if (!isUp && proto.isJoined(p)) {
            isUp = true
            joined()
          } else if (who !== null && !isUp && startsWith(p, OURS_CHALLENGE)) {
            client.write(proofFrame(who, p))
          } else {
            swarm.errors++
          }
        },
      })
      swarm.clients.push(client)
      swarm.ids.push(id)
      batch.push(
        client.ready.then(() => {
          const join = proto.joinFrame(id)
          if (join) client.write(join)
          return isJoined
        }),
      )
    }
    await Promise.all(batch)
  }
  return swarm
}

export function closeSwarm(swarm: Swarm): void {
  for (const c of swarm.clients) c.destroy()
}

/** Client i's signal targets: `partner` is i+1 (a handshake burst to one peer), `random` any other. */
export type Pattern = 'partner' | 'random'

/** Pre-encodes each client's k signals (one buffer, one write per client). */
export function buildLoad(kind: Kind, swarm: Swarm, k: number, round: number, pattern: Pattern): Buffer[] {
  const proto = PROTOCOLS[kind]
  const n = swarm.ids.length
  let seed = 1 + round
  const random = () => (seed = (seed * 48271) % 2147483647)
  return swarm.ids.map((_, i) => {
    const frames: Buffer[] = []
    for (let s = 0; s < k; s++) {
      let target = (i + 1) % n
      if (pattern === 'random') {
        target = random() % n
        if (target === i) target = (i + 1) % n
      }
      frames.push(encodeFrame(proto.signalFrame(swarm.ids[target], s)))
    }
    return Buffer.concat(frames)
  })
}

/** One round: every client writes its k signals; resolves when all n·k are delivered. */
export function relayRound(swarm: Swarm, load: Buffer[], expected: number): Promise<{ seconds: number; rate: number }> {
  return new Promise((resolve, reject) => {
    const base = swarm.delivered
    const timer = setTimeout(() => reject(new Error(`round stalled: ${swarm.delivered - base}/${expected} delivered, ${swarm.errors} error frames`)), 60_000)
    let t0 = 0n
    swarm.onDelivery = () => {
      if (swarm.delivered - base === expected) {
        const seconds = Number(process.hrtime.bigint() - t0) / 1e9
        swarm.onDelivery = null
        clearTimeout(timer)
        resolve({ seconds, rate: expected / seconds })
      }
    }
    t0 = process.hrtime.bigint()
    for (let i = 0; i < load.length; i++) swarm.clients[i].write(load[i])
  })
}

export const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b)
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2
}

export const mib = (b: number) => `${(b / 1048576).toFixed(1)} MiB`
