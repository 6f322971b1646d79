import { Observable, ReplaySubject, SchedulerLike, Subject, Subscription, defer, of, throwError, timer } from 'rxjs'
import { ExplorerError } from '../errors'
import { formatId, isIdString, parseId } from '../ids'
import { withTimeout } from '../operators'
import type { ChannelSet } from '../router/channel-set'
import type { LocalFrame, Router } from '../router/router'
import type { Channel, SignalPort, Transport } from '../transport/types'
import { FrameFlag, FrameType } from '../wire/frame'
import type { CarriedOffer } from './messages'

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
  /** Null while an offer carried by a lookup waits for the owner's answer (see openOffer$). */
  remote: number | null
  conn: number
  /** A source route to the remote: from a lookup, or the reverse of the path its signals came by; null to route by id. */
  route: number[] | null
  signals: Subject<unknown>
  subscription: Subscription
  /** The remote's ring state from its last signal (null until one said). */
  remoteJoined: boolean | null
  /** Our ring state as our last signal told it (null until we sent one). */
  toldJoined: boolean | null
  /**
   * Takes our first signal instead of a Signal frame, when it rides on a ring
   * message (the asker's offer on its lookup, the owner's answer on its Found);
   * called with null if the session ends before that. Null once used.
   */
  firstSignal: ((envelope: Envelope | null) => void) | null
  /** Signals made before the session knew its remote (candidates after a carried offer), sent once it does. */
  unsent: Envelope[]
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
  /** Sessions of offers sent with a lookup, by conn, until the owner's answer names their remote. */
  private readonly openOffers = new Map<number, Session>()
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
    return this.sessions.size + this.openOffers.size
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
        this.initiate(remote, this.usableRoute(route))
      }
      // The attempt has timers of its own; this one also covers a glare we lost and the winner never finishing.
      return done.pipe(withTimeout(this.options.connectTimeoutMs * 2, this.scheduler, () => new ExplorerError('SIGNAL_FAILED', `no channel to ${formatId(remote)}`)))
    })
  }

  /**
   * Starts a channel to the owner of a key before knowing who that is: the
   * offer rides on the lookup (FindSuccessor), the owner answers on its Found
   * (`acceptCarried`), and `bindOffer` names the remote. Two traversals of the
   * ring instead of four (lookup, Found, offer, answer). Emits once the offer
   * is made, or null (a plain lookup then) when the transport's offers are
   * not cheap (WebRTC: see Transport.cheapOffers), no session can be spared,
   * or the transport failed. Whatever becomes of the lookup, the caller ends
   * with `bindOffer` or `dropOffer`.
   */
  openOffer$(): Observable<CarriedOffer | null> {
    return new Observable<CarriedOffer | null>((subscriber) => {
      if (!this.transport.cheapOffers || this.sessionCount >= this.options.maxSessions) {
        subscriber.next(null)
        subscriber.complete()
        return
      }
      this.nextConn = (this.nextConn + 1) >>> 0
      const session = this.openSession(null, this.nextConn)
      session.firstSignal = (envelope) => {
        subscriber.next(envelope === null ? null : { session: session.conn, envelope: encode(envelope) })
        subscriber.complete()
      }
      session.subscription.add(
        this.transport.connect(null, this.portFor(session)).subscribe({
          next: (channel) => this.adopt(session, channel, this.self),
          error: () => this.endSession(session),
        }),
      )
      // Unsubscribed before the offer was made: nobody will bind or drop it.
      return () => {
        if (session.firstSignal !== null) this.endSession(session)
      }
    })
  }

  /**
   * The lookup that carried offer `conn` found `owner`. With its answer the
   * session now belongs to the owner and `ensureChannel$(owner)` waits for it;
   * without one (the owner declined, or is us) the offer is dropped.
   */
  bindOffer(conn: number, owner: number, route: number[], answer: Uint8Array | undefined): void {
    const session = this.openOffers.get(conn)
    if (session === undefined) return
    const envelope = answer === undefined ? null : parseEnvelope(answer)
    const usable = envelope !== null && envelope.s !== undefined && owner !== this.self
    if (!usable || this.channels.has(owner) || this.pending.has(owner)) {
      // The owner made its end for nothing: tell it to stop waiting (as a lost glare would).
      if (usable) this.sendTo({ remote: owner, conn, route: this.usableRoute(route) }, { abort: 'glare' })
      this.endSession(session)
      return
    }
    this.openOffers.delete(conn)
    session.remote = owner
    session.route = this.usableRoute(route)
    this.sessions.set(sessionKey(owner, conn), session)
    this.pending.set(owner, new ReplaySubject<void>(1))
    if (envelope.j !== undefined) session.remoteJoined = envelope.j === 1
    session.signals.next(envelope.s)
    for (const unsent of session.unsent.splice(0)) this.sendTo(session, unsent)
  }

  /** The lookup that carried offer `conn` failed or found nobody: forget the offer. (No-op once bound.) */
  dropOffer(conn: number): void {
    const session = this.openOffers.get(conn)
    if (session !== undefined) this.endSession(session)
  }

  /**
   * We own the key a lookup from `asker` carried an offer for: take it, unless
   * we are the asker, already have (or are opening) a channel to it, or are
   * full. `reply` sends the Found, exactly once: with our answer, or without
   * one (declined or failed), and the asker then dials as usual.
   */
  acceptCarried(asker: number, route: number[] | null, offer: CarriedOffer, reply: (answer: Uint8Array | undefined) => void): void {
    const envelope = parseEnvelope(offer.envelope)
    if (
      envelope === null || envelope.s === undefined || asker === this.self || this.channels.has(asker) || this.pending.has(asker) ||
      this.sessionCount >= this.options.maxSessions || this.sessions.has(sessionKey(asker, offer.session))
    ) {
      reply(undefined)
      return
    }
    const session = this.openSession(asker, offer.session)
    session.route = route
    if (envelope.j !== undefined) session.remoteJoined = envelope.j === 1
    session.firstSignal = (answer) => reply(answer === null ? undefined : encode(answer))
    session.signals.next(envelope.s)
    session.subscription.add(
      this.transport.accept(asker, this.portFor(session)).subscribe({
        next: (channel) => this.adopt(session, channel, asker),
        error: () => this.endSession(session),
      }),
    )
  }

  close(): void {
    this.subscription.unsubscribe()
    for (const session of [...this.sessions.values(), ...this.openOffers.values()]) this.endSession(session)
    for (const done of this.pending.values()) done.error(new ExplorerError('CLOSED', 'the explorer closed'))
    this.pending.clear()
  }

  private initiate(remote: number, route: number[] | null): void {
    if (this.sessionCount >= this.options.maxSessions) {
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
    // (A carried offer's session learns its remote from the Found, which its signals follow along the same path.)
    if (!session && this.openOffers.has(frame.conn)) return
    if (session) {
      if (frame.path !== null) session.route = [...frame.path].reverse()
      if (envelope.abort) {
        this.endSession(session)
        if (envelope.abort !== 'glare') {
          const gone = envelope.abort === 'unreachable'
          this.settle(remote, () => new ExplorerError(gone ? 'PEER_NOT_FOUND' : 'SIGNAL_FAILED', `peer ${formatId(remote)} ${gone ? 'does not exist' : 'is busy'}`))
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
    if (this.sessionCount >= this.options.maxSessions) {
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

  private openSession(remote: number | null, conn: number): Session {
    const session: Session = {
      remote, conn, route: null, signals: new ReplaySubject<unknown>(), subscription: new Subscription(), remoteJoined: null, toldJoined: null,
      firstSignal: null, unsent: [],
    }
    if (remote === null) this.openOffers.set(conn, session)
    else this.sessions.set(sessionKey(remote, conn), session)
    session.subscription.add(
      timer(this.options.connectTimeoutMs, this.scheduler).subscribe(() => {
        this.endSession(session)
        const remote = session.remote
        if (remote !== null) this.settle(remote, () => new ExplorerError('SIGNAL_FAILED', `channel set-up with ${formatId(remote)} timed out`))
      }),
    )
    return session
  }

  private portFor(session: Session): SignalPort {
    return {
      signals$: session.signals.asObservable(),
      send: (signal) => {
        session.toldJoined = this.options.joined()
        const envelope: Envelope = { s: signal, j: session.toldJoined ? 1 : 0 }
        const first = session.firstSignal
        session.firstSignal = null
        if (first !== null) first(envelope)
        else if (session.remote === null) session.unsent.push(envelope)
        else this.sendTo(session, envelope)
      },
      remote: () => session.remote,
    }
  }

  /** A lookup's route when its first hop is still a neighbour, else null (route by id). */
  private usableRoute(route: number[] | null): number[] | null {
    return route !== null && route.length > 0 && this.channels.has(route[0]) ? route : null
  }

  /** Along the session's known route, else routed by id and traced (so the answer can come back the same way). */
  private sendTo(session: { remote: number | null; conn: number; route: number[] | null }, envelope: Envelope): void {
    if (session.remote === null) return
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
    if (session.remote !== null) this.settle(session.remote, () => new ExplorerError('SIGNAL_FAILED', 'channel closed at once'))
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
    if (session.remote === null) {
      if (this.openOffers.get(session.conn) !== session) return
      this.openOffers.delete(session.conn)
    } else {
      if (this.sessions.get(sessionKey(session.remote, session.conn)) !== session) return
      this.sessions.delete(sessionKey(session.remote, session.conn))
    }
    session.subscription.unsubscribe()
    session.signals.complete()
    const first = session.firstSignal
    session.firstSignal = null
    first?.(null)
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
