/**
 * The NAT lab matrix (issue 14): five peers (one public, one behind each of
 * a full-cone, a port-restricted and two symmetric NATs; scripts/nat-lab/)
 * × three ways of configuring the signalling server:
 * - none:      `--stun-port off`, no ICE servers at all (host candidates only)
 * - stun:      the default: the server's own STUN responder
 * - stun+turn: that, plus coturn with credentials minted per peer
 * For each: every pair opening one WebRTC channel (transport level: time,
 * candidate types, relayed or not), then the overlay: explorers joining one
 * by one (ring order public → full-cone → port-restricted → symmetric-1 →
 * symmetric-2: the hard neighbours sit next to each other), time to listen,
 * whether the ring is right, and every ordered pair's dial + echo with how
 * it was linked. Needs root (network namespaces), nftables and coturn.
 *
 *   npm run bench:nat [-- --json] [--only none|stun|stun+turn]
 */
import { startAgents, startSignalServer } from '../scripts/nat-lab/agents'
import { createNatLab, type NatLab } from '../scripts/nat-lab/lab'
import { connectPairs, ringOrderedIdentities, runOverlay, type OverlayOutcome, type PairOutcome } from '../scripts/nat-lab/scenarios'

/** Fast ring rounds, as the fault benchmarks use (bench/faults/repair.ts FAULT_TIMING), plus a 4 s dial timeout. */
const EXPLORER = { stabilizeMs: 200, fixFingersMs: 100, rpcTimeoutMs: 1500, connectTimeoutMs: 4000, reportMs: 200, reconnectMinMs: 200, reconnectMaxMs: 2000, dialTimeoutMs: 4000 }

interface ConfigResult {
  config: string
  pairs: PairOutcome[]
  overlay: OverlayOutcome
}

async function runConfig(lab: NatLab, config: string, turn: { urls: string[]; secret: string }): Promise<ConfigResult> {
  const flags = config === 'none' ? ['--stun-port', 'off'] : config === 'stun' ? [] : ['--turn', turn.urls[0], '--turn-secret', turn.secret]
  const server = await startSignalServer(lab, flags)
  try {
    let agents = await startAgents(lab, lab.hosts)
    const pairs = await connectPairs(agents, server.url, 8000)
    await Promise.all(agents.map((a) => a.stop()))
    agents = await startAgents(lab, lab.hosts)
    try {
      const overlay = await runOverlay(agents, { signalUrl: server.url, identities: ringOrderedIdentities(5), explorerOptions: EXPLORER, listenTimeoutMs: 30_000, settleMs: 15_000, dialConcurrency: 4 })
      return { config, pairs, overlay }
    } finally {
      await Promise.all(agents.map((a) => a.stop()))
    }
  } finally {
    await server.stop()
  }
}

function print(lab: NatLab, results: ConfigResult[]): void {
  for (const c of lab.checks) console.log(`NAT ${c.host.padEnd(16)} mapping ${c.seen.mapping}, filtering ${c.seen.filtering}`)
  for (const { config, pairs, overlay } of results) {
    console.log(`\n== ${config}`)
    console.log('pairs (one channel each, transport level):')
    for (const p of pairs) console.log(`  ${`${p.from} ↔ ${p.to}`.padEnd(36)} ${p.ok ? `${String(p.ms).padStart(5)} ms  ${p.types}${p.relayed ? ' (relayed)' : ''}` : `FAILED  ${p.error}`}`)
    console.log('listen (one after the other):')
    for (const l of overlay.listens) console.log(`  ${l.host.padEnd(16)} ${l.id}  ${l.ok ? `${l.ms} ms` : `FAILED  ${l.error}`}`)
    console.log(`ring: ${overlay.ringCorrectMs !== null ? `correct ${overlay.ringCorrectMs} ms after the last listen` : `still wrong 15 s after the last listen: ${overlay.ringProblems.join('; ')}`}`)
    const dials = overlay.dials
    const ok = dials.filter((d) => d.ok).length
    console.log(`dials (ordered pairs, dial + echo): ${ok} of ${dials.length}`)
    for (const d of dials) console.log(`  ${`${d.from} → ${d.to}`.padEnd(36)} ${d.ok ? `${String(d.ms).padStart(5)} ms  ${d.via}` : `FAILED  ${d.error}`}`)
    const { frames, overRelayedLinks } = overlay.traffic
    console.log(`traffic: ${overRelayedLinks} of ${frames} frames sent (${((100 * overRelayedLinks) / Math.max(1, frames)).toFixed(1)} %) took a relayed link`)
  }
}

async function main(): Promise<void> {
  const json = process.argv.includes('--json')
  const at = process.argv.indexOf('--only')
  const configs = at >= 0 ? [process.argv[at + 1]] : ['none', 'stun', 'stun+turn']
  const lab = await createNatLab()
  try {
    const turn = await lab.startTurn()
    const results: ConfigResult[] = []
    for (const config of configs) results.push(await runConfig(lab, config, turn))
    if (json) console.log(JSON.stringify({ checks: lab.checks.map(({ host, seen }) => ({ host, ...seen })), results }))
    else print(lab, results)
  } finally {
    await lab.close()
  }
}

main().then(
  () => process.exit(0),
  (error: Error) => {
    console.error(error.message)
    process.exit(1)
  },
)
