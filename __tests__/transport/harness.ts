import { ReplaySubject, Subject, Subscription, type Observable } from 'rxjs'
import type { Channel, SignalPort, Transport } from '../../src/transport/types'

/**
 * What a transport implementation hands the compliance suite: two (optionally
 * three) transports of distinct peers in one process.
 */
export interface TransportHarness {
  a: Transport
  b: Transport
  idA: number
  idB: number
  /** A third peer, for isolation between channels to different peers. */
  c?: Transport
  idC?: number
  /** When given, drained() must only fire with bufferedAmount at or below it. */
  lowWaterMark?: number
  /** When given, channel ends the implementation still holds open (leak checks). */
  openChannels?: () => number
  close(): Promise<void>
}

/** Everything a test opened, so afterEach can release it even when the test failed. */
export class Scope {
  private readonly subscriptions = new Subscription()
  private readonly channels: Channel[] = []

  add(subscription: Subscription): Subscription {
    this.subscriptions.add(subscription)
    return subscription
  }

  track<C extends Channel>(channel: C): C {
    this.channels.push(channel)
    return channel
  }

  dispose(): void {
    for (const ch of this.channels) ch.close()
    this.subscriptions.unsubscribe()
  }
}

/** One subscription to a channel's frames$, recording frames, completion and (forbidden) errors. */
export class Recorder {
  readonly frames: Uint8Array[] = []
  completed = false
  error: unknown = undefined
  private readonly waiters = new Set<() => void>()

  constructor(channel: Channel, scope: Scope) {
    scope.add(
      channel.frames$.subscribe({
        next: (f) => (this.frames.push(f), this.poke()),
        error: (e) => ((this.error = e ?? new Error('frames$ errored')), this.poke()),
        complete: () => ((this.completed = true), this.poke()),
      }),
    )
  }

  /** Resolves once `predicate` holds; rejects if frames$ errors (it never may). */
  until(predicate: () => boolean): Promise<void> {
    return new Promise((resolve, reject) => {
      const check = () => {
        if (this.error !== undefined) reject(this.error)
        else if (predicate()) resolve()
        else return
        this.waiters.delete(check)
      }
      this.waiters.add(check)
      check()
    })
  }

  count(n: number): Promise<void> {
    return this.until(() => this.frames.length >= n || this.completed)
  }

  closed(): Promise<void> {
    return this.until(() => this.completed)
  }

  private poke(): void {
    for (const w of [...this.waiters]) w()
  }
}

export interface WireOptions {
  /** Hold back every signal from the accepter to the connector (the answer never arrives). */
  blockAnswers?: boolean
}

/**
 * Two crossing Subjects between connector and accepter, wired as a router
 * would: the first signal reaching the accepter makes it call accept(), with a
 * port that replays that announcing signal. Accept's emissions and errors are
 * recorded here.
 */
export class SignalWire {
  readonly toAccepter = new Subject<unknown>()
  readonly toConnector = new Subject<unknown>()
  readonly accepted: Channel[] = []
  acceptError: unknown = undefined
  acceptCompleted = false
  signalsToAccepter = 0
  readonly connectorPort: SignalPort
  private acceptSubscription: Subscription | null = null

  constructor(
    accepter: Transport,
    connectorId: number,
    private readonly scope: Scope,
    options: WireOptions = {},
  ) {
    this.connectorPort = { signals$: this.toConnector, send: (s) => this.toAccepter.next(s) }
    const inbox = new ReplaySubject<unknown>()
    const accepterPort: SignalPort = {
      signals$: inbox,
      send: (s) => {
        if (!options.blockAnswers) this.toConnector.next(s)
      },
    }
    scope.add(
      this.toAccepter.subscribe((signal) => {
        this.signalsToAccepter++
        inbox.next(signal)
        if (this.acceptSubscription !== null) return
        this.acceptSubscription = scope.add(
          accepter.accept(connectorId, accepterPort).subscribe({
            next: (ch) => this.accepted.push(scope.track(ch)),
            error: (e) => (this.acceptError = e),
            complete: () => (this.acceptCompleted = true),
          }),
        )
      }),
    )
  }

  /** Gives up on accepting (as a router's handshake timeout would). */
  abandonAccept(): void {
    this.acceptSubscription?.unsubscribe()
  }
}

/** connect() from one harness peer to another, as an Observable plus its wire. */
export function dial(
  scope: Scope,
  from: Transport,
  fromId: number,
  to: Transport,
  toId: number,
  options: WireOptions = {},
): { wire: SignalWire; connect$: Observable<Channel> } {
  const wire = new SignalWire(to, fromId, scope, options)
  return { wire, connect$: from.connect(toId, wire.connectorPort) }
}

/** Opens a channel and waits for both ends. */
export async function openPair(
  scope: Scope,
  from: Transport,
  fromId: number,
  to: Transport,
  toId: number,
): Promise<{ near: Channel; far: Channel }> {
  const { wire, connect$ } = dial(scope, from, fromId, to, toId)
  const near = await new Promise<Channel>((resolve, reject) => {
    scope.add(connect$.subscribe({ next: (ch) => resolve(scope.track(ch)), error: reject }))
  })
  const far = await waitFor(() => wire.accepted[0], () => wire.acceptError)
  return { near, far }
}

/** Polls (on the event loop, no timing assumptions) until get() returns a value or fail() an error. */
export async function waitFor<T>(get: () => T | undefined, fail: () => unknown = () => undefined): Promise<T> {
  for (;;) {
    const error = fail()
    if (error !== undefined) throw error
    const value = get()
    if (value !== undefined) return value
    await tick()
  }
}

export const tick = (ms = 1): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms))

/** Deterministic bytes for frame i of a stream: any reordering or corruption shows. */
export function patternFrame(stream: number, i: number, size: number): Uint8Array {
  const bytes = new Uint8Array(size)
  let x = (stream * 2654435761 + i * 40503 + size) >>> 0
  for (let k = 0; k < size; k++) {
    x = (Math.imul(x, 1664525) + 1013904223) >>> 0
    bytes[k] = x >>> 24
  }
  return bytes
}

export function sameBytes(x: Uint8Array, y: Uint8Array): boolean {
  if (x.byteLength !== y.byteLength) return false
  for (let i = 0; i < x.byteLength; i++) if (x[i] !== y[i]) return false
  return true
}
