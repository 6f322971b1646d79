import { Observable, ReplaySubject, SchedulerLike, Subject, Subscription, defer, of, throwError, timer } from 'rxjs'
import { ExplorerError } from '../errors'
import { formatId, isIdString, parseId } from '../ids'
import { withTimeout } from '../operators'
import type { ChannelSet } from '../router/channel-set'
import type { LocalFrame, Router } from '../router/router'
import type { Channel, SignalPort, Transport } from '../transport/types'
import { FrameFlag, FrameType } from '../wire/frame'

/** What travels in a Signal frame's payload (JSON: SDP is text anyway). */
interface Envelope {
  /** A transport signal (offer, answer, candidate). */
  s?: unknown
  /** With `s`: whether the sender is in the ring, what its Hello on the new channel would say (so neither end sends one). */
  j?: 0 | 1
  /** The receiver gives up this session (glare lost, no such peer, overloaded). */
  abort?: 'glare' | 'unreachable' | 'busy'
  /** With abort 'unreachable': the id that no peer has (the sender of the abort is its owner). */
  gone?: string
}

interface Session {
  remote: number
  conn: number
  /** A source route to the remote: from a lookup, or the reverse of the path its signals came by; null to route by id. */
  route: number[] | null
  signals: Subject<unknown>
  subscription: Subscription
  /** The remote's ring state from its last signal (null until one said). */
  remoteJoined: boolean | null
  /** Our ring state as our last signal told it (null until we sent one). */
  toldJoined: boolean | null
}

export interface OverlaySignallingOptions {
  connectTimeoutMs: number
  maxSessions: number
  /** Whether this peer is in the ring now (told to the remote with every signal). */
  joined: () => boolean
}

const encoder = new TextEncoder()
const decoder = new TextDecoder()

/**
 * Opens channels to peers by carrying the transport's signalling inside
 * routed Signal frames: after joining, no server is involved. Each attempt is
 * a session keyed by (remote, conn); the initiator picks conn. The dialler's
 * signals are traced, so the answers come back along the same path.
 */
export class OverlaySignalling {
  private readonly sessions = new Map<string, Session>()
  private readonly pending = new Map<number, ReplaySubject<void>>()
  private readonly subscription: Subscription
  private nextConn: number

  constructor(
    private readonly self: number,
    private readonly transport: Transport,
    private readonly router: Router,
    private readonly channels: ChannelSet,
    private readonly scheduler: SchedulerLike,
    private readonly options: OverlaySignallingOptions,
    random: () => number,
  ) {
    this.nextConn = Math.floor(random() * 0xffffffff) >>> 0
    this.subscription = router.frames$(FrameType.Signal).subscribe((frame) => this.onFrame(frame))
  }

  get sessionCount(): number {
    return this.sessions.size
  }

  /**
   * Completes once a channel to `remote` is open: at once if one is, else
   * after signalling through the overlay, along `route` when known (the hops
   * a lookup took to reach it: no dependence on routing being right), else
   * routed by id.
   */
  ensureChannel$(remote: number, route: number[] | null = null): Observable<void> {
    return defer(() => {
      if (this.channels.has(remote)) return of(undefined)
      if (remote === this.self) return throwError(() => new ExplorerError('SIGNAL_FAILED', 'a peer cannot open a channel to itself'))
      let done = this.pending.get(remote)
      if (!done) {
        done = new ReplaySubject<void>(1)
        this.pending.set(remote, done)
        this.initiate(remote, route !== null && route.length > 0 && this.channels.has(route[0]) ? route : null)
      }
      // The attempt has timers of its own; this one also covers a glare we lost and the winner never finishing.
      return done.pipe(withTimeout(this.options.connectTimeoutMs * 2, this.scheduler, () => new ExplorerError('SIGNAL_FAILED', `no channel to ${formatId(remote)}`)))
    })
  }

  close(): void {
    this.subscription.unsubscribe()
    for (const session of [...this.sessions.values()]) this.endSession(session)
    for (const done of this.pending.values()) done.error(new ExplorerError('CLOSED', 'the explorer closed'))
    this.pending.clear()
  }

  private initiate(remote: number, route: number[] | null): void {
    if (this.sessions.size >= this.options.maxSessions) {
      this.settle(remote, () => new ExplorerError('SIGNAL_FAILED', 'too many channel set-ups in progress'))
      return
    }
    this.nextConn = (this.nextConn + 1) >>> 0
    const session = this.openSession(remote, this.nextConn)
    session.route = route
    session.subscription.add(
      this.transport.connect(remote, this.portFor(session)).subscribe({
        next: (channel) => this.adopt(session, channel, this.self),
        error: (error) => {
          this.endSession(session)
          this.settle(remote, () => error)
        },
      }),
    )
  }

  private onFrame(frame: LocalFrame): void {
    const envelope = parseEnvelope(frame.payload)
    if (!envelope) return this.router.rejectPayload(frame)
    if (frame.unreachable) {
      // Addressed to a peer that does not exist: we own its id, so tell the sender at once.
      if (envelope.s !== undefined) this.replyTo(frame, { abort: 'unreachable', gone: formatId(frame.dest) })
      return
    }
    const remote = envelope.abort === 'unreachable' && envelope.gone !== undefined ? parseId(envelope.gone) : frame.source
    const session = this.sessions.get(sessionKey(remote, frame.conn))
    if (session) {
      if (frame.path !== null) session.route = [...frame.path].reverse()
      if (envelope.abort) {
        this.endSession(session)
        if (envelope.abort !== 'glare') {
          const gone = envelope.abort === 'unreachable'
          this.settle(session.remote, () => new ExplorerError(gone ? 'PEER_NOT_FOUND' : 'SIGNAL_FAILED', `peer ${formatId(session.remote)} ${gone ? 'does not exist' : 'is busy'}`))
        }
        return
      }
      if (envelope.s !== undefined) {
        if (envelope.j !== undefined) session.remoteJoined = envelope.j === 1
        session.signals.next(envelope.s)
      }
      return
    }
    if (envelope.s !== undefined) this.answer(frame, envelope.s, envelope.j)
  }

  private answer(offer: LocalFrame, firstSignal: unknown, joined: 0 | 1 | undefined): void {
    const remote = offer.source
    if (this.sessions.size >= this.options.maxSessions) {
      this.replyTo(offer, { abort: 'busy' })
      return
    }
    if (this.pending.has(remote)) {
      // Glare: both ends dial at once. The lower id's attempt wins on both ends.
      if (this.self < remote) {
        this.replyTo(offer, { abort: 'glare' })
        return
      }
      for (const session of [...this.sessions.values()]) if (session.remote === remote) this.endSession(session)
    }
    // A peer dials us only when it has no channel to us: any we still hold is dead.
    if (this.channels.has(remote)) this.channels.close(remote)
    const session = this.openSession(remote, offer.conn)
    session.route = offer.path === null ? null : [...offer.path].reverse()
    if (joined !== undefined) session.remoteJoined = joined === 1
    session.signals.next(firstSignal)
    session.subscription.add(
      this.transport.accept(remote, this.portFor(session)).subscribe({
        next: (channel) => this.adopt(session, channel, remote),
        error: () => this.endSession(session),
      }),
    )
  }

  private openSession(remote: number, conn: number): Session {
    const session: Session = {
      remote, conn, route: null, signals: new ReplaySubject<unknown>(), subscription: new Subscription(), remoteJoined: null, toldJoined: null,
    }
    this.sessions.set(sessionKey(remote, conn), session)
    session.subscription.add(
      timer(this.options.connectTimeoutMs, this.scheduler).subscribe(() => {
        this.endSession(session)
        this.settle(remote, () => new ExplorerError('SIGNAL_FAILED', `channel set-up with ${formatId(remote)} timed out`))
      }),
    )
    return session
  }

  private portFor(session: Session): SignalPort {
    return {
      signals$: session.signals.asObservable(),
      send: (signal) => {
        session.toldJoined = this.options.joined()
        this.sendTo(session, { s: signal, j: session.toldJoined ? 1 : 0 })
      },
    }
  }

  /** Along the session's known route, else routed by id and traced (so the answer can come back the same way). */
  private sendTo(session: Session, envelope: Envelope): void {
    const frame = { type: FrameType.Signal, dest: session.remote, conn: session.conn, seq: 0, payload: encode(envelope) }
    if (session.route !== null) this.router.sendAlong(session.route, frame)
    else this.router.send({ ...frame, flags: FrameFlag.Exact }, true)
  }

  private replyTo(frame: LocalFrame, envelope: Envelope): void {
    this.router.reply(frame, { type: FrameType.Signal, conn: frame.conn, seq: 0, payload: encode(envelope) })
  }

  /**
   * The new channel joins the ChannelSet. When both ends told their ring
   * state in their signals and ours has not changed since, it is introduced:
   * no Hello needed on it (two frames fewer per channel).
   */
  private adopt(session: Session, channel: Channel, initiator: number): void {
    this.endSession(session)
    const introduced = session.remoteJoined !== null && session.toldJoined === this.options.joined()
    this.channels.add(channel, initiator, introduced ? { remoteJoined: session.remoteJoined! } : undefined)
    this.settle(session.remote, () => new ExplorerError('SIGNAL_FAILED', 'channel closed at once'))
  }

  /** Ends a pending ensureChannel$: success whenever a channel is open by now, whoever dialled. The error is built only on failure (a stack trace is costly). */
  private settle(remote: number, error: () => unknown): void {
    const done = this.pending.get(remote)
    if (!done) return
    this.pending.delete(remote)
    if (this.channels.has(remote)) {
      done.next()
      done.complete()
    } else {
      done.error(error())
    }
  }

  private endSession(session: Session): void {
    if (this.sessions.get(sessionKey(session.remote, session.conn)) !== session) return
    this.sessions.delete(sessionKey(session.remote, session.conn))
    session.subscription.unsubscribe()
    session.signals.complete()
  }
}

const sessionKey = (remote: number, conn: number) => `${remote}:${conn}`

const encode = (envelope: Envelope) => encoder.encode(JSON.stringify(envelope))

function parseEnvelope(payload: Uint8Array): Envelope | null {
  try {
    const value: unknown = JSON.parse(decoder.decode(payload))
    if (typeof value !== 'object' || value === null || Array.isArray(value)) return null
    const envelope = value as Envelope
    if (envelope.gone !== undefined && !isIdString(envelope.gone)) return null
    if (envelope.abort !== undefined && !['glare', 'unreachable', 'busy'].includes(envelope.abort)) return null
    if (envelope.j !== undefined && envelope.j !== 0 && envelope.j !== 1) return null
    return envelope
  } catch {
    return null
  }
}
