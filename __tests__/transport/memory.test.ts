import { NEVER, Subject, concat, of, throwError, type Observable } from 'rxjs'
import { seededRandom } from '../../src/testnet/random'
import { isExplorerError } from '../../src/errors'
import { VirtualScheduler } from '../../src/scheduler/virtual-scheduler'
import { MemoryNetwork, type MemoryNetworkOptions } from '../../src/transport/memory'
import type { Channel, SignalPort } from '../../src/transport/types'
import { Scope, dial } from './harness'

/** Virtual-time recording of one channel's frames$. */
function watch(ch: Channel, sched: VirtualScheduler, scope: Scope) {
  const log: Array<[number, number[] | 'complete']> = []
  scope.add(
    ch.frames$.subscribe({
      next: (f) => log.push([sched.now(), [...f]]),
      error: () => log.push([sched.now(), 'error' as never]),
      complete: () => log.push([sched.now(), 'complete']),
    }),
  )
  return log
}

function errorOf(source: Observable<Channel>, scope: Scope): unknown {
  let error: unknown
  scope.add(source.subscribe({ next: (ch) => scope.track(ch), error: (e) => (error = e) }))
  return error
}

describe('MemoryNetwork (virtual time)', () => {
  let sched: VirtualScheduler
  let scope: Scope
  beforeEach(() => {
    sched = new VirtualScheduler()
    scope = new Scope()
  })
  afterEach(() => scope.dispose())

  const network = (options: MemoryNetworkOptions = {}) => new MemoryNetwork({ scheduler: sched, ...options })
  /** With synchronous signal ports the whole handshake completes inside subscribe. */
  function open(net: MemoryNetwork, from: number, to: number): [Channel, Channel] {
    const { wire, connect$ } = dial(scope, net.transport(from), from, net.transport(to), to)
    let near: Channel | undefined
    scope.add(connect$.subscribe((ch) => (near = scope.track(ch))))
    if (near === undefined || wire.accepted.length !== 1) throw new Error('handshake did not complete synchronously')
    return [near, wire.accepted[0]]
  }

  it('delivers after exactly latencyMs, and the remote completes one latency after close()', () => {
    const net = network({ latencyMs: 10 })
    const [a, b] = open(net, 1, 2)
    const atB = watch(b, sched, scope)
    a.send(new Uint8Array([1]))
    sched.advanceBy(3)
    a.send(new Uint8Array([2]))
    a.close()
    sched.flush()
    expect(atB).toEqual([[10, [1]], [13, [2]], [13, 'complete']])
    expect(b.isOpen).toBe(false)
  })

  it('keeps order when latency varies: a frame never overtakes the one before', () => {
    const latencies = [50, 10, 30, 0, 10]
    let k = 0
    const net = network({ latencyMs: () => latencies[k++ % latencies.length] })
    const [a, b] = open(net, 1, 2)
    const atB = watch(b, sched, scope)
    for (let i = 1; i <= 4; i++) a.send(new Uint8Array([i]))
    sched.advanceTo(100)
    a.send(new Uint8Array([5]))
    sched.flush()
    expect(atB).toEqual([[50, [1]], [50, [2]], [50, [3]], [50, [4]], [110, [5]]])
  })

  it('a burst on one channel costs one pending scheduler action, not one per frame', () => {
    const net = network({ latencyMs: 5 })
    const [a, b] = open(net, 1, 2)
    watch(b, sched, scope)
    for (let i = 0; i < 1000; i++) a.send(new Uint8Array([i & 0xff]))
    expect(sched.pending).toBe(1)
    sched.flush()
    expect(net.stats.framesDelivered).toBe(1000)
  })

  it('drops frames with lossRate, reproducibly for a seeded random', () => {
    const run = (seed: number) => {
      sched = new VirtualScheduler()
      const net = network({ lossRate: 0.3, random: seededRandom(seed) })
      const [a, b] = open(net, 1, 2)
      const got: number[] = []
      scope.add(b.frames$.subscribe((f) => got.push(f[0] | (f[1] << 8))))
      for (let i = 0; i < 10_000; i++) a.send(new Uint8Array([i & 0xff, i >> 8]))
      sched.flush()
      return { got, stats: { ...net.stats } }
    }
    const first = run(7)
    const again = run(7)
    const other = run(8)
    expect(again.got).toEqual(first.got)
    expect(other.got).not.toEqual(first.got)
    expect(first.stats.framesSent).toBe(10_000)
    expect(first.stats.framesLost + first.stats.framesDelivered).toBe(10_000)
    expect(first.got.length).toBe(first.stats.framesDelivered)
    expect(first.got.length / 10_000).toBeGreaterThan(0.67)
    expect(first.got.length / 10_000).toBeLessThan(0.73)
    expect(first.got).toEqual([...first.got].sort((x, y) => x - y)) // survivors stay in order
  })

  it('crash: frames from the peer stop at once, remote ends close after failureDetectionMs', () => {
    const net = network({ latencyMs: 10, failureDetectionMs: 500 })
    const [a, b] = open(net, 1, 2)
    const [a2, c] = open(net, 1, 3)
    const atA = watch(a, sched, scope)
    const atB = watch(b, sched, scope)
    const atC = watch(c, sched, scope)
    expect(net.channelCount()).toBe(4)
    b.send(new Uint8Array([0xb])) // in flight when B dies
    a.send(new Uint8Array([0xa]))
    sched.advanceTo(5)
    net.crash(2)
    expect(b.isOpen).toBe(false)
    expect(a.isOpen).toBe(true) // nobody told A yet
    expect(a.bufferedAmount).toBe(0) // its in-flight frame died with B
    expect(net.channelCount()).toBe(3)
    sched.advanceTo(100)
    expect(a.send(new Uint8Array([1]))).toBe(true) // silently dropped
    a2.send(new Uint8Array([0xc]))
    sched.advanceTo(504)
    expect(a.isOpen).toBe(true)
    sched.advanceTo(505)
    expect(a.isOpen).toBe(false)
    expect(a.send(new Uint8Array([1]))).toBe(false)
    expect(atA).toEqual([[505, 'complete']])
    expect(atB).toEqual([[5, 'complete']])
    expect(atC).toEqual([[110, [0xc]]])
    expect(net.channelCount()).toBe(2)
    expect(a2.isOpen && c.isOpen).toBe(true)
  })

  it('a crashed peer cannot handshake; transport(id) afterwards is a fresh peer', () => {
    const net = network()
    const old = net.transport(2)
    net.crash(2)
    const port: SignalPort = { signals$: NEVER, send: () => {} }
    expect(isExplorerError(errorOf(old.connect(1, port), scope), 'SIGNAL_FAILED')).toBe(true)
    expect(isExplorerError(errorOf(old.accept(1, port), scope), 'SIGNAL_FAILED')).toBe(true)
    // Connecting to the crashed peer: its accept fails, the connector waits (a router times it out).
    const { wire, connect$ } = dial(scope, net.transport(1), 1, old, 2)
    scope.add(connect$.subscribe())
    expect(isExplorerError(wire.acceptError, 'SIGNAL_FAILED')).toBe(true)
    expect(net.transport(2)).not.toBe(old)
    const [a, b] = open(net, 1, 2)
    expect(a.isOpen && b.isOpen).toBe(true)
  })

  it('bufferedAmount counts bytes in flight; drained() fires when it falls to lowWaterMark', () => {
    const net = network({ latencyMs: 10, lowWaterMark: 100 })
    const [a, b] = open(net, 1, 2)
    watch(b, sched, scope)
    const drainedAt: number[] = []
    for (let t = 0; t < 3; t++) {
      sched.advanceTo(t)
      a.send(new Uint8Array(60))
    }
    expect(a.bufferedAmount).toBe(180)
    scope.add(a.drained().subscribe({ next: () => drainedAt.push(sched.now()), complete: () => drainedAt.push(-1) }))
    sched.advanceTo(10)
    expect(a.bufferedAmount).toBe(120)
    expect(drainedAt).toEqual([])
    sched.advanceTo(11)
    expect(a.bufferedAmount).toBe(60)
    expect(drainedAt).toEqual([11, -1])
    sched.flush()
    expect(a.bufferedAmount).toBe(0)
  })

  it('close() drops frames still inbound to the closer and credits their sender', () => {
    const net = network({ latencyMs: 10 })
    const [a, b] = open(net, 1, 2)
    const atA = watch(a, sched, scope)
    const atB = watch(b, sched, scope)
    b.send(new Uint8Array(40))
    expect(b.bufferedAmount).toBe(40)
    a.close()
    expect(b.bufferedAmount).toBe(0)
    expect(b.isOpen).toBe(true)
    expect(b.send(new Uint8Array(1))).toBe(true) // b has not heard yet: dropped
    sched.flush()
    expect(atA).toEqual([[0, 'complete']])
    expect(atB).toEqual([[10, 'complete']])
    expect(net.stats.framesDropped).toBe(2)
    expect(net.channelCount()).toBe(0)
  })

  it('drained() on a closed channel emits at once', () => {
    const net = network({ latencyMs: 10 })
    const [a] = open(net, 1, 2)
    a.send(new Uint8Array(10))
    a.close()
    let fired = false
    scope.add(a.drained().subscribe(() => (fired = true)))
    expect(fired).toBe(true)
    sched.flush()
  })

  it('frames that arrived before anyone subscribed reach a subscriber that comes after close', () => {
    const net = network({ latencyMs: 1 })
    const [a, b] = open(net, 1, 2)
    a.send(new Uint8Array([1]))
    a.send(new Uint8Array([2]))
    a.close()
    sched.flush()
    expect(sched.now()).toBe(1)
    expect(watch(b, sched, scope)).toEqual([[1, [1]], [1, [2]], [1, 'complete']])
    expect(watch(b, sched, scope)).toEqual([[1, 'complete']]) // then hot: a second subscriber gets no replay
  })

  it('aborting connect after the accepter made the pair closes the accepter end one latency later', () => {
    const net = network({ latencyMs: 7 })
    const { wire, connect$ } = dial(scope, net.transport(1), 1, net.transport(2), 2, { blockAnswers: true })
    const sub = connect$.subscribe()
    expect(wire.accepted).toHaveLength(1)
    const atB = watch(wire.accepted[0], sched, scope)
    expect(net.channelCount()).toBe(2)
    sub.unsubscribe()
    expect(net.channelCount()).toBe(1)
    sched.flush()
    expect(atB).toEqual([[7, 'complete']])
    expect(net.channelCount()).toBe(0)
  })

  it('like WebRTC, an offer reaches whoever made it, whatever the signalling claims: a forged claim names the channel wrong', () => {
    const net = network()
    const a = net.transport(1)
    const b = net.transport(2)
    const toA = new Subject<unknown>()
    const offers: unknown[] = []
    const atA: Channel[] = []
    scope.add(a.connect(2, { signals$: toA, send: (s) => offers.push(s) }).subscribe((ch) => atA.push(ch)))
    // b is told the offer comes from 3: its channel is named 3, yet it reaches 1, the offer's maker.
    const atB: Channel[] = []
    scope.add(b.accept(3, { signals$: concat(of(offers[0]), NEVER), send: (answer) => toA.next(answer) }).subscribe((ch) => atB.push(ch)))
    expect(atB.map((ch) => ch.remoteId)).toEqual([3])
    expect(atA.map((ch) => ch.remoteId)).toEqual([2])
    const arrived: number[] = []
    scope.add(atA[0].frames$.subscribe((f) => arrived.push(f[0])))
    atB[0].send(Uint8Array.of(9))
    sched.flush()
    expect(arrived).toEqual([9])
  })

  it('rejects stale, replayed and self-answered offers, and ports that end early', () => {
    const net = network()
    const a = net.transport(1)
    const b = net.transport(2)
    // A real offer from 1 to 2, captured from the wire.
    const offers: unknown[] = []
    scope.add(a.connect(2, { signals$: NEVER, send: (s) => offers.push(s) }).subscribe())
    const offer = offers[0]
    const portWith = (signal$: Observable<unknown>): SignalPort => ({ signals$: signal$, send: () => {} })
    const failsWith = (o: Observable<Channel>) => isExplorerError(errorOf(o, scope), 'SIGNAL_FAILED')
    expect(failsWith(a.accept(2, portWith(concat(of(offer), NEVER))))).toBe(true) // its own offer
    expect(failsWith(b.accept(1, portWith(concat(of({ mem: 'offer', token: 999 }), NEVER))))).toBe(true)
    expect(failsWith(b.accept(1, portWith(concat(of({ mem: 'offer', token: -1 }), NEVER))))).toBe(true)
    expect(failsWith(b.accept(1, portWith(of())))).toBe(true) // port completed first
    expect(failsWith(b.accept(1, portWith(throwError(() => new Error('port died')))))).toBe(true)
    // Answered once: a replay of the same offer is refused.
    expect(failsWith(b.accept(1, portWith(concat(of(offer), NEVER))))).toBe(false)
    expect(failsWith(b.accept(1, portWith(concat(of(offer), NEVER))))).toBe(true)
    // An answer with the wrong token.
    const replies = new Subject<unknown>()
    const wrong = errorOf(a.connect(2, { signals$: replies, send: () => replies.next({ mem: 'answer', token: 12345 }) }), scope)
    expect(isExplorerError(wrong, 'SIGNAL_FAILED')).toBe(true)
  })

  it('an open offer is answered by any live peer but its sender, once', () => {
    const net = network()
    const a = net.transport(1)
    const b = net.transport(2)
    const c = net.transport(3)
    const offers: unknown[] = []
    scope.add(a.connect(null, { signals$: NEVER, send: (s) => offers.push(s) }).subscribe())
    const portWith = (signal$: Observable<unknown>): SignalPort => ({ signals$: signal$, send: () => {} })
    const failsWith = (o: Observable<Channel>) => isExplorerError(errorOf(o, scope), 'SIGNAL_FAILED')
    expect(failsWith(a.accept(2, portWith(concat(of(offers[0]), NEVER))))).toBe(true) // not by its maker
    expect(failsWith(c.accept(1, portWith(concat(of(offers[0]), NEVER))))).toBe(false)
    expect(failsWith(b.accept(1, portWith(concat(of(offers[0]), NEVER))))).toBe(true) // taken by 3 already
  })

  it('validates its options with BAD_OPTIONS', () => {
    for (const bad of [{ lossRate: 2 }, { lossRate: -0.1 }, { latencyMs: -1 }, { lowWaterMark: -1 }, { failureDetectionMs: NaN }]) {
      let error: unknown
      try {
        network(bad)
      } catch (e) {
        error = e
      }
      expect(isExplorerError(error, 'BAD_OPTIONS')).toBe(true)
    }
  })

  it('counts frames and bytes', () => {
    const net = network({ latencyMs: 1 })
    const [a, b] = open(net, 1, 2)
    watch(b, sched, scope)
    a.send(new Uint8Array(10))
    b.send(new Uint8Array(5))
    sched.flush()
    // b's frame waits in a's frames$ for a subscriber: delivered all the same.
    expect(net.stats).toMatchObject({ framesSent: 2, framesDelivered: 2, bytesSent: 15, channelsCreated: 1 })
    expect(net.stats.framesDropped).toBe(0)
  })

  it('many peers and channels: every frame arrives, every channel closes, no timer is left', () => {
    const net = network({ latencyMs: () => 1 + (sched.now() % 7), failureDetectionMs: 100 })
    const peers = 500
    const channels: Array<[Channel, Channel]> = []
    let received = 0
    for (let p = 0; p < peers; p++) {
      for (let k = 1; k <= 8; k++) {
        const pair = open(net, p, (p + 2 ** k) % peers)
        scope.add(pair[1].frames$.subscribe(() => received++))
        scope.add(pair[0].frames$.subscribe(() => received++))
        channels.push(pair)
      }
    }
    expect(net.channelCount()).toBe(2 * channels.length)
    for (let round = 0; round < 10; round++) {
      for (const [x, y] of channels) {
        x.send(new Uint8Array(24))
        y.send(new Uint8Array(24))
      }
      sched.advanceBy(3)
    }
    sched.flush()
    expect(received).toBe(channels.length * 2 * 10)
    for (let p = 0; p < peers; p += 2) net.crash(p)
    for (const [x] of channels) x.close()
    sched.flush()
    expect(net.channelCount()).toBe(0)
    expect(sched.pending).toBe(0)
  })
})
