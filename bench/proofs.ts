/**
 * The cost of proven channel set-ups (issue 12), in one run:
 *  - channel set-up: a real WebRTC pair (@roamhq/wrtc, loopback) whose
 *    signals go through the real SignalGate on both ends, with Ed25519
 *    proofs (WebCrypto, as an explorer in Node or a browser uses them) and
 *    with a prover that proves nothing (the reference: what a set-up cost
 *    before). Variants interleave; medians of ms per set-up; the ratio is the
 *    figure.
 *  - bytes: the signalling of one set-up (overlay envelopes, as sent) and
 *    what the proofs add (the offer and the answer each carry a key and a
 *    signature; candidates carry none).
 *  - the join proof: one signature (client) and one verification (server),
 *    against the WebRTC set-up time in the same run.
 *
 *   npm run bench:proofs -- [--json] [--rounds 5] [--per-round 6]
 */
import { parseArgs } from 'node:util'
import { of, Subject, type Subscription } from 'rxjs'
import { newIdentity, signAs, type Identity } from '../src/identity/identity'
import { verifySignature } from '../src/identity/ed25519'
import { SignalGate } from '../src/identity/signal-gate'
import { identityProver, type SignalProver } from '../src/identity/signal-proof'
import { parseId } from '../src/ids'
import { encodeEnvelope, signalEnvelope } from '../src/ring/signal-envelope'
import type { Channel, SignalPort } from '../src/transport/types'
import { createWebRtcTransport, type WebRtcTransport, type WrtcImpl } from '../src/transport/webrtc'

// eslint-disable-next-line @typescript-eslint/no-require-imports
const wrtc = require('@roamhq/wrtc') as WrtcImpl
const { values } = parseArgs({ options: { json: { type: 'boolean' }, rounds: { type: 'string', default: '5' }, 'per-round': { type: 'string', default: '6' } } })
const ROUNDS = Number(values.rounds)
const PER_ROUND = Number(values['per-round'])

/** Proves nothing: every signal passes, as before the proofs. */
const unproven: SignalProver = {
  prove$: () => of({ k: '', p: '' }),
  check$: () => of(new Uint8Array(32)),
}

interface End {
  id: number
  transport: WebRtcTransport
  prover: SignalProver
}

/** One channel set-up between a and b through two SignalGates (as OverlaySignalling wires them); resolves with the bytes of signalling sent. */
async function setUp(a: End, b: End, session: number): Promise<{ ms: number; bytes: number; proofBytes: number; channels: Channel[] }> {
  const toA = new Subject<unknown>()
  const toB = new Subject<unknown>()
  let bytes = 0
  let proofBytes = 0
  const gate = (self: End, remote: End, deliverTo: Subject<unknown>, send: () => SignalGate) =>
    new SignalGate(
      { prover: self.prover, bindingOf: (signal) => self.transport.bindingOf(signal), session, remote: remote.id },
      {
        out: (signal, proof) => {
          const sent = encodeEnvelope(signalEnvelope(signal, true, proof)).byteLength
          bytes += sent
          if (proof !== undefined) proofBytes += sent - encodeEnvelope(signalEnvelope(signal, true, undefined)).byteLength
          send().receive(signal, proof)
        },
        deliver: (signal) => deliverTo.next(signal),
        fail: (reason) => deliverTo.error(new Error(reason)),
      },
    )
  let gateA: SignalGate, gateB: SignalGate
  gateA = gate(a, b, toA, () => gateB)
  gateB = gate(b, a, toB, () => gateA)
  const portA: SignalPort = { signals$: toA, send: (s) => gateA.send(s) }
  const portB: SignalPort = { signals$: toB, send: (s) => gateB.send(s) }
  const started = performance.now()
  const subs: Subscription[] = []
  const channels = await Promise.all([
    new Promise<Channel>((resolve, reject) => subs.push(a.transport.connect(b.id, portA).subscribe({ next: resolve, error: reject }))),
    new Promise<Channel>((resolve, reject) => subs.push(b.transport.accept(a.id, portB).subscribe({ next: resolve, error: reject }))),
  ])
  const ms = performance.now() - started
  gateA.close()
  gateB.close()
  return { ms, bytes, proofBytes, channels }
}

const median = (xs: number[]) => [...xs].sort((x, y) => x - y)[Math.floor(xs.length / 2)]

async function main(): Promise<void> {
  const identities: Identity[] = [newIdentity(), newIdentity()]
  const ids = identities.map((i) => parseId(i.id))
  const transports = ids.map(() => createWebRtcTransport({ wrtc, maxPeersPerMinute: 10_000 }))
  const ends = (proven: boolean): [End, End] =>
    [0, 1].map((i) => ({ id: ids[i], transport: transports[i], prover: proven ? identityProver(identities[i], ids[i]) : unproven })) as [End, End]

  const times = { proven: [] as number[], unproven: [] as number[] }
  const bytes = { perSetUp: 0, proofs: 0 }
  let session = 1
  for (let round = 0; round < ROUNDS; round++) {
    for (const variant of round % 2 === 0 ? (['unproven', 'proven'] as const) : (['proven', 'unproven'] as const)) {
      for (let i = 0; i < PER_ROUND; i++) {
        const [a, b] = ends(variant === 'proven')
        const result = await setUp(a, b, session++)
        result.channels.forEach((c) => c.close())
        times[variant].push(result.ms)
        if (variant === 'proven') Object.assign(bytes, { perSetUp: result.bytes, proofs: result.proofBytes })
      }
    }
  }

  // The join proof: the client signs the server's challenge, the server verifies it.
  const challenge = new Uint8Array(64)
  const joinStarted = performance.now()
  const JOINS = 200
  for (let i = 0; i < JOINS; i++) {
    const sig = await signAs(identities[0], challenge)
    if (!(await verifySignature(identities[0].publicKey, challenge, sig))) throw new Error('join proof failed')
  }
  const joinProofMs = (performance.now() - joinStarted) / JOINS

  const figures = {
    setUpMs: { proven: median(times.proven), unproven: median(times.unproven) },
    setUpRatio: median(times.proven) / median(times.unproven),
    signalBytesPerSetUp: bytes,
    joinProofMs,
    joinProofOverSetUp: joinProofMs / median(times.unproven),
    samples: times.proven.length,
  }
  if (values.json) console.log(JSON.stringify(figures))
  else {
    console.log(`channel set-up over WebRTC (median of ${figures.samples}): proven ${figures.setUpMs.proven.toFixed(1)} ms, unproven ${figures.setUpMs.unproven.toFixed(1)} ms, ratio ${figures.setUpRatio.toFixed(2)}x`)
    console.log(`signalling bytes per proven set-up: ${bytes.perSetUp}, of which the proofs (offer and answer): ${bytes.proofs}`)
    console.log(`join proof (sign + verify): ${joinProofMs.toFixed(3)} ms = ${(figures.joinProofOverSetUp * 100).toFixed(1)}% of an unproven channel set-up`)
  }
  process.exit(0)
}

void main()
