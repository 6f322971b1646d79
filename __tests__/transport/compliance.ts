import { NEVER, Subject, concat, lastValueFrom, of, toArray, type Observable } from 'rxjs'
import { ExplorerError, isExplorerError } from '../../src/errors'
import { MAX_FRAME_BYTES } from '../../src/wire/limits'
import type { Channel, SignalPort } from '../../src/transport/types'
import { allocBytes } from '../../src/wire/bytes'
import { Recorder, Scope, SignalWire, dial, openPair, patternFrame, sameBytes, tick, waitFor, type TransportHarness } from './harness'

export type { TransportHarness } from './harness'

/**
 * The contract every Transport must meet, in real time (asyncScheduler), so the
 * same cases run against the memory transport and against WebRTC. Signals go
 * over two crossing Subjects; the accepter's accept() is called when the first
 * signal arrives, with a port that replays it, as a router does.
 */
export function describeTransportCompliance(name: string, makeHarness: () => Promise<TransportHarness>): void {
  describe(`Transport compliance: ${name}`, () => {
    let h: TransportHarness
    let scope: Scope

    beforeEach(async () => {
      h = await makeHarness()
      scope = new Scope()
    })

    afterEach(async () => {
      scope.dispose()
      await h.close()
    })

    const open = () => openPair(scope, h.a, h.idA, h.b, h.idB)

    it('connect and accept each emit one open channel with the right remoteId, then complete', async () => {
      const { wire, connect$ } = dial(scope, h.a, h.idA, h.b, h.idB)
      const emitted = await lastValueFrom(connect$.pipe(toArray()))
      expect(emitted).toHaveLength(1)
      const near = scope.track(emitted[0])
      const far = await waitFor(() => wire.accepted[0], () => wire.acceptError)
      await waitFor(() => wire.acceptCompleted || undefined, () => wire.acceptError)
      expect(wire.accepted).toHaveLength(1)
      expect(near.remoteId).toBe(h.idB)
      expect(far.remoteId).toBe(h.idA)
      expect(near.isOpen).toBe(true)
      expect(far.isOpen).toBe(true)
    })

    it('an open offer (remote unknown at connect) opens to whoever accepts it; the channel names that peer', async () => {
      const wire = new SignalWire(h.b, h.idA, scope)
      // The signalling names the remote once the answer is in (the overlay: from the owner's Found).
      let answered = false
      scope.add(wire.toConnector.subscribe(() => (answered = true)))
      const port: SignalPort = { ...wire.connectorPort, remote: () => (answered ? h.idB : null) }
      const near = scope.track(await lastValueFrom(h.a.connect(null, port)))
      const far = await waitFor(() => wire.accepted[0], () => wire.acceptError)
      expect(near.remoteId).toBe(h.idB)
      expect(far.remoteId).toBe(h.idA)
      const atFar = new Recorder(far, scope)
      near.send(patternFrame(1, 0, 100))
      await atFar.count(1)
      expect(sameBytes(atFar.frames[0], patternFrame(1, 0, 100))).toBe(true)
    })

    it('carries 1,000 frames each way, byte-exact and in order (1 byte to MAX_FRAME_BYTES)', async () => {
      const { near, far } = await open()
      const sizeOf = (i: number) =>
        i % 100 === 0 ? MAX_FRAME_BYTES : i % 37 === 0 ? 4096 + (i % 13) : i % 11 === 0 ? 1 : 1 + ((i * 7919) % 600)
      const n = 1000
      const atFar = new Recorder(far, scope)
      const atNear = new Recorder(near, scope)
      for (let i = 0; i < n; i++) {
        expect(near.send(patternFrame(1, i, sizeOf(i)))).toBe(true)
        expect(far.send(patternFrame(2, i, sizeOf(i)))).toBe(true)
      }
      await Promise.all([atFar.count(n), atNear.count(n)])
      const bad = (rec: Recorder, stream: number) =>
        rec.frames.map((f, i) => (sameBytes(f, patternFrame(stream, i, sizeOf(i))) ? -1 : i)).filter((i) => i >= 0)
      expect(atFar.frames).toHaveLength(n)
      expect(atNear.frames).toHaveLength(n)
      expect(bad(atFar, 1)).toEqual([])
      expect(bad(atNear, 2)).toEqual([])
      expect(atFar.frames.every((f) => f instanceof Uint8Array)).toBe(true)
    })

    it('send copies: the sender may reuse its buffer, the receiver owns what it gets', async () => {
      const { near, far } = await open()
      const atFar = new Recorder(far, scope)
      const buffer = new Uint8Array([1, 2, 3, 4])
      near.send(buffer)
      buffer.fill(9)
      near.send(buffer)
      await atFar.count(2)
      expect([...atFar.frames[0]]).toEqual([1, 2, 3, 4])
      expect([...atFar.frames[1]]).toEqual([9, 9, 9, 9])
      atFar.frames[1][0] = 0 // routers rewrite TTL in place
      expect(buffer[0]).toBe(9)
    })

    it('a frame that is a view into a larger buffer (as pooled frames are) arrives as exactly its own bytes', async () => {
      const { near, far } = await open()
      const atFar = new Recorder(far, scope)
      const backing = patternFrame(3, 0, 3000)
      const views = [backing.subarray(8, 208), backing.subarray(1000, 1001), allocBytes(300).fill(5)]
      for (const view of views) near.send(view)
      await atFar.count(views.length)
      expect(atFar.frames.map((f, i) => sameBytes(f, views[i]))).toEqual([true, true, true])
    })

    it('a frame over MAX_FRAME_BYTES throws BAD_FRAME and the channel keeps working', async () => {
      const { near, far } = await open()
      const atFar = new Recorder(far, scope)
      let thrown: unknown
      try {
        near.send(new Uint8Array(MAX_FRAME_BYTES + 1))
      } catch (e) {
        thrown = e
      }
      expect(thrown).toBeInstanceOf(ExplorerError)
      expect(isExplorerError(thrown, 'BAD_FRAME')).toBe(true)
      expect(near.isOpen).toBe(true)
      near.send(new Uint8Array([42]))
      await atFar.count(1)
      expect([...atFar.frames[0]]).toEqual([42])
    })

    it.each(['connector', 'accepter'] as const)(
      'close() by the %s: frames$ completes on both sides, isOpen false, send false, idempotent',
      async (closer) => {
        const pair = await open()
        const [local, remote] = closer === 'connector' ? [pair.near, pair.far] : [pair.far, pair.near]
        const atLocal = new Recorder(local, scope)
        const atRemote = new Recorder(remote, scope)
        local.close()
        expect(local.isOpen).toBe(false)
        expect(local.send(new Uint8Array([1]))).toBe(false)
        await Promise.all([atLocal.closed(), atRemote.closed()])
        expect(remote.isOpen).toBe(false)
        expect(remote.send(new Uint8Array([1]))).toBe(false)
        expect(() => local.close()).not.toThrow()
        expect(() => remote.close()).not.toThrow()
        // A late subscriber sees a completed stream, not a hang.
        await expect(lastValueFrom(local.frames$.pipe(toArray()))).resolves.toEqual([])
        expect(atLocal.error).toBeUndefined()
        expect(atRemote.error).toBeUndefined()
      },
    )

    it('frames sent just before close() still arrive, then frames$ completes', async () => {
      const { near, far } = await open()
      const atFar = new Recorder(far, scope)
      for (let i = 0; i < 10; i++) near.send(patternFrame(3, i, 100))
      near.close()
      await atFar.closed()
      expect(atFar.frames.map((f, i) => sameBytes(f, patternFrame(3, i, 100)))).toEqual(Array(10).fill(true))
    })

    it('frames sent right after open, before the receiver subscribed, are not lost (both directions)', async () => {
      const { wire, connect$ } = dial(scope, h.a, h.idA, h.b, h.idB)
      let near: Channel | undefined
      scope.add(
        connect$.subscribe((ch) => {
          near = scope.track(ch)
          for (let i = 0; i < 20; i++) ch.send(patternFrame(4, i, 50))
        }),
      )
      const far = await waitFor(() => wire.accepted[0], () => wire.acceptError)
      for (let i = 0; i < 20; i++) far.send(patternFrame(5, i, 60))
      await waitFor(() => near)
      await tick(50) // let everything arrive with nobody listening yet
      const atFar = new Recorder(far, scope)
      const atNear = new Recorder(near!, scope)
      await Promise.all([atFar.count(20), atNear.count(20)])
      expect(atFar.frames.map((f, i) => sameBytes(f, patternFrame(4, i, 50)))).toEqual(Array(20).fill(true))
      expect(atNear.frames.map((f, i) => sameBytes(f, patternFrame(5, i, 60)))).toEqual(Array(20).fill(true))
    })

    it('unsubscribing connect before the answer arrives aborts: no channel stays open', async () => {
      const { wire, connect$ } = dial(scope, h.a, h.idA, h.b, h.idB, { blockAnswers: true })
      const emitted: Channel[] = []
      const sub = scope.add(connect$.subscribe((ch) => emitted.push(scope.track(ch))))
      await waitFor(() => wire.signalsToAccepter || undefined)
      await tick(20) // give the accepter time to act on the offer
      sub.unsubscribe()
      expect(emitted).toEqual([])
      // The accepter may already hold its end: it must close.
      for (const far of wire.accepted) await new Recorder(far, scope).closed()
      wire.abandonAccept()
      if (h.openChannels) await waitFor(() => (h.openChannels!() === 0 ? true : undefined))
      // Nothing is wedged: the same pair can still connect.
      const { near, far } = await open()
      const atFar = new Recorder(far, scope)
      near.send(new Uint8Array([7]))
      await atFar.count(1)
      expect([...atFar.frames[0]]).toEqual([7])
    })

    it.each([
      ['a number', 42],
      ['null', null],
      ['a string', 'hello'],
      ['an empty object', {}],
      ['an unknown object', { type: 'bogus', sdp: 12 }],
    ])('accept() errors with SIGNAL_FAILED when the first signal is %s', async (_label, garbage) => {
      const port: SignalPort = { signals$: concat(of(garbage), NEVER), send: () => {} }
      const error = await errorOf(h.b.accept(h.idA, port), scope)
      expect(isExplorerError(error, 'SIGNAL_FAILED')).toBe(true)
      if (h.openChannels) expect(h.openChannels()).toBe(0)
    })

    it('connect() errors with SIGNAL_FAILED when the answer is malformed', async () => {
      const replies = new Subject<unknown>()
      let sent = 0
      const port: SignalPort = {
        signals$: replies,
        send: () => {
          if (sent++ === 0) setTimeout(() => replies.next({ type: 'bogus', nonsense: true }), 0)
        },
      }
      const error = await errorOf(h.a.connect(h.idB, port), scope)
      expect(isExplorerError(error, 'SIGNAL_FAILED')).toBe(true)
      if (h.openChannels) expect(h.openChannels()).toBe(0)
    })

    it('drained() emits at once on an idle channel', async () => {
      const { near } = await open()
      expect(near.bufferedAmount).toBe(0)
      const seen: string[] = []
      scope.add(near.drained().subscribe({ next: () => seen.push('next'), complete: () => seen.push('complete') }))
      expect(seen).toEqual(['next', 'complete'])
    })

    it('after a burst, drained() fires once bufferedAmount is low again, then completes', async () => {
      const { near, far } = await open()
      const atFar = new Recorder(far, scope)
      const burst = 64
      for (let i = 0; i < burst; i++) near.send(patternFrame(6, i, MAX_FRAME_BYTES))
      // Not asserted > 0 here: @roamhq/wrtc updates bufferedAmount asynchronously
      // (browsers and the memory transport count it at send; memory.test.ts checks that).
      expect(near.bufferedAmount).toBeGreaterThanOrEqual(0)
      expect(near.bufferedAmount).toBeLessThanOrEqual(burst * MAX_FRAME_BYTES)
      const notifications: Array<[string, number]> = []
      await new Promise<void>((resolve) =>
        scope.add(
          near.drained().subscribe({
            next: () => notifications.push(['next', near.bufferedAmount]),
            complete: () => (notifications.push(['complete', near.bufferedAmount]), resolve()),
          }),
        ),
      )
      expect(notifications.map(([k]) => k)).toEqual(['next', 'complete'])
      if (h.lowWaterMark !== undefined) expect(notifications[0][1]).toBeLessThanOrEqual(h.lowWaterMark)
      await atFar.count(burst)
      expect(atFar.frames).toHaveLength(burst)
    })

    it('two channels between the same pair are isolated', async () => {
      const one = await open()
      const two = await open()
      const rec1 = new Recorder(one.far, scope)
      const rec2 = new Recorder(two.far, scope)
      one.near.send(new Uint8Array([1]))
      two.near.send(new Uint8Array([2]))
      await Promise.all([rec1.count(1), rec2.count(1)])
      one.near.close()
      await rec1.closed()
      expect(two.near.isOpen).toBe(true)
      two.near.send(new Uint8Array([3]))
      await rec2.count(2)
      expect(rec1.frames.map((f) => [...f])).toEqual([[1]])
      expect(rec2.frames.map((f) => [...f])).toEqual([[2], [3]])
      expect(rec2.completed).toBe(false)
    })

    it('channels from one peer to two different peers are isolated (needs harness.c)', async () => {
      if (h.c === undefined || h.idC === undefined) {
        console.warn(`${name}: harness has no third peer; skipping the three-peer isolation case`)
        return
      }
      const ab = await open()
      const ac = await openPair(scope, h.a, h.idA, h.c, h.idC)
      expect(ac.near.remoteId).toBe(h.idC)
      expect(ac.far.remoteId).toBe(h.idA)
      const atB = new Recorder(ab.far, scope)
      const atC = new Recorder(ac.far, scope)
      const atAfromB = new Recorder(ab.near, scope)
      const atAfromC = new Recorder(ac.near, scope)
      ab.near.send(new Uint8Array([0xb]))
      ac.near.send(new Uint8Array([0xc]))
      ac.far.send(new Uint8Array([0xc, 1]))
      await Promise.all([atB.count(1), atC.count(1), atAfromC.count(1)])
      ab.near.close()
      await atB.closed()
      expect(ac.near.isOpen).toBe(true)
      ac.near.send(new Uint8Array([0xc, 2]))
      await atC.count(2)
      expect(atB.frames.map((f) => [...f])).toEqual([[0xb]])
      expect(atC.frames.map((f) => [...f])).toEqual([[0xc], [0xc, 2]])
      expect(atAfromC.frames.map((f) => [...f])).toEqual([[0xc, 1]])
      expect(atAfromB.frames).toEqual([])
    })

    it('closing every channel leaves none open', async () => {
      const pairs = [await open(), await open(), await open()]
      const recorders = pairs.flatMap((p) => [new Recorder(p.near, scope), new Recorder(p.far, scope)])
      pairs[0].near.close()
      pairs[1].far.close()
      pairs[2].near.close()
      pairs[2].far.close()
      await Promise.all(recorders.map((r) => r.closed()))
      expect(pairs.every((p) => !p.near.isOpen && !p.far.isOpen)).toBe(true)
      if (h.openChannels) expect(h.openChannels()).toBe(0)
    })
  })
}

/** Subscribes and resolves with the error; fails the test if it emits or completes instead. */
function errorOf(source: Observable<Channel>, scope: Scope): Promise<unknown> {
  return new Promise((resolve, reject) => {
    scope.add(
      source.subscribe({
        next: (ch) => (scope.track(ch), reject(new Error('expected an error, got a channel'))),
        error: resolve,
        complete: () => reject(new Error('expected an error, got completion')),
      }),
    )
  })
}
