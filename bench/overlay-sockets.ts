/**
 * What end-to-end encryption costs a routed socket, in one run, over a 2-hop
 * path (one relay) of an in-memory ring in virtual time, so the figures are
 * the CPU the peers spend (every peer runs in this process), not network time:
 *  - dial + echo: dial$, one 32-byte message there and back, close;
 *  - throughput: 16 MiB in 64 KiB messages, one way, until all arrived.
 * Variants, interleaved over rounds:
 *  - noise: the sockets as shipped (Noise XX, ChaCha20-Poly1305 by OpenSSL in Node);
 *  - no-aead: the same handshake and frames with an AEAD that only copies and
 *    appends a zero tag. Plaintext sockets no longer exist; this is their
 *    stand-in (the handshake's X25519 and Ed25519 remain in its dial figure).
 * Beside them, the raw cost: one XX handshake (both sides, one thread), and
 * seal + open of 16 KiB frames with FrameSealer/FrameOpener alone.
 * Figures are medians of CPU time (process.cpuUsage); ratios within the run.
 *
 *   npm run bench:sockets -- [--json] [--rounds 5] [--dials 40] [--mib 16]
 */
import { parseArgs } from 'node:util'
import { verifySignature } from '../src/identity'
import { createNoiseCredentials, defaultAead, FrameOpener, FrameSealer, SecureInitiator, SecureResponder, type Aead } from '../src/noise'
import { MAX_CHUNK_BYTES } from '../src/sockets/wire'
import { connect, pathLength, record, securityOf, socketRing, type SocketRing } from '../__tests__/sockets/helpers'
import { copyOnlyAead } from './copy-only-aead'
import { median } from './pair/link'

const { values } = parseArgs({
  options: {
    json: { type: 'boolean' },
    rounds: { type: 'string', default: '5' },
    dials: { type: 'string', default: '40' },
    mib: { type: 'string', default: '16' },
  },
})
const ROUNDS = Number(values.rounds)
const DIALS = Number(values.dials)
const TOTAL = Number(values.mib) * 1024 * 1024
const MESSAGE = 64 * 1024

const VARIANTS: Record<string, Aead> = { noise: defaultAead(), 'no-aead': copyOnlyAead }

const cpuMs = (): number => {
  const { user, system } = process.cpuUsage()
  return (user + system) / 1000
}

async function cpuTimed(work: () => Promise<void>): Promise<number> {
  const start = cpuMs()
  await work()
  return cpuMs() - start
}

/** A pair of peers whose Opens cross exactly one relay. */
async function twoHopPair(ring: SocketRing): Promise<[number, number]> {
  for (let a = 0; a < ring.nodes.length; a++) {
    for (let b = 0; b < ring.nodes.length; b++) {
      if (a !== b && !ring.nodes[a].channels.has(ring.nodes[b].id) && (await pathLength(ring, a, b)) === 2) return [a, b]
    }
  }
  throw new Error('no pair exactly two hops apart')
}

async function dialEcho(ring: SocketRing, a: number, b: number): Promise<void> {
  const { local } = await connect(ring, a, b)
  const got = record(local.data$)
  local.send(new Uint8Array(32))
  if (!(await ring.runUntil(() => got.values.length === 1))) throw new Error('no echo')
  local.close()
  await ring.runUntil(() => ring.layers[a].size === 0 && ring.layers[b].size === 0)
}

async function stream(ring: SocketRing, a: number, b: number): Promise<void> {
  const { local, remote } = await connect(ring, a, b)
  let received = 0
  remote.data$.subscribe((m) => (received += m.byteLength))
  const message = new Uint8Array(MESSAGE).fill(7)
  for (let sent = 0; sent < TOTAL; sent += MESSAGE) local.send(message)
  if (!(await ring.runUntil(() => received === TOTAL, 600_000))) throw new Error(`only ${received} of ${TOTAL} bytes arrived`)
  local.close()
  await ring.runUntil(() => ring.layers[a].size === 0 && ring.layers[b].size === 0)
}

/** One XX handshake, both sides in this thread, credentials made once (as a socket layer does). */
async function rawHandshakes(count: number): Promise<number[]> {
  const ring = socketRing(2)
  const [ci, cr] = await Promise.all(ring.identities.map((identity) => createNoiseCredentials(securityOf(identity).signer)))
  const times: number[] = []
  for (let i = 0; i < count; i++) {
    times.push(
      await cpuTimed(async () => {
        const prologue = new Uint8Array([i])
        const initiator = new SecureInitiator(ci, { verify: verifySignature, expectedId: ring.identities[1].id, prologue })
        const responder = new SecureResponder(cr, initiator.message1, { verify: verifySignature, expected: { id: ring.identities[0].id }, prologue })
        const { message3 } = await initiator.complete(responder.message2)
        await responder.complete(message3)
      }),
    )
  }
  await ring.close()
  return times
}

/** Seal + open of TOTAL bytes in full socket frames, FrameSealer/FrameOpener alone: MB/s. */
function rawBoxes(): number {
  const key = new Uint8Array(32).fill(1)
  const aead = defaultAead()
  const sealer = new FrameSealer(aead, key)
  const opener = new FrameOpener(aead, key)
  const chunk = new Uint8Array(MAX_CHUNK_BYTES).fill(7)
  const ad = new Uint8Array(23)
  const start = cpuMs()
  for (let counter = 0, done = 0; done < TOTAL; counter++, done += MAX_CHUNK_BYTES) opener.open(counter, ad, sealer.seal(counter, ad, chunk))
  return TOTAL / 1e6 / ((cpuMs() - start) / 1000)
}

async function main(): Promise<void> {
  const log = (line: string) => void (values.json || console.log(line))
  const ring = socketRing(12)
  ring.layers.forEach((layer) => layer.incoming$.subscribe((s) => s.data$.subscribe({ next: (d) => s.send(d), error: () => undefined })))
  const [a, b] = await twoHopPair(ring)
  log(`2-hop pair: ${ring.nodes[a].id.toString(16)} → ${ring.nodes[b].id.toString(16)}; ${ROUNDS} rounds, ${DIALS} dials and ${TOTAL / 2 ** 20} MiB per variant and round`)
  const dialMs: Record<string, number[]> = { noise: [], 'no-aead': [] }
  const mbps: Record<string, number[]> = { noise: [], 'no-aead': [] }
  const names = Object.keys(VARIANTS)
  // Round 0 warms the JIT and is not counted (the first variant measured would pay for it).
  for (let round = 0; round <= ROUNDS; round++) {
    // Alternate which variant goes first: the one after pays for the other's garbage.
    for (const name of round % 2 === 0 ? names : [...names].reverse()) {
      for (const layer of ring.layers) layer.handshakes.aead = VARIANTS[name]
      const dials: number[] = []
      for (let i = 0; i < DIALS; i++) dials.push(await cpuTimed(() => dialEcho(ring, a, b)))
      const throughput = TOTAL / 1e6 / ((await cpuTimed(() => stream(ring, a, b))) / 1000)
      log(`round ${round === 0 ? '0 (warm-up)' : round} ${name.padEnd(8)} dial+echo ${median(dials).toFixed(2)} ms   throughput ${throughput.toFixed(1)} MB/s`)
      if (round === 0) continue
      dialMs[name].push(median(dials))
      mbps[name].push(throughput)
    }
  }
  await ring.close()
  const handshakeMs = median(await rawHandshakes(DIALS))
  const boxesMBps = rawBoxes()
  const figures = {
    node: process.version,
    aead: VARIANTS.noise.implementation,
    hops: 2,
    rounds: ROUNDS,
    dialEchoMs: { noise: median(dialMs.noise), noAead: median(dialMs['no-aead']) },
    throughputMBps: { noise: median(mbps.noise), noAead: median(mbps['no-aead']) },
    ratios: {
      throughputNoiseToNoAead: median(mbps.noise) / median(mbps['no-aead']),
      dialEchoNoiseToNoAead: median(dialMs.noise) / median(dialMs['no-aead']),
    },
    raw: { handshakeMs, sealOpenMBps: boxesMBps },
    perRound: { dialEchoMs: dialMs, throughputMBps: mbps },
  }
  if (values.json) return console.log(JSON.stringify(figures, null, 2))
  log('')
  log(`dial + echo (CPU ms, median)   noise ${figures.dialEchoMs.noise.toFixed(2)}   no-aead ${figures.dialEchoMs.noAead.toFixed(2)}   ratio ${figures.ratios.dialEchoNoiseToNoAead.toFixed(2)}`)
  log(`throughput (MB/s of CPU)       noise ${figures.throughputMBps.noise.toFixed(1)}   no-aead ${figures.throughputMBps.noAead.toFixed(1)}   ratio ${figures.ratios.throughputNoiseToNoAead.toFixed(2)}`)
  log(`raw: one XX handshake (both sides) ${handshakeMs.toFixed(2)} ms; seal + open alone ${boxesMBps.toFixed(0)} MB/s (${figures.aead})`)
}

main().catch((error) => {
  console.error(error)
  process.exit(1)
})
