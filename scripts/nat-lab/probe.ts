/**
 * The NAT behaviour check (RFC 4787 terms, the tests of RFC 5780 over a
 * tiny JSON-over-UDP protocol). A probe server on the lab's internet listens
 * on three endpoints: A:p, A:q and B:p (two addresses, two ports).
 * - Mapping: one fresh inside socket sends to all three and each answers
 *   with the address and port it saw. All equal: endpoint-independent
 *   (EIM); equal for A:p and A:q only: address-dependent (ADM); else
 *   address- and port-dependent (APDM).
 * - Filtering: another fresh socket sends to A:p only, asking the server to
 *   send to what it saw from A:q and from B:p as well. Both arrive:
 *   endpoint-independent (EIF); only A:q's: address-dependent (ADF); only
 *   the direct answer: address- and port-dependent (APDF).
 * Mapping is probed before filtering, on separate sockets: on Linux a stray
 * inbound packet leaves a conntrack entry that would move the next mapping.
 *
 * Run as a process: `probe.ts server A B p q` (prints "ready"), or
 * `probe.ts client A B p q OWN-ADDRESS` (prints one JSON ProbeResult line).
 */
import { createSocket, type Socket } from 'node:dgram'
import type { NatType } from './nat-rules'

export type Mapping = 'endpoint-independent' | 'address-dependent' | 'address-and-port-dependent'
export type Filtering = Mapping

export interface ProbeResult {
  /** The inside socket's own address and port (mapping probe). */
  local: string
  /** What each of A:p, A:q, B:p saw as our source. */
  seen: [string, string, string]
  /** Whether the packets from A:q and B:p reached the filtering socket. */
  arrived: { otherPort: boolean; otherAddress: boolean }
}

export interface NatBehaviour {
  /** False when the server saw our own address: no NAT on the way. */
  translated: boolean
  mapping: Mapping
  filtering: Filtering
}

export function classify(result: ProbeResult): NatBehaviour {
  const [ap, aq, bp] = result.seen
  const mapping: Mapping = ap === aq && aq === bp ? 'endpoint-independent' : ap === aq ? 'address-dependent' : 'address-and-port-dependent'
  const { otherPort, otherAddress } = result.arrived
  const filtering: Filtering = otherAddress ? 'endpoint-independent' : otherPort ? 'address-dependent' : 'address-and-port-dependent'
  return { translated: ap !== result.local, mapping, filtering }
}

/** What each lab NAT must show; null: a host on the internet, no NAT. */
export const EXPECTED: Record<NatType | 'none', NatBehaviour> = {
  none: { translated: false, mapping: 'endpoint-independent', filtering: 'endpoint-independent' },
  'full-cone': { translated: true, mapping: 'endpoint-independent', filtering: 'endpoint-independent' },
  'port-restricted': { translated: true, mapping: 'endpoint-independent', filtering: 'address-and-port-dependent' },
  symmetric: { translated: true, mapping: 'address-and-port-dependent', filtering: 'address-and-port-dependent' },
}

/** Why `seen` is not `expected` (null when it is). */
export function mismatch(name: string, seen: NatBehaviour, expected: NatBehaviour): string | null {
  const wrong = (Object.keys(expected) as Array<keyof NatBehaviour>).filter((k) => seen[k] !== expected[k])
  if (wrong.length === 0) return null
  return `${name}: ${wrong.map((k) => `${k} is ${String(seen[k])}, expected ${String(expected[k])}`).join('; ')}`
}

// ---- the processes ---------------------------------------------------------

interface Request {
  op: 'map' | 'filter'
}

type Endpoint = [address: string, port: number]

function endpoints(argv: string[]): Endpoint[] {
  const [a, b, p, q] = argv
  return [[a, Number(p)], [a, Number(q)], [b, Number(p)]]
}

function bound(address: string, port: number): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const socket = createSocket('udp4')
    socket.once('error', reject)
    socket.bind(port, address, () => resolve(socket))
  })
}

async function serve(argv: string[]): Promise<void> {
  const sockets = await Promise.all(endpoints(argv).map(([address, port]) => bound(address, port)))
  sockets.forEach((socket) =>
    socket.on('message', (bytes, from) => {
      let request: Request
      try {
        request = JSON.parse(bytes.toString()) as Request
      } catch {
        return
      }
      const seen = `${from.address}:${from.port}`
      const answer = (via: Socket): void => via.send(JSON.stringify({ seen }), from.port, from.address)
      answer(socket)
      if (request.op === 'filter') sockets.filter((other) => other !== socket).forEach(answer)
    }),
  )
  process.stdout.write('ready\n')
}

/** Sends to `targets` from one fresh socket; collects what comes back, by sender, for `waitMs` after the first answer. */
async function exchange(op: Request['op'], targets: Endpoint[], waitMs: number): Promise<{ port: number; answers: Map<string, string> }> {
  const socket = await bound('0.0.0.0', 0)
  const answers = new Map<string, string>()
  const done = new Promise<void>((resolve) => {
    const giveUp = setTimeout(resolve, 3000)
    socket.on('message', (bytes, from) => {
      answers.set(`${from.address}:${from.port}`, (JSON.parse(bytes.toString()) as { seen: string }).seen)
      if (answers.size === 1) {
        clearTimeout(giveUp)
        setTimeout(resolve, waitMs)
      }
    })
  })
  for (const [address, port] of targets) socket.send(JSON.stringify({ op }), port, address)
  await done
  const { port } = socket.address()
  socket.close()
  return { port, answers }
}

async function probe(argv: string[]): Promise<ProbeResult> {
  const targets = endpoints(argv)
  const key = ([address, port]: Endpoint): string => `${address}:${port}`
  const mapped = await exchange('map', targets, 300)
  const seen = targets.map((t) => mapped.answers.get(key(t)) ?? 'none') as [string, string, string]
  const filtered = await exchange('filter', [targets[0]], 500)
  if (!filtered.answers.has(key(targets[0]))) throw new Error(`no answer from the probe server at ${key(targets[0])}`)
  return {
    local: `${argv[4]}:${mapped.port}`,
    seen,
    arrived: { otherPort: filtered.answers.has(key(targets[1])), otherAddress: filtered.answers.has(key(targets[2])) },
  }
}

if (require.main === module) {
  const [mode, ...argv] = process.argv.slice(2)
  if (mode === 'server') void serve(argv)
  else if (mode === 'client') probe(argv).then((r) => process.stdout.write(JSON.stringify(r) + '\n'), (e: Error) => {
    process.stderr.write(`probe: ${e.message}\n`)
    process.exit(1)
  })
}
