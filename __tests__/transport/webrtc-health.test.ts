import * as wrtc from '@roamhq/wrtc'
import { ReplaySubject, Subject } from 'rxjs'
import { isExplorerError } from '../../src/errors'
import type { SignalPort } from '../../src/transport/types'
import { createWebRtcTransport, WebRtcChannel, type WebRtcTransport, type WebRtcTransportOptions } from '../../src/transport/webrtc'
import { spawnFarEnd } from '../../bench/dead-peer/far-peer'
import { Recorder, Scope, openPair, patternFrame, sameBytes, tick, waitFor } from './harness'

const transports: WebRtcTransport[] = []
const transport = (options: WebRtcTransportOptions = {}): WebRtcTransport => {
  const t = createWebRtcTransport({ wrtc, ...options })
  transports.push(t)
  return t
}

/** The host candidates a bare RTCPeerConnection gathers on this machine (what the transport starts from). */
async function gatheredHere(): Promise<string[]> {
  const pc = new wrtc.RTCPeerConnection()
  pc.createDataChannel('probe', { negotiated: true, id: 0 })
  const addresses: string[] = []
  const done = new Promise<void>((resolve) => {
    pc.onicecandidate = (e) => (e.candidate ? addresses.push(e.candidate.candidate.split(' ')[4]) : resolve())
  })
  await pc.setLocalDescription(await pc.createOffer())
  await done
  pc.close()
  return addresses
}

const ufragOf = (signal: unknown): string | undefined => /a=ice-ufrag:(\S+)/.exec((signal as { sdp?: string }).sdp ?? '')?.[1]

/** A wrtc that keeps every RTCPeerConnection it makes. */
function keptWrtc(): { impl: typeof wrtc; made: RTCPeerConnection[] } {
  const made: RTCPeerConnection[] = []
  const Kept = function (config?: RTCConfiguration) {
    const pc = new wrtc.RTCPeerConnection(config)
    made.push(pc)
    return pc
  } as unknown as typeof RTCPeerConnection
  return { impl: { ...wrtc, RTCPeerConnection: Kept }, made }
}

/** The local ICE username fragment in use (getStats' transport). */
async function localUfrag(pc: RTCPeerConnection): Promise<string> {
  let ufrag = ''
  ;(await pc.getStats()).forEach((s: { type: string; iceLocalUsernameFragment?: string }) => {
    if (s.type === 'transport' && s.iceLocalUsernameFragment) ufrag = s.iceLocalUsernameFragment
  })
  return ufrag
}

describe('WebRTC transport: candidates, health, keepalives, ICE restarts (real WebRTC)', () => {
  let scope: Scope
  beforeEach(() => (scope = new Scope()))
  afterEach(() => scope.dispose())

  it('does not signal loopback candidates when this machine has another address (and does when it has none)', async () => {
    const gathered = await gatheredHere()
    const loopback = (a: string) => a === '127.0.0.1' || a === '::1'
    const signals: unknown[] = []
    const { near } = await openPair(scope, transport(), 1, transport(), 2)
    scope.add(transport().connect(2, { signals$: new Subject(), send: (s) => signals.push(s) }).subscribe())
    await tick(1500) // host gathering is over well within this
    const signalled = signals.flatMap((s) => ((s as { type: string }).type === 'candidate' ? [(s as { candidate: { candidate: string } }).candidate.candidate.split(' ')[4]] : []))
    expect(signalled.length).toBeGreaterThan(0)
    if (gathered.some((a) => !loopback(a))) {
      expect(gathered.some(loopback)).toBe(true) // libwebrtc does gather them here...
      expect(signalled.filter(loopback)).toEqual([]) // ...and they are left out
    } else {
      expect(signalled.every(loopback)).toBe(true) // loopback is all there is: it must go out
    }
    expect((await (near as WebRtcChannel).selectedPath())?.local.type).toBe('host')
  })

  it('keepalives keep an idle channel open and healthy and never show up as frames', async () => {
    const options = { keepaliveMs: 100, silenceMs: 600 }
    const { near, far } = await openPair(scope, transport(options), 1, transport(options), 2)
    const atNear = new Recorder(near, scope)
    const atFar = new Recorder(far, scope)
    const health: boolean[] = []
    scope.add(near.health$!.subscribe((h) => health.push(h)))
    await tick(1500) // well past silenceMs: only keepalives crossed
    expect([near.isOpen, far.isOpen]).toEqual([true, true])
    expect([atNear.frames.length, atFar.frames.length]).toEqual([0, 0])
    expect(health).toEqual([true])
    near.send(patternFrame(1, 1, 100))
    await atFar.count(1)
    expect(sameBytes(atFar.frames[0], patternFrame(1, 1, 100))).toBe(true)
  })

  it('a remote killed with SIGKILL: the channel turns unhealthy, then closes for silence (not after libwebrtc\'s ~17 s ICE failure)', async () => {
    const options = { keepaliveMs: 250, silenceMs: 1500 }
    const farEnd = spawnFarEnd(options)
    try {
      const near = await new Promise<WebRtcChannel>((resolve, reject) =>
        scope.add(transport(options).connect(2, farEnd.port).subscribe({ next: (c) => resolve(scope.track(c) as WebRtcChannel), error: reject })),
      )
      await farEnd.open
      const atNear = new Recorder(near, scope)
      near.send(patternFrame(2, 0, 64))
      await atNear.count(1) // echoed: the far end is alive
      const seen: string[] = []
      scope.add(near.health$!.subscribe({ next: (h) => seen.push(h ? 'healthy' : 'unhealthy'), complete: () => seen.push('closed') }))
      await farEnd.kill()
      await atNear.closed()
      expect(seen).toEqual(['healthy', 'unhealthy', 'closed'])
      expect(near.closeReason).toBe('silent')
    } finally {
      await farEnd.kill()
    }
  })

  /** Wires an ICE restart between two ends: `offerer` restarts, the answerer accepts on the first signal. */
  function restartBetween(offerer: WebRtcChannel, answerer: WebRtcChannel, tamper: (s: unknown) => unknown = (s) => s) {
    const toOfferer = new Subject<unknown>()
    const toAnswerer = new ReplaySubject<unknown>()
    const seen: unknown[] = []
    const offererPort: SignalPort = { signals$: toOfferer, send: (s) => (seen.push(s), toAnswerer.next(s)) }
    const answererPort: SignalPort = { signals$: toAnswerer, send: (s) => (seen.push(s), toOfferer.next(tamper(s))) }
    const result = (side: WebRtcChannel, port: SignalPort, offer: boolean) =>
      new Promise<unknown>((resolve) => {
        scope.add((offer ? side.restartIce(port) : side.acceptIceRestart(port)).subscribe({ error: resolve, complete: () => resolve('done') }))
      })
    const offered = result(offerer, offererPort, true)
    const answered = result(answerer, answererPort, false)
    return { seen, offered, answered }
  }

  it.each(['connector', 'accepter'] as const)('an ICE restart offered by the %s: fresh ICE credentials, same connection, frames flow on in order', async (by) => {
    const kept = keptWrtc()
    const a = transport({ wrtc: kept.impl })
    const b = transport({ wrtc: kept.impl })
    const { near, far } = await openPair(scope, a, 1, b, 2)
    const [offerer, answerer] = (by === 'connector' ? [near, far] : [far, near]) as WebRtcChannel[]
    const [offererPc] = by === 'connector' ? kept.made : kept.made.slice(1)
    const atAnswerer = new Recorder(answerer, scope)
    const atOfferer = new Recorder(offerer, scope)
    offerer.send(patternFrame(3, 0, 200))
    await atAnswerer.count(1)
    const before = await localUfrag(offererPc)
    const { seen, offered, answered } = restartBetween(offerer, answerer)
    expect(await offered).toBe('done')
    expect(await answered).toBe('done')
    const [offer, answer] = seen.filter((s) => (s as { type: string }).type !== 'candidate')
    expect((offer as { type: string }).type).toBe('offer')
    expect((answer as { type: string }).type).toBe('answer')
    expect(ufragOf(offer)).not.toBe(before)
    expect(await localUfrag(offererPc)).toBe(ufragOf(offer))
    expect(kept.made).toHaveLength(2) // the same two connections: nothing new was set up
    expect(a.livePeers + b.livePeers).toBe(2)
    for (let i = 1; i <= 20; i++) offerer.send(patternFrame(3, i, 200))
    answerer.send(patternFrame(4, 0, 200))
    await atAnswerer.count(21)
    await atOfferer.count(1)
    expect(atAnswerer.frames.map((f, i) => sameBytes(f, patternFrame(3, i, 200)))).toEqual(Array(21).fill(true))
    expect([near.isOpen, far.isOpen]).toEqual([true, true])
  })

  it('a restart whose answer is garbage fails SIGNAL_FAILED and leaves the channel working; the next one succeeds', async () => {
    const { near, far } = await openPair(scope, transport(), 1, transport(), 2)
    const garbled = restartBetween(near as WebRtcChannel, far as WebRtcChannel, (s) =>
      (s as { type: string }).type === 'answer' ? { type: 'answer', sdp: 'v=0 garbage' } : s,
    )
    const error = await garbled.offered
    expect(isExplorerError(error, 'SIGNAL_FAILED')).toBe(true)
    expect((error as Error).message).toMatch(/ICE restart with 000000000002 failed/)
    const atFar = new Recorder(far, scope)
    await waitFor(() => (near.send(patternFrame(5, 0, 10)) ? true : undefined))
    await atFar.count(1)
    const again = restartBetween(near as WebRtcChannel, far as WebRtcChannel)
    expect(await again.offered).toBe('done')
  })

  it('a second restart while one is under way fails SIGNAL_FAILED; the first completes', async () => {
    const { near, far } = await openPair(scope, transport(), 1, transport(), 2)
    const { offered } = restartBetween(near as WebRtcChannel, far as WebRtcChannel)
    const second = await new Promise<unknown>((resolve) =>
      scope.add((near as WebRtcChannel).restartIce({ signals$: new Subject(), send: () => undefined }).subscribe({ error: resolve, complete: () => resolve('done') })),
    )
    expect(isExplorerError(second, 'SIGNAL_FAILED')).toBe(true)
    expect(await offered).toBe('done')
  })

  it('restartIce on a closed channel throws CHANNEL_CLOSED at once', async () => {
    const { near } = await openPair(scope, transport(), 1, transport(), 2)
    near.close()
    expect(() => (near as WebRtcChannel).restartIce({ signals$: new Subject(), send: () => undefined })).toThrow(expect.objectContaining({ code: 'CHANNEL_CLOSED' }))
  })
})

afterAll(async () => {
  await waitFor(() => (transports.every((t) => t.livePeers === 0) ? true : undefined))
  await tick(10)
})
