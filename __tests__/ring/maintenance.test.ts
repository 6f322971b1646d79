import { firstValueFrom, of } from 'rxjs'
import { TestScheduler } from 'rxjs/testing'
import type { Diagnostic } from '../../src/diagnostics'
import { ExplorerError, isExplorerError } from '../../src/errors'
import { formatId } from '../../src/ids'
import { withTimeout } from '../../src/operators'
import { ringInternals } from '../../src/ring/internals'
import { RingMessage, RingOp } from '../../src/ring/messages'
import { RpcTable } from '../../src/ring/rpc'
import { createTestnet } from '../../src/testnet'
import { VirtualScheduler } from '../../src/scheduler/virtual-scheduler'
import type { Channel } from '../../src/transport/types'
import type { RingNode } from '../../src/ring/node'
import { DEFAULT_TTL, FrameType, decodeFrame } from '../../src/wire/frame'
import { ScriptedPeer, TIMING, bootstrapChannel, rendezvous, ringMessageOf, tapRing, world } from './helpers'

/** Ids far apart on the ring. */
const A = 0x100000000000
const B = 0x900000000000
const F = 0x500000000000

/** Differences between consecutive times. */
const gaps = (times: number[]) => times.slice(1).map((t, i) => t - times[i])

const marbles = () => new TestScheduler((actual, expected) => expect(actual).toEqual(expected))

describe('withTimeout (marbles)', () => {
  const timeoutError = new ExplorerError('LOOKUP_TIMEOUT', 'no answer')

  // Every test runs the operator on the scheduler that runs its marbles: a timer on any other would never fire.
  it('passes values and completion through when the first value is in time; no timer left behind', () => {
    const s = marbles()
    s.run(({ cold, expectObservable, expectSubscriptions }) => {
      const source = cold('-a-b-----c|')
      expectObservable(source.pipe(withTimeout(3, s, () => timeoutError))).toBe('-a-b-----c|')
      expectSubscriptions(source.subscriptions).toBe('^---------!')
    })
  })

  it('bounds only the first value: later gaps may be longer', () => {
    const s = marbles()
    s.run(({ cold, expectObservable }) => {
      expectObservable(cold('--a--------b|').pipe(withTimeout(3, s, () => timeoutError))).toBe('--a--------b|')
    })
  })

  it('errors at the timeout frame and releases the source subscription right then', () => {
    const s = marbles()
    s.run(({ cold, expectObservable, expectSubscriptions }) => {
      const source = cold('------a|')
      expectObservable(source.pipe(withTimeout(3, s, () => timeoutError))).toBe('---#', undefined, timeoutError)
      expectSubscriptions(source.subscriptions).toBe('^--!')
    })
  })

  it('times a hot source from the subscription, not from the source’s start', () => {
    const s = marbles()
    s.run(({ hot, expectObservable, expectSubscriptions }) => {
      const source = hot('--^------a|')
      expectObservable(source.pipe(withTimeout(5, s, () => timeoutError))).toBe('-----#', undefined, timeoutError)
      expectSubscriptions(source.subscriptions).toBe('^----!')
    })
  })

  it('a source that completes empty in time completes; unsubscribing early cancels the timer', () => {
    const s = marbles()
    s.run(({ cold, expectObservable, expectSubscriptions }) => {
      const empty = cold('--|')
      expectObservable(empty.pipe(withTimeout(3, s, () => timeoutError))).toBe('--|')
      const never = cold('-')
      expectObservable(never.pipe(withTimeout(5, s, () => timeoutError)), '^-!').toBe('---')
      expectSubscriptions(never.subscriptions).toBe('^-!')
    })
  })

  it('makes the error lazily, once per timeout', () => {
    const s = marbles()
    let made = 0
    s.run(({ cold, expectObservable }) => {
      expectObservable(cold('-a|').pipe(withTimeout(3, s, () => (made++, timeoutError)))).toBe('-a|')
    })
    expect(made).toBe(0)
  })
})

describe('RpcTable: request/reply in virtual time', () => {
  it('a reply before the timeout: one value, then complete; the entry is released (marbles)', () => {
    const s = marbles()
    s.run(({ expectObservable }) => {
      const rpc = new RpcTable<string>(s, () => 0.5)
      let conn = -1
      const call$ = rpc.call$((c) => ((conn = c), true), 5, 'LOOKUP_TIMEOUT', () => 'test')
      expectObservable(call$).toBe('--(r|)', { r: 'reply' })
      s.schedule(() => rpc.resolve(conn, 'reply'), 2)
      s.schedule(() => expect(rpc.size).toBe(0), 3)
    })
  })

  it('no reply: LOOKUP_TIMEOUT at exactly timeoutMs (marbles)', () => {
    const s = marbles()
    s.run(({ expectObservable }) => {
      const rpc = new RpcTable<string>(s, () => 0.5)
      expectObservable(rpc.call$(() => true, 5, 'LOOKUP_TIMEOUT', () => 'test')).toBe('-----#', undefined, new ExplorerError('LOOKUP_TIMEOUT', 'test got no answer within 5 ms'))
    })
  })

  it('times out with LOOKUP_TIMEOUT, releases its pending entry and its timer; a late reply is ignored', () => {
    const scheduler = new VirtualScheduler()
    const rpc = new RpcTable<string>(scheduler, () => 0.5)
    let conn = -1
    const events: string[] = []
    rpc.call$((c) => ((conn = c), true), 4000, 'LOOKUP_TIMEOUT', () => 'lookup').subscribe({
      next: (v) => events.push(`next ${v}`),
      error: (e) => events.push(`${scheduler.now()} ${isExplorerError(e) ? e.code : e}`),
    })
    expect(rpc.size).toBe(1)
    expect(scheduler.pending).toBe(1)
    scheduler.advanceBy(3999)
    expect(events).toEqual([])
    expect(rpc.size).toBe(1)
    scheduler.advanceBy(1)
    expect(events).toEqual(['4000 LOOKUP_TIMEOUT'])
    expect(rpc.size).toBe(0)
    expect(scheduler.pending).toBe(0)
    rpc.resolve(conn, 'late')
    expect(events).toEqual(['4000 LOOKUP_TIMEOUT'])
  })

  it('unsubscribing releases the entry and the timer; every call takes a fresh conn', () => {
    const scheduler = new VirtualScheduler()
    const rpc = new RpcTable<string>(scheduler, () => 0)
    const conns: number[] = []
    const subs = [1, 2, 3].map(() => rpc.call$((c) => (conns.push(c), true), 100, 'LOOKUP_TIMEOUT', () => 'x').subscribe({ error: () => undefined }))
    expect(new Set(conns).size).toBe(3)
    expect(rpc.size).toBe(3)
    subs.forEach((s) => s.unsubscribe())
    expect(rpc.size).toBe(0)
    expect(scheduler.pending).toBe(0)
  })

  it('answers a reply given synchronously inside send (a key we own)', async () => {
    const scheduler = new VirtualScheduler()
    const rpc = new RpcTable<string>(scheduler, () => 0)
    const reply = await firstValueFrom(rpc.call$((c) => (rpc.resolve(c, 'mine'), true), 100, 'LOOKUP_TIMEOUT', () => 'x'))
    expect(reply).toBe('mine')
    expect(rpc.size).toBe(0)
    expect(scheduler.pending).toBe(0)
  })

  it('close() fails what is pending with CLOSED', () => {
    const scheduler = new VirtualScheduler()
    const rpc = new RpcTable<string>(scheduler, () => 0)
    let error: unknown
    rpc.call$(() => true, 100, 'LOOKUP_TIMEOUT', () => 'x').subscribe({ error: (e) => (error = e) })
    rpc.close()
    expect(isExplorerError(error, 'CLOSED')).toBe(true)
    expect(rpc.size).toBe(0)
    expect(scheduler.pending).toBe(0)
  })
})

describe('RingNode timers in virtual time', () => {
  it('a lone node schedules its two periodic timers on create() and leaves nothing pending after close()', () => {
    const w = world()
    const before = w.scheduler.pending
    const node = w.node(A)
    expect(w.scheduler.pending).toBe(before)
    node.create()
    expect(w.scheduler.pending).toBe(before + 2) // stabilize, fix-fingers
    w.scheduler.advanceBy(30_000)
    expect(w.scheduler.pending).toBe(before + 2) // its periodic work (lookups of its own keys) leaves nothing behind
    expect(node.fingerTable.rows()).toEqual([]) // alone: every row is itself
    node.close()
    expect(w.scheduler.pending).toBe(before)
    expect(w.network.channelCount()).toBe(0)
    expect(() => node.create()).toThrow(ExplorerError)
  })

  it('a lone node answers lookups at once: every key is its own', async () => {
    const w = world()
    const node = w.node(A)
    node.create()
    await expect(firstValueFrom(node.lookup$(B))).resolves.toEqual({ owner: A, hops: 0, route: [] })
    node.close()
  })

  /** Two peers: A creates the ring, B joins through A. A's end of their channel is tapped. */
  function twoPeerRing() {
    const w = world()
    const before = w.scheduler.pending
    const a = w.node(A)
    const b = w.node(B)
    const sentByA: { time: number; message: RingMessage }[] = []
    a.create()
    let joined = false
    bootstrapChannel(w.network, B, a, (ch) => tapRing(ch, () => w.scheduler.now(), sentByA)).subscribe((ch) =>
      b.join$(ch).subscribe({ complete: () => (joined = true) }),
    )
    w.scheduler.runUntil(() => joined && a.predecessor === B && b.predecessor === A && a.successor === B && b.successor === A, 60_000)
    expect(joined).toBe(true)
    return { ...w, a, b, before, sentByA }
  }

  it('two peers form a ring: each is the other’s successor and predecessor', () => {
    const { a, b } = twoPeerRing()
    expect([a.successor, a.predecessor, b.successor, b.predecessor]).toEqual([B, B, A, A])
    a.close()
    b.close()
  })

  it('stabilize runs once per stabilizeMs: one GetState a round, evenly spaced; a notify only when the successor does not name us', () => {
    const { scheduler, a, b, sentByA } = twoPeerRing()
    const start = scheduler.now()
    scheduler.advanceBy(10 * TIMING.stabilizeMs)
    const rounds = sentByA.filter(({ time, message }) => time > start && message.op === RingOp.GetState).map(({ time }) => time)
    expect(rounds).toHaveLength(10)
    const gaps = rounds.slice(1).map((t, i) => t - rounds[i])
    expect(gaps).toEqual(new Array(9).fill(TIMING.stabilizeMs))
    // B names A as its predecessor in every answer: a notify would tell it nothing, so none is sent.
    const notifies = () => sentByA.filter(({ time, message }) => time > start && message.op === RingOp.Notify).length
    expect(b.predecessor).toBe(a.id)
    expect(notifies()).toBe(0)
    // Once B has forgotten A, the next round's answer says so and A notifies again: B takes A back.
    ringInternals(b).state.predecessor = null
    scheduler.advanceBy(TIMING.stabilizeMs)
    expect(notifies()).toBe(1)
    expect(b.predecessor).toBe(a.id)
    a.close()
    b.close()
  })

  it('fix-fingers confirms a settled finger ever less often (a row every 8 ticks at most), and at every tick again once the successor list changes', () => {
    // Successor lists of one peer: A's rows 47–45 start past its successor B and belong to C, so each refresh of
    // one of them is a GetState from A to C, on the channel C joined by (rows 44–43 are answered from the list).
    const [B1, C1, D1] = [0x200000000000, 0x900000000000, 0x180000000000]
    const w = world()
    const [a, b, c, d] = [A, B1, C1, D1].map((id) => w.node(id, { successors: 1 }))
    const sentToC: { time: number; message: RingMessage }[] = []
    const confirmations = (from: number) => sentToC.filter(({ time, message }) => time >= from && message.op === RingOp.GetState).map(({ time }) => time)
    a.create()
    bootstrapChannel(w.network, B1, a).subscribe((ch) => b.join$(ch).subscribe())
    w.scheduler.advanceBy(10 * TIMING.stabilizeMs)
    bootstrapChannel(w.network, C1, a, (ch) => tapRing(ch, () => w.scheduler.now(), sentToC)).subscribe((ch) => c.join$(ch).subscribe())
    w.scheduler.advanceBy(300 * TIMING.fixFingersMs)
    expect([a.successor, a.predecessor, a.fingerTable.get(47), a.fingerTable.get(45), a.fingerTable.get(44)]).toEqual([B1, C1, C1, C1, B1])

    // Settled: passes of 5 rows, a row every 8th tick: rows 47, 46, 45 are 8 ticks apart, then 24 ticks to the next pass.
    const settledFrom = w.scheduler.now()
    w.scheduler.advanceBy(200 * TIMING.fixFingersMs)
    const settled = gaps(confirmations(settledFrom))
    expect(settled.length).toBeGreaterThan(10)
    expect(new Set(settled)).toEqual(new Set([8, 24].map((k) => k * TIMING.fixFingersMs)))

    // D joins between A and B: A's successor list changes, and its next refreshes come at every tick.
    bootstrapChannel(w.network, D1, a).subscribe((ch) => d.join$(ch).subscribe())
    w.scheduler.runUntil(() => a.successor === D1, w.scheduler.now() + 60_000)
    const changedAt = w.scheduler.now()
    w.scheduler.advanceBy(8 * TIMING.fixFingersMs)
    expect(gaps(confirmations(changedAt))).toContain(TIMING.fixFingersMs)
    for (const n of [a, b, c, d]) n.close()
  })

  it('ring-position checks back off while they confirm our position (8 → 64 rounds), and come back every 8 rounds after a change', () => {
    // Six peers: fix-fingers answers every row from the successor list, so the only lookups a peer starts are these checks.
    let watched: RingNode | null = null
    const checks: number[] = []
    const net = createTestnet(6, {
      seed: 5,
      ...TIMING,
      frameTap: (from, _to, bytes) => {
        if (from !== watched?.id) return
        const frame = decodeFrame(bytes)
        // Its own lookups of its own id or the key after it, on their first hop (one it forwards has spent more TTL).
        const ownKey = frame.dest === watched.id || frame.dest === watched.id + 1
        if (frame.type === FrameType.Ring && frame.source === from && frame.ttl === DEFAULT_TTL - 1 && ownKey && ringMessageOf(frame).op === RingOp.FindSuccessor) {
          checks.push(net.scheduler.now())
        }
      },
    })
    expect(net.converge()).toBeGreaterThanOrEqual(0)
    const nodes = [...net.nodes.values()]
    watched = nodes[0]
    const roundsBetween = (times: number[]) => gaps(times).map((gap) => Math.round(gap / TIMING.stabilizeMs))
    net.scheduler.advanceBy(300 * TIMING.stabilizeMs)
    const settled = roundsBetween(checks)
    expect(settled.every((gap, i) => i === 0 || gap >= settled[i - 1])).toBe(true)
    expect(settled.slice(-2)).toEqual([64, 64])

    // Its successor crashes: the list changes, and the next check comes within 8 rounds, not 64 (plus the
    // 1 s it takes to notice the crash, a stabilize round that may wait out an RPC to the dead successor,
    // and up to a round to the next stabilize); the back-off starts again at 8.
    const crashedAt = net.scheduler.now()
    const before = checks.length
    net.crash([watched.successor])
    net.scheduler.advanceBy(40 * TIMING.stabilizeMs)
    const after = checks.slice(before)
    expect(after.length).toBeGreaterThanOrEqual(2)
    expect(after[0] - crashedAt).toBeLessThanOrEqual(1000 + TIMING.rpcTimeoutMs + 9 * TIMING.stabilizeMs)
    expect(roundsBetween(after)[0]).toBeLessThanOrEqual(16)
    net.close()
  })

  it('after close() of both peers nothing is left pending and no channel is open', () => {
    const { scheduler, network, a, b, before } = twoPeerRing()
    expect(network.channelCount()).toBe(2)
    a.close()
    b.close()
    expect(network.channelCount()).toBe(0)
    scheduler.flush({ maxTime: scheduler.now() + 10 }) // in-flight deliveries only; throws if anything periodic survived
    expect(scheduler.pending).toBe(before)
  })

  it('a crashed successor whose channel closed: dropped once reconnecting through the overlay fails (≤ connectTimeoutMs + a round)', () => {
    const { scheduler, network, a, b } = twoPeerRing()
    network.crash(B) // A's end closes at once (failure detection 0 ms in this world)
    b.close()
    const start = scheduler.now()
    scheduler.runUntil(() => a.successors.length === 0, start + 60_000)
    expect(a.successors).toEqual([])
    expect(a.predecessor).toBeNull()
    expect(scheduler.now() - start).toBeLessThanOrEqual(TIMING.connectTimeoutMs + TIMING.stabilizeMs)
    expect(a.signalling.sessionCount).toBe(0)
    a.close()
  })
})

describe('check-predecessor', () => {
  /** A lone ring node R and a scripted peer F that joined it by hand: Hello, then Notify. */
  function predecessorSetUp() {
    const w = world()
    const r = w.node(A)
    r.create()
    let channel: Channel | undefined
    rendezvous(w.network, F, A, (ch) => r.channels.add(ch, F)).subscribe((ch) => (channel = ch))
    const f = new ScriptedPeer(F, channel!)
    f.answerGetState = () => ({ op: RingOp.State, predecessor: A, successors: [A] })
    f.send({ op: RingOp.Hello, joined: true })
    f.send({ op: RingOp.Notify })
    w.scheduler.advanceBy(1)
    expect(r.predecessor).toBe(F)
    return { ...w, r, f, heardAt: w.scheduler.now() }
  }

  const silence = 3 * TIMING.stabilizeMs + TIMING.rpcTimeoutMs

  it('drops a predecessor that stopped stabilizing against us, though its channel is open', () => {
    const { scheduler, r, heardAt } = predecessorSetUp()
    scheduler.advanceTo(heardAt + silence)
    expect(r.predecessor).toBe(F)
    scheduler.advanceTo(heardAt + silence + TIMING.stabilizeMs)
    expect(r.predecessor).toBeNull()
    expect(r.channels.has(F)).toBe(true)
    expect(r.successor).toBe(F) // it still answers as our successor
    r.close()
  })

  it('keeps a predecessor that asks for our state every round', () => {
    const { scheduler, r, f, heardAt } = predecessorSetUp()
    let ticks = 0
    const ask = () => {
      f.send({ op: RingOp.GetState }, 1_000_000 + ticks++)
      scheduler.schedule(ask, TIMING.stabilizeMs)
    }
    scheduler.schedule(ask, TIMING.stabilizeMs)
    scheduler.advanceTo(heardAt + 5 * silence)
    expect(r.predecessor).toBe(F)
    expect(f.received.filter((m) => m.op === RingOp.State).length).toBeGreaterThan(20)
    r.close()
  })

  it('a successor that stops answering GetState: the stabilize RPC times out after rpcTimeoutMs, the successor and its channel are dropped, and diagnostics$ says why', () => {
    const { scheduler, r, f } = predecessorSetUp()
    const diagnostics: Diagnostic[] = []
    r.diagnostics$.subscribe((d) => diagnostics.push(d))
    scheduler.advanceBy(3 * TIMING.stabilizeMs)
    expect(r.successor).toBe(F)
    const mutedAt = scheduler.now()
    f.answerGetState = null
    scheduler.advanceTo(mutedAt + TIMING.rpcTimeoutMs)
    expect(r.successors).toEqual([F]) // the first unanswered GetState left after mutedAt
    expect(diagnostics).toEqual([])
    scheduler.advanceTo(mutedAt + TIMING.rpcTimeoutMs + TIMING.stabilizeMs)
    expect(r.successors).toEqual([])
    expect(r.channels.has(F)).toBe(false)
    expect(r.predecessor).toBeNull()
    expect(diagnostics).toEqual([
      { code: 'SUCCESSOR_DROPPED', cause: 'LOOKUP_TIMEOUT', peer: formatId(F), at: expect.any(Number), message: expect.stringMatching(/stabilize with .* got no answer within 4000 ms/) },
    ])
    expect(diagnostics[0].at - mutedAt).toBeGreaterThan(TIMING.rpcTimeoutMs)
    expect(diagnostics[0].at - mutedAt).toBeLessThanOrEqual(TIMING.rpcTimeoutMs + TIMING.stabilizeMs)
    r.close()
  })

  it('drops a predecessor at once when its channel closes', () => {
    const { scheduler, r, f } = predecessorSetUp()
    f.channel.close()
    scheduler.advanceBy(2)
    expect(r.predecessor).toBeNull()
    r.close()
  })
})

describe('join timing', () => {
  it('joining through a peer that is not in a ring fails with JOIN_FAILED after rpcTimeoutMs and releases the channel', () => {
    const w = world()
    const before = w.scheduler.pending
    const outsider = w.node(A) // never created: it says Hello { joined: false }
    const joiner = w.node(B)
    let error: unknown
    let failedAt = -1
    const start = w.scheduler.now()
    bootstrapChannel(w.network, B, outsider).subscribe((ch) =>
      joiner.join$(ch).subscribe({ error: (e) => ((error = e), (failedAt = w.scheduler.now())) }),
    )
    w.scheduler.advanceBy(2 * TIMING.rpcTimeoutMs)
    expect(isExplorerError(error, 'JOIN_FAILED')).toBe(true)
    expect(failedAt - start).toBe(TIMING.rpcTimeoutMs)
    expect(joiner.joined).toBe(false)
    expect(joiner.channels.size).toBe(0)
    expect(w.network.channelCount()).toBe(0)
    expect(w.scheduler.pending).toBe(before)

    // The node is as it was: it joins a real ring afterwards.
    const ring = w.node(F)
    ring.create()
    let joined = false
    bootstrapChannel(w.network, B, ring).subscribe((ch) => joiner.join$(ch).subscribe({ complete: () => (joined = true) }))
    w.scheduler.advanceBy(TIMING.rpcTimeoutMs)
    expect(joined).toBe(true)
    for (const n of [outsider, joiner, ring]) n.close()
  })

  it('unsubscribing from a join in progress leaves no timer of it behind', () => {
    const w = world()
    const outsider = w.node(A)
    const joiner = w.node(B)
    const before = w.scheduler.pending
    let sub = of(null).subscribe()
    bootstrapChannel(w.network, B, outsider).subscribe((ch) => (sub = joiner.join$(ch).subscribe({ error: () => undefined })))
    w.scheduler.advanceBy(10)
    expect(w.scheduler.pending).toBeGreaterThan(before)
    sub.unsubscribe()
    expect(w.scheduler.pending).toBe(before)
    for (const n of [outsider, joiner]) n.close()
    w.scheduler.flush({ maxTime: w.scheduler.now() + 10 })
    expect(w.network.channelCount()).toBe(0)
  })
})
