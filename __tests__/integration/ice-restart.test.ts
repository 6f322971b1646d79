import { execFileSync } from 'node:child_process'
import type { Instance as Peer } from 'simple-peer'
import { createExplorer, type Explorer } from '../../src'
import { firstValueFrom } from 'rxjs'
import type { Diagnostic } from '../../src/diagnostics'
import { newIdentity, type Identity } from '../../src/identity'
import { recordProvenKey } from '../../src/identity/channel-keys'
import { identityProver } from '../../src/identity/signal-proof'
import { encodeEnvelope } from '../../src/ring/signal-envelope'
import { sdpBinding } from '../../src/transport/webrtc/signal-shape'
import { DEFAULT_TTL, FrameFlag, FrameType, encodeFrame } from '../../src/wire/frame'
import { formatId } from '../../src/ids'
import type { Channel } from '../../src/transport/types'
import type { WebRtcChannel, WrtcImpl } from '../../src/transport/webrtc'
import { peerConnectionOf } from '../../src/transport/webrtc/peer-internals'
import { ringCorrect, ringOf, startServer, waitFor, type Server } from '../explorer/helpers'

// eslint-disable-next-line @typescript-eslint/no-require-imports
const wrtc = require('@roamhq/wrtc') as WrtcImpl
// eslint-disable-next-line @typescript-eslint/no-require-imports
const WebSocket = require('ws') as new (url: string) => object

const TIMING = { stabilizeMs: 200, fixFingersMs: 100, rpcTimeoutMs: 1500, connectTimeoutMs: 3000, reportMs: 200 }

/**
 * A channel's network path dies while both peers live (a home NAT's mapping
 * flushed: the ports it used lead nowhere any more). Modelled over real
 * WebRTC on loopback by an nftables table of this test's own that drops every
 * UDP datagram from or to the ports one RTCPeerConnection gathered its
 * candidates on: that connection's ICE loses every path, nothing else does,
 * and new ports (an ICE restart gathers afresh, a new connection too) pass.
 */
class PathCut {
  private readonly table = `wxice${process.pid}`
  private made = false

  cut(ports: number[]): void {
    const set = `{ ${ports.join(', ')} }`
    nft(['add', 'table', 'inet', this.table])
    this.made = true
    nft(['add', 'chain', 'inet', this.table, 'out', '{ type filter hook output priority 0 ; policy accept ; }'])
    nft(['add', 'rule', 'inet', this.table, 'out', 'udp', 'sport', set, 'counter', 'drop'])
    nft(['add', 'rule', 'inet', this.table, 'out', 'udp', 'dport', set, 'counter', 'drop'])
  }

  /** Datagrams the rules dropped so far. */
  dropped(): number {
    const listing = nft(['list', 'table', 'inet', this.table])
    return [...listing.matchAll(/packets (\d+)/g)].reduce((sum, m) => sum + Number(m[1]), 0)
  }

  restore(): void {
    if (this.made) nft(['delete', 'table', 'inet', this.table])
    this.made = false
  }
}

const nft = (args: string[]): string => execFileSync('nft', args.flatMap((a) => a.split(' ')), { encoding: 'utf8' })

/** The UDP ports the channel's connection gathered candidates on (it owns them: no other socket has them now). */
async function portsOf(channel: Channel): Promise<number[]> {
  const pc = peerConnectionOf((channel as unknown as { peer: Peer }).peer)!
  const ports = new Set<number>()
  ;(await pc.getStats()).forEach((s: { type: string; port?: number; protocol?: string }) => {
    if (s.type === 'local-candidate' && s.protocol === 'udp' && s.port) ports.add(s.port)
  })
  return [...ports]
}

/** A pair of peers with a direct WebRTC channel: `offerer` dialled it (the connector end), `answerer` accepted. */
function directPair(explorers: Explorer[]): { offerer: Explorer; answerer: Explorer } | undefined {
  for (const offerer of explorers) {
    for (const answerer of explorers) {
      const there = ringOf(offerer).channels.channel(parseInt(answerer.id, 16)) as Partial<WebRtcChannel> | undefined
      const back = ringOf(answerer).channels.channel(parseInt(offerer.id, 16))
      if (there?.role === 'connector' && back !== undefined) return { offerer, answerer }
    }
  }
  return undefined
}

describe('ICE restarts signalled through the overlay (real WebRTC, a path cut with nftables)', () => {
  let server: Server
  let explorers: Explorer[] = []
  const cut = new PathCut()

  beforeAll(async () => {
    server = await startServer()
  })

  afterEach(async () => {
    cut.restore()
    await Promise.all(explorers.map((e) => e.close()))
    explorers = []
  }, 30_000)

  afterAll(async () => {
    cut.restore()
    await server?.app.close()
  })

  const identities = new Map<string, Identity>()

  /** Three peers in a ring (so signals have a way around a cut channel), and the channel between two of them cut (unless `cutting` is false). */
  async function cutOneChannel(iceRestarts: boolean, cutting = true, timing: Partial<typeof TIMING> = {}) {
    for (let i = 0; i < 3; i++) {
      const identity = newIdentity()
      identities.set(identity.id, identity)
      explorers.push(createExplorer({ signalUrl: server.url, wrtc, WebSocket: WebSocket as never, identity, iceRestarts, ...TIMING, ...timing }))
      await explorers[i].listen()
    }
    const pair = await (async () => {
      let found: ReturnType<typeof directPair>
      await waitFor(() => (found = directPair(explorers)) !== undefined, 20_000, 'a direct channel')
      return found!
    })()
    const [offererId, answererId] = [parseInt(pair.offerer.id, 16), parseInt(pair.answerer.id, 16)]
    const atOfferer = ringOf(pair.offerer).channels.channel(answererId) as WebRtcChannel
    const atAnswerer = ringOf(pair.answerer).channels.channel(offererId) as WebRtcChannel
    const diagnostics: Diagnostic[] = []
    for (const e of [pair.offerer, pair.answerer]) e.diagnostics$.subscribe((d) => diagnostics.push(d))
    const downs: string[] = []
    pair.offerer.peers$.subscribe((event) => event.type === 'down' && downs.push(event.id))
    const cutPorts = await portsOf(atOfferer)
    if (cutting) cut.cut(cutPorts)
    const third = explorers.find((e) => e !== pair.offerer && e !== pair.answerer)!
    return { ...pair, third, offererId, answererId, atOfferer, atAnswerer, cutPorts, diagnostics, downs, cutAt: performance.now() }
  }

  it.each<[string, { rpcTimeoutMs?: number }]>([
    ['the ring notices first (rpcTimeoutMs 1500)', {}],
    ['the keepalives notice first (rpcTimeoutMs 4000, the default)', { rpcTimeoutMs: 4000 }],
  ])('a channel whose path is cut is renewed by an ICE restart signalled through the third peer, and lives on (same object, new path): %s', async (_, timing) => {
    const { offerer, answerer, answererId, offererId, atOfferer, atAnswerer, cutPorts, downs, diagnostics, cutAt } = await cutOneChannel(true, true, timing)
    const onNewPath = async () => {
      const path = await atOfferer.selectedPath()
      return path !== null && !cutPorts.includes(path.local.port) && ringOf(offerer).channels.carries(answererId)
    }
    await waitFor(onNewPath, 30_000, 'the channel to carry again on a new path').catch((e) => {
      throw new Error(`${(e as Error).message}; closed: ${atOfferer.closeReason}; diagnostics: ${JSON.stringify(diagnostics.map((d) => `${d.code} ${d.message}`))}`)
    })
    console.log(JSON.stringify({ scenario: 'path cut, ICE restart', rpcTimeoutMs: timing.rpcTimeoutMs ?? TIMING.rpcTimeoutMs, renewedMs: Math.round(performance.now() - cutAt), datagramsDropped: cut.dropped() }))
    expect(cut.dropped()).toBeGreaterThan(0) // the cut did bite
    // The very same channel objects on both ends, open, in the ring's channel sets: nothing was re-made.
    expect([atOfferer.isOpen, atAnswerer.isOpen]).toEqual([true, true])
    expect(ringOf(offerer).channels.channel(answererId)).toBe(atOfferer)
    expect(ringOf(answerer).channels.channel(offererId)).toBe(atAnswerer)
    expect(downs).toEqual([])
    expect(ringOf(answerer).channels.carries(offererId)).toBe(true)
    await waitFor(() => ringCorrect(explorers), 10_000, 'the ring to be right')
  }, 60_000)

  it('without ICE restarts the cut channel is dropped and the ring replaces it with a new one', async () => {
    const { offerer, answererId, atOfferer, downs, cutAt } = await cutOneChannel(false)
    await waitFor(() => !atOfferer.isOpen, 30_000, 'the cut channel to close')
    const closedMs = performance.now() - cutAt
    await waitFor(() => {
      const now = ringOf(offerer).channels.channel(answererId)
      return now !== undefined && now !== atOfferer && ringOf(offerer).channels.carries(answererId)
    }, 30_000, 'a new channel to the same peer')
    expect(downs).toContain(formatId(answererId))
    console.log(JSON.stringify({ scenario: 'path cut, no ICE restart', closedMs: Math.round(closedMs), replacedMs: Math.round(performance.now() - cutAt), reason: atOfferer.closeReason }))
  }, 60_000)

  /** The remote ICE username fragment the channel's connection uses now (from its remote description). */
  const remoteUfrag = (channel: Channel): string | undefined =>
    /a=ice-ufrag:(\S+)/.exec(peerConnectionOf((channel as unknown as { peer: Peer }).peer)!.remoteDescription?.sdp ?? '')?.[1]

  it('a restart offer forged in another peer\'s name by a relay is refused: the channel keeps its path (AUTH_FAILED, SIGNAL_UNPROVEN)', async () => {
    const { answerer, third: attacker, offererId, answererId, atAnswerer, diagnostics } = await cutOneChannel(true, false)
    const attackerId = parseInt(attacker.id, 16)
    const before = remoteUfrag(atAnswerer)
    // The attacker relays traffic, so it may have seen the offerer's SDP (the DTLS fingerprint is no secret): it
    // offers a "restart" with that fingerprint and ICE credentials of its own, to move the channel's path to itself.
    const sdp = peerConnectionOf((atAnswerer as unknown as { peer: Peer }).peer)!.remoteDescription!.sdp
      .replace(/a=ice-ufrag:\S+/g, 'a=ice-ufrag:evil').replace(/a=ice-pwd:\S+/g, 'a=ice-pwd:evilevilevilevilevilevil')
    const forged = { type: 'offer', sdp }
    const conn = 0x51ed
    // Signed with its own key (its id is not the offerer's), as a restart of the channel answerer↔offerer.
    const proof = await firstValueFrom(identityProver(identities.get(attacker.id)!, attackerId).prove$(answererId, conn, `ice-restart\n${sdpBinding(forged)}`))
    const frame = encodeFrame({ type: FrameType.Signal, ttl: DEFAULT_TTL, flags: FrameFlag.Exact, source: offererId, dest: answererId, conn, seq: 0, payload: encodeEnvelope({ s: forged, r: 1, k: proof.k, p: proof.p }) })
    // In a ring of three the attacker is the answerer's neighbour (its successor or predecessor) once the ring settled.
    await waitFor(() => ringOf(attacker).channels.carries(answererId), 20_000, 'a channel from the attacker to the answerer')
    expect(ringOf(attacker).channels.send(answererId, frame)).toBe(true)
    const refused = () => diagnostics.some((d) => d.code === 'SIGNAL_UNPROVEN' && d.peer === formatId(offererId))
    await waitFor(() => refused() || remoteUfrag(atAnswerer) === 'evil', 10_000, 'the forged restart to be refused or applied')
    expect(remoteUfrag(atAnswerer)).toBe(before)
    expect(refused()).toBe(true)
    expect(atAnswerer.isOpen).toBe(true)
    expect(ringOf(answerer).channels.channel(offererId)).toBe(atAnswerer)
  }, 60_000)

  it('a restart signed by another key than the one the channel proved is refused (as if an id collided): the channel is dropped, not renewed', async () => {
    const { offerer, answererId, offererId, atOfferer, atAnswerer, diagnostics } = await cutOneChannel(true, false)
    // The answerer's record of who its channel reached now names another key, of the same id for all the proof can tell.
    recordProvenKey(atAnswerer, newIdentity().publicKey)
    cut.cut(await portsOf(atOfferer))
    await waitFor(() => !atOfferer.isOpen, 30_000, 'the channel to be dropped')
    expect(diagnostics.some((d) => d.code === 'SIGNAL_UNPROVEN' && d.peer === formatId(offererId) && /not signed by the key the channel proved/.test(d.message))).toBe(true)
    expect(ringOf(offerer).channels.channel(answererId)).not.toBe(atOfferer)
  }, 60_000)
})
