import * as wrtc from '@roamhq/wrtc'
import { NEVER, Subject, concat, of, type Observable } from 'rxjs'
import { isExplorerError } from '../../src/errors'
import { MAX_FRAME_BYTES } from '../../src/wire/limits'
import type { Channel, SignalPort } from '../../src/transport/types'
import { DrainWatch } from '../../src/transport/webrtc/drain'
import { SendGauge } from '../../src/transport/webrtc/send-gauge'
import { createWebRtcTransport, type WebRtcTransport, type WebRtcTransportOptions, type WrtcImpl } from '../../src/transport/webrtc'
import { describeTransportCompliance } from './compliance'
import { webrtcHarness } from './webrtc-harness'
import { Recorder, Scope, dial, openPair, patternFrame, sameBytes, tick, waitFor } from './harness'


/**
 * A wrtc whose RTCPeerConnection records every instance, so tests can check
 * that each one ends up closed and see the configuration it was given.
 */
function spyWrtc(): { impl: WrtcImpl; created: RTCPeerConnection[] } {
  const created: RTCPeerConnection[] = []
  const Base = wrtc.RTCPeerConnection
  const Spy = function (config?: RTCConfiguration) {
    const pc = new Base(config)
    created.push(pc)
    everyPc.push(pc)
    return pc
  } as unknown as typeof RTCPeerConnection
  return { impl: { ...wrtc, RTCPeerConnection: Spy }, created }
}

const LOW = 64 * 1024
const everyTransport: WebRtcTransport[] = []
const everyPc: RTCPeerConnection[] = []
const isClosed = (pc: RTCPeerConnection) => pc.signalingState === 'closed'

function transport(options: WebRtcTransportOptions = {}, impl = spyWrtc().impl): WebRtcTransport {
  const t = createWebRtcTransport({ wrtc: impl, lowWaterMark: LOW, ...options })
  everyTransport.push(t)
  return t
}

describeTransportCompliance('webrtc (simple-peer + @roamhq/wrtc, loopback)', webrtcHarness(() => transport(), LOW))

describe('WebRTC transport', () => {
  let scope: Scope
  beforeEach(() => (scope = new Scope()))
  afterEach(() => scope.dispose())

  /** Subscribes and resolves with the error; rejects if a channel or completion comes instead. */
  const errorOf = (source: Observable<Channel>): Promise<unknown> =>
    new Promise((resolve, reject) => {
      scope.add(
        source.subscribe({
          next: (ch) => (scope.track(ch), reject(new Error('expected an error, got a channel'))),
          error: resolve,
          complete: () => reject(new Error('expected an error, got completion')),
        }),
      )
    })

  /** A real offer, from a connector whose further signals go nowhere. */
  async function realOffer(): Promise<{ offer: { type: string; sdp: string }; candidates: unknown[] }> {
    const sent: unknown[] = []
    const t = transport()
    const sub = scope.add(t.connect(1, { signals$: NEVER, send: (s) => sent.push(s) }).subscribe())
    await waitFor(() => (sent.some((s) => (s as { type?: string }).type === 'candidate') ? true : undefined))
    sub.unsubscribe()
    return { offer: sent[0] as { type: string; sdp: string }, candidates: sent.slice(1) }
  }

  // Regression: with a data channel announced by 'datachannel', @roamhq/wrtc
  // delivered the frames that beat that event out of order (last one first) in
  // about one round in five. The transport negotiates the channel instead.
  it('frames sent the moment connect emits reach the accepter in order (25 rounds)', async () => {
    for (let round = 0; round < 25; round++) {
      const roundScope = new Scope()
      const { wire, connect$ } = dial(roundScope, transport(), 1, transport(), 2)
      roundScope.add(
        connect$.subscribe((ch) => {
          roundScope.track(ch)
          for (let i = 0; i < 20; i++) ch.send(patternFrame(round, i, 50))
        }),
      )
      const far = await waitFor(() => wire.accepted[0], () => wire.acceptError)
      const atFar = new Recorder(far, roundScope)
      await atFar.count(20)
      roundScope.dispose()
      expect(atFar.frames.map((f, i) => sameBytes(f, patternFrame(round, i, 50)))).toEqual(Array(20).fill(true))
    }
  })

  it('frames arrive as plain Uint8Arrays (not Node Buffers)', async () => {
    const { near, far } = await openPair(scope, transport(), 1, transport(), 2)
    const atFar = new Recorder(far, scope)
    near.send(new Uint8Array([1, 2, 3]).subarray(1))
    await atFar.count(1)
    expect(Object.getPrototypeOf(atFar.frames[0])).toBe(Uint8Array.prototype)
    expect([...atFar.frames[0]]).toEqual([2, 3])
  })

  /** A full-size frame carrying its index: cheap to make and to check at 10^3 frames. */
  const indexed = (i: number): Uint8Array => {
    const frame = new Uint8Array(MAX_FRAME_BYTES).fill(i & 0xff)
    new DataView(frame.buffer).setUint32(0, i)
    return frame
  }
  const indexOf = (frame: Uint8Array): number => new DataView(frame.buffer, frame.byteOffset).getUint32(0)

  /** Counts frames, remembering the first one out of order (-1: none). */
  function orderCheck(channel: Channel) {
    const state = { received: 0, firstWrong: -1, completed: false }
    scope.add(
      channel.frames$.subscribe({
        next: (f) => {
          if (state.firstWrong < 0 && (indexOf(f) !== state.received || f[MAX_FRAME_BYTES - 1] !== (state.received & 0xff))) {
            state.firstWrong = state.received
          }
          state.received++
        },
        complete: () => (state.completed = true),
      }),
    )
    return state
  }

  // @roamhq/wrtc's bufferedAmount counts only what overflowed the SCTP send
  // queue (megabytes), so these build a real backlog rather than a small burst.
  it('drained() under a real backlog fires at or below the low-water mark; nothing is lost', async () => {
    const { near, far } = await openPair(scope, transport(), 1, transport(), 2)
    const atFar = orderCheck(far)
    let sent = 0
    while (near.bufferedAmount <= 4 * LOW && sent < 5000) near.send(indexed(sent++))
    expect(near.bufferedAmount).toBeGreaterThan(4 * LOW)
    const seenAt = await new Promise<number>((resolve) =>
      scope.add(near.drained().subscribe(() => resolve(near.bufferedAmount))),
    )
    expect(seenAt).toBeLessThanOrEqual(LOW)
    await waitFor(() => (atFar.received === sent ? true : undefined))
    expect(atFar.firstWrong).toBe(-1)
  })

  it('a sender that ignores backpressure loses the channel, never frames from the middle', async () => {
    const { near, far } = await openPair(scope, transport(), 1, transport(), 2)
    const atFar = orderCheck(far)
    let sent = 0
    while (sent < 10_000 && near.send(indexed(sent))) sent++
    expect(sent).toBeLessThan(10_000) // the native 16 MiB queue limit was hit...
    expect(near.isOpen).toBe(false) // ...and the channel closed instead of dropping frames
    await waitFor(() => (atFar.completed ? true : undefined))
    expect(atFar.received).toBeLessThanOrEqual(sent)
    expect(atFar.firstWrong).toBe(-1) // what arrived is an in-order prefix
  })

  it.each([
    ['an array', [1, 2]],
    ['an offer with garbage SDP', { type: 'offer', sdp: 'v=0 this is not SDP' }],
    ['an answer (the accepter expects an offer)', { type: 'answer', sdp: 'v=0' }],
    ['a renegotiate request', { type: 'renegotiate', renegotiate: true }],
    ['a transceiver request', { type: 'transceiverRequest', transceiverRequest: { kind: 'audio' } }],
  ])('accept() errors with SIGNAL_FAILED on %s and frees its peer', async (_label, garbage) => {
    const t = transport()
    const port: SignalPort = { signals$: concat(of(garbage), NEVER), send: () => {} }
    const error = await errorOf(t.accept(1, port))
    expect(isExplorerError(error, 'SIGNAL_FAILED')).toBe(true)
    expect(t.livePeers).toBe(0)
  })

  it.each([
    ['a candidate that is not a string', { type: 'candidate', candidate: { candidate: 5, sdpMid: '0' } }],
    ['a garbage candidate line', { type: 'candidate', candidate: { candidate: 'candidate:rubbish', sdpMid: '0' } }],
    ['a candidate without sdpMid/sdpMLineIndex', { type: 'candidate', candidate: { candidate: '' } }],
    ['undefined', undefined],
  ])('accept() errors with SIGNAL_FAILED when a real offer is followed by %s', async (_label, next) => {
    const { offer } = await realOffer()
    const t = transport()
    const port: SignalPort = { signals$: concat(of(offer, next), NEVER), send: () => {} }
    const error = await errorOf(t.accept(1, port))
    expect(isExplorerError(error, 'SIGNAL_FAILED')).toBe(true)
    expect(t.livePeers).toBe(0)
  })

  it('connect() errors with SIGNAL_FAILED on an answer with garbage SDP', async () => {
    const t = transport()
    const replies = new Subject<unknown>()
    let sent = 0
    const port: SignalPort = {
      signals$: replies,
      send: () => {
        if (sent++ === 0) setTimeout(() => replies.next({ type: 'answer', sdp: 'garbage' }), 0)
      },
    }
    const error = await errorOf(t.connect(2, port))
    expect(isExplorerError(error, 'SIGNAL_FAILED')).toBe(true)
    expect(t.livePeers).toBe(0)
  })

  it('connect() errors with SIGNAL_FAILED when the port errors or throws', async () => {
    const t = transport()
    const broken: SignalPort = { signals$: NEVER, send: () => { throw new Error('port gone') } }
    expect(isExplorerError(await errorOf(t.connect(2, broken)), 'SIGNAL_FAILED')).toBe(true)
    const failing = new Subject<unknown>()
    const pending = errorOf(t.connect(2, { signals$: failing, send: () => {} }))
    failing.error(new Error('route lost'))
    expect(isExplorerError(await pending, 'SIGNAL_FAILED')).toBe(true)
    await waitFor(() => (t.livePeers === 0 ? true : undefined))
  })

  it('connect() times out with SIGNAL_FAILED when no answer ever comes', async () => {
    const t = transport({ connectTimeoutMs: 200 })
    const error = await errorOf(t.connect(2, { signals$: NEVER, send: () => {} }))
    expect(isExplorerError(error, 'SIGNAL_FAILED')).toBe(true)
    expect((error as Error).message).toMatch(/200 ms/)
    expect(t.livePeers).toBe(0)
  })

  it('an open offer that opens while nobody named the answering peer fails SIGNAL_FAILED and frees its peer', async () => {
    const a = transport()
    const b = transport()
    const toA = new Subject<unknown>()
    const toB = new Subject<unknown>()
    // The port never learns who answered (remote() stays null).
    const failed = errorOf(a.connect(null, { signals$: toA, send: (s) => toB.next(s), remote: () => null }))
    scope.add(b.accept(1, { signals$: toB, send: (s) => toA.next(s) }).subscribe({ next: (ch) => scope.track(ch), error: () => undefined }))
    const error = await failed
    expect(isExplorerError(error, 'SIGNAL_FAILED')).toBe(true)
    expect((error as Error).message).toMatch(/nobody named/)
    expect(a.livePeers).toBe(0)
  })

  it('aborting connect and accept mid-handshake closes every RTCPeerConnection created', async () => {
    const spy = spyWrtc()
    const a = transport({}, spy.impl)
    const b = transport({}, spy.impl)
    const toB = new Subject<unknown>()
    // b never answers: both sides stay mid-handshake.
    const subA = a.connect(2, { signals$: NEVER, send: (s) => toB.next(s) }).subscribe()
    const subB = b.accept(1, { signals$: toB, send: () => {} }).subscribe()
    await waitFor(() => (spy.created.length === 2 && spy.created[1].remoteDescription ? true : undefined))
    expect(a.livePeers + b.livePeers).toBe(2)
    subA.unsubscribe()
    subB.unsubscribe()
    expect(a.livePeers + b.livePeers).toBe(0)
    await waitFor(() => (spy.created.every(isClosed) ? true : undefined))
  })

  it('makes at most maxPeersPerMinute / 2 RTCPeerConnections at once: the next connect or accept fails SIGNAL_FAILED (busy) without one', async () => {
    const spy = spyWrtc()
    const a = transport({ maxPeersPerMinute: 4 }, spy.impl)
    const errors: unknown[] = []
    const subs = [1, 2, 3].map((remote) => a.connect(remote, { signals$: NEVER, send: () => {} }).subscribe({ error: (e) => errors.push(e) }))
    subs.push(a.accept(4, { signals$: NEVER, send: () => {} }).subscribe({ error: (e) => errors.push(e) }))
    expect(spy.created).toHaveLength(2)
    expect(errors.map((e) => (isExplorerError(e) ? `${e.code} ${/busy/.test(e.message)}` : e))).toEqual(['SIGNAL_FAILED true', 'SIGNAL_FAILED true'])
    subs.forEach((s) => s.unsubscribe())
    await waitFor(() => (spy.created.every(isClosed) ? true : undefined))
  })

  it('a remote whose RTCPeerConnection dies abruptly: frames$ completes on this side', async () => {
    const spyB = spyWrtc()
    const b = transport({}, spyB.impl)
    const { near, far } = await openPair(scope, transport(), 1, b, 2)
    const atNear = new Recorder(near, scope)
    const atFar = new Recorder(far, scope)
    // Not far.close(): kill the connection under simple-peer, as a crash would.
    spyB.created[0].close()
    await atNear.closed()
    expect(near.isOpen).toBe(false)
    expect(near.send(new Uint8Array([1]))).toBe(false)
    expect(atNear.error).toBeUndefined()
    far.close()
    await atFar.closed()
  })

  it('passes iceServers through to the RTCPeerConnection', async () => {
    const spy = spyWrtc()
    const iceServers = [{ urls: 'stun:127.0.0.1:3478' }, { urls: ['turn:127.0.0.1:3479'], username: 'u', credential: 'p' }]
    const t = transport({ iceServers }, spy.impl)
    const sub = t.connect(2, { signals$: NEVER, send: () => {} }).subscribe()
    await waitFor(() => spy.created[0])
    const config = spy.created[0].getConfiguration()
    sub.unsubscribe()
    expect(config.iceServers).toEqual(iceServers.map((s) => expect.objectContaining(s)))
  })

  it('defaults to no ICE servers (no traffic to public STUN servers unless asked)', async () => {
    const spy = spyWrtc()
    const sub = transport({}, spy.impl).connect(2, { signals$: NEVER, send: () => {} }).subscribe()
    await waitFor(() => spy.created[0])
    expect(spy.created[0].getConfiguration().iceServers).toEqual([])
    sub.unsubscribe()
  })

  it('throws BAD_OPTIONS at once without a WebRTC implementation (Node has no globals)', () => {
    let thrown: unknown
    try {
      createWebRtcTransport()
    } catch (e) {
      thrown = e
    }
    expect(isExplorerError(thrown, 'BAD_OPTIONS')).toBe(true)
    expect(() => createWebRtcTransport({ wrtc, lowWaterMark: 10, highWaterMark: 5 })).toThrow(/highWaterMark/)
  })
})

describe('drained() with a browser-style data channel (bufferedamountlow event; fake channel)', () => {
  /** What browsers have and @roamhq/wrtc lacks: the threshold and its event. */
  function fakeChannel() {
    const listeners: Array<() => void> = []
    return {
      bufferedAmount: 0,
      bufferedAmountLowThreshold: 0,
      addEventListener: (_type: string, listener: () => void) => listeners.push(listener),
      fireLow: () => listeners.forEach((l) => l()),
    }
  }
  const setUp = () => {
    const dc = fakeChannel()
    const gauge = new SendGauge(dc as unknown as RTCDataChannel, 1000)
    const watch = new DrainWatch(dc as unknown as RTCDataChannel, gauge, 100, 1)
    const seen: string[] = []
    const watchDrained = () =>
      watch.drained(() => true).subscribe({ next: () => seen.push('next'), complete: () => seen.push('complete') })
    return { dc, gauge, watch, seen, watchDrained }
  }

  it('sets the threshold to the low-water mark and fires on the event once at or below it', () => {
    const { dc, gauge, seen, watchDrained } = setUp()
    expect(dc.bufferedAmountLowThreshold).toBe(100)
    gauge.sent((dc.bufferedAmount = 5000)) // as WebRtcChannel.send does
    watchDrained()
    expect(seen).toEqual([])
    dc.bufferedAmount = 150
    dc.fireLow() // a stray event above the mark changes nothing
    expect(seen).toEqual([])
    dc.bufferedAmount = 100
    dc.fireLow()
    expect(seen).toEqual(['next', 'complete'])
  })

  it('emits at once when the gauge overestimates but the channel already drained (no event will come)', () => {
    const { dc, gauge, seen, watchDrained } = setUp()
    gauge.sent(800) // estimate 800 > low, below high: not re-read by the gauge
    dc.bufferedAmount = 0
    watchDrained()
    expect(seen).toEqual(['next', 'complete'])
  })

  it('release() (the channel closed) completes every waiter', () => {
    const { dc, gauge, watch, seen, watchDrained } = setUp()
    gauge.sent((dc.bufferedAmount = 5000))
    watchDrained()
    watchDrained()
    watch.release()
    expect(seen).toEqual(['next', 'complete', 'next', 'complete'])
  })
})

afterAll(async () => {
  await waitFor(() => (everyTransport.every((t) => t.livePeers === 0) ? true : undefined))
  await waitFor(() => (everyPc.every(isClosed) ? true : undefined))
  // simple-peer's close events land a microtask after destroy.
  await tick(10)
})
