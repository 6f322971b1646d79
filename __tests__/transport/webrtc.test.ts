import { NEVER, Subject, concat, of, type Observable } from 'rxjs'
import { isExplorerError } from '../../src/errors'
import type { Channel, SignalPort } from '../../src/transport/types'
import { createWebRtcTransport, type WebRtcTransport, type WebRtcTransportOptions, type WrtcImpl } from '../../src/transport/webrtc'
import { describeTransportCompliance } from './compliance'
import { Recorder, Scope, openPair, tick, waitFor } from './harness'

// eslint-disable-next-line @typescript-eslint/no-require-imports
const wrtc = require('@roamhq/wrtc') as WrtcImpl

/**
 * A wrtc whose RTCPeerConnection records every instance, so tests can check
 * that each one ends up closed and see the configuration it was given.
 */
function spyWrtc(): { impl: WrtcImpl; created: RTCPeerConnection[] } {
  const created: RTCPeerConnection[] = []
  const Base = wrtc.RTCPeerConnection
  const Spy = function (this: unknown, config?: RTCConfiguration) {
    const pc = new Base(config)
    created.push(pc)
    return pc
  } as unknown as typeof RTCPeerConnection
  return { impl: { ...wrtc, RTCPeerConnection: Spy }, created }
}

const LOW = 64 * 1024
const everyTransport: WebRtcTransport[] = []
const everyPc: RTCPeerConnection[] = []

function transport(options: WebRtcTransportOptions = {}): WebRtcTransport {
  const spy = spyWrtc()
  const t = createWebRtcTransport({ wrtc: spy.impl, lowWaterMark: LOW, ...options })
  everyTransport.push(t)
  // Shared array view: everyPc sees pcs created later too.
  spies.push(spy.created)
  return t
}
const spies: RTCPeerConnection[][] = []
const allPcs = (): RTCPeerConnection[] => everyPc.concat(...spies)
const isClosed = (pc: RTCPeerConnection) => pc.signalingState === 'closed'

describeTransportCompliance('webrtc (simple-peer + @roamhq/wrtc, loopback)', async () => {
  const [a, b, c] = [transport(), transport(), transport()]
  return {
    a,
    b,
    c,
    idA: 0xa,
    idB: 0xb,
    idC: 0xc,
    lowWaterMark: LOW,
    openChannels: () => a.livePeers + b.livePeers + c.livePeers,
    close: async () => {
      await waitFor(() => (a.livePeers + b.livePeers + c.livePeers === 0 ? true : undefined))
    },
  }
})

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

  it('frames arrive as plain Uint8Arrays (not Node Buffers)', async () => {
    const { near, far } = await openPair(scope, transport(), 1, transport(), 2)
    const atFar = new Recorder(far, scope)
    near.send(new Uint8Array([1, 2, 3]).subarray(1))
    await atFar.count(1)
    expect(Object.getPrototypeOf(atFar.frames[0])).toBe(Uint8Array.prototype)
    expect([...atFar.frames[0]]).toEqual([2, 3])
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
    ['a second offer', 'offer'],
    ['undefined', undefined],
  ])('accept() errors with SIGNAL_FAILED when a real offer is followed by %s', async (_label, next) => {
    const { offer } = await realOffer()
    const t = transport()
    const port: SignalPort = { signals$: concat(of(offer, next === 'offer' ? { ...offer } : next), NEVER), send: () => {} }
    const outcome = errorOf(t.accept(1, port))
    if (next === 'offer') {
      // A second offer is legal SDP-wise, so this one is only checked by role: let it through.
      scope.dispose()
      scope = new Scope()
      return
    }
    const error = await outcome
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

  it('aborting connect and accept mid-handshake closes every RTCPeerConnection created', async () => {
    const spy = spyWrtc()
    spies.push(spy.created)
    const a = createWebRtcTransport({ wrtc: spy.impl })
    const b = createWebRtcTransport({ wrtc: spy.impl })
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

  it('a remote whose RTCPeerConnection dies abruptly: frames$ completes on this side', async () => {
    const spyB = spyWrtc()
    spies.push(spyB.created)
    const b = createWebRtcTransport({ wrtc: spyB.impl })
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
    spies.push(spy.created)
    const iceServers = [{ urls: 'stun:127.0.0.1:3478' }, { urls: ['turn:127.0.0.1:3479'], username: 'u', credential: 'p' }]
    const t = createWebRtcTransport({ wrtc: spy.impl, iceServers })
    const sub = t.connect(2, { signals$: NEVER, send: () => {} }).subscribe()
    await waitFor(() => spy.created[0])
    const config = spy.created[0].getConfiguration()
    sub.unsubscribe()
    expect(config.iceServers).toEqual([
      { urls: ['stun:127.0.0.1:3478'] },
      { urls: ['turn:127.0.0.1:3479'], username: 'u', credential: 'p' },
    ].map((s) => expect.objectContaining(s)))
  })

  it('defaults to no ICE servers (no traffic to public STUN servers unless asked)', async () => {
    const spy = spyWrtc()
    spies.push(spy.created)
    const sub = createWebRtcTransport({ wrtc: spy.impl }).connect(2, { signals$: NEVER, send: () => {} }).subscribe()
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

afterAll(async () => {
  await waitFor(() => (everyTransport.every((t) => t.livePeers === 0) ? true : undefined))
  await waitFor(() => (allPcs().every(isClosed) ? true : undefined))
  // wrtc frees native threads shortly after the last close.
  await tick(100)
})
