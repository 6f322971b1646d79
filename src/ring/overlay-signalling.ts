import { Observable, ReplaySubject, SchedulerLike, Subscription, defer, of, throwError, timer } from 'rxjs'
import type { Diagnostics } from '../diagnostics'
import { ExplorerError } from '../errors'
import { recordProvenKey } from '../identity/channel-keys'
import { SignalGate } from '../identity/signal-gate'
import type { SignalProver } from '../identity/signal-proof'
import { formatId, parseId } from '../ids'
import { withTimeout } from '../operators'
import type { ChannelSet } from '../router/channel-set'
import type { LocalFrame, Router } from '../router/router'
import type { Channel, SignalPort, Transport } from '../transport/types'
import { FrameFlag, FrameType } from '../wire/frame'
import type { CarriedOffer } from './messages'
import { abortError, encodeEnvelope as encode, parseEnvelope, proofOf, signalEnvelope, type Envelope } from './signal-envelope'
import { SignalSessions, type Session } from './signal-sessions'

export interface OverlaySignallingOptions {
  connectTimeoutMs: number
  maxSessions: number
  /** Set-ups that others start with us through one neighbour at most at once (the neighbour is proven by its channel; the claimed sender is not). */
  maxSessionsPerNeighbour: number
  /** Set-ups one remote, once proven by its key, may hold with us at once (SignalSessions.roomFor). */
  maxSessionsPerRemote: number
  /** Whether this peer is in the ring now (told to the remote with every signal). */
  joined: () => boolean
  /** Signs our channel-binding signals and checks the remote's (identity keys; modelled in the simulator). */
  prover: SignalProver
  /** Where refused proofs are reported (SIGNAL_UNPROVEN). */
  diagnostics?: Diagnostics
  /** Takes the envelopes of ICE restarts (`r`: they renew a channel, src/ring/ice-restarts.ts); none: they are dropped. */
  restarts?: (frame: LocalFrame, envelope: Envelope) => void
}

/**
 * Opens channels to peers by carrying the transport's signalling inside
 * routed Signal frames: after joining, no server is involved. Each attempt is
 * a session keyed by (remote, conn); the initiator picks conn. The dialler's
 * signals are traced, so the answers come back along the same path.
 */
export class OverlaySignalling {
  private readonly sessions = new SignalSessions()
  private readonly pending = new Map<number, ReplaySubject<void>>()
  private readonly subscription: Subscription
  /** What our transport's signals bind a channel to (Transport.bindingOf). */
  private readonly binding: (signal: unknown) => string | null
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
    this.binding = (signal) => transport.bindingOf(signal)
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
    const session = this.sessions.openOffer(conn)
    if (session === undefined) return
    const envelope = answer === undefined ? null : parseEnvelope(answer)
    const usable = envelope !== null && envelope.s !== undefined && owner !== this.self
    if (!usable || this.channels.has(owner) || this.pending.has(owner)) {
      // The owner made its end for nothing: tell it to stop waiting (as a lost glare would).
      if (usable) this.sendTo({ remote: owner, conn, route: this.usableRoute(route) }, { abort: 'glare' })
      this.endSession(session)
      return
    }
    this.sessions.bind(session, owner)
    session.gate.bind(owner)
    session.route = this.usableRoute(route)
    this.pending.set(owner, new ReplaySubject<void>(1))
    if (envelope.j !== undefined) session.remoteJoined = envelope.j === 1
    session.gate.receive(envelope.s, proofOf(envelope))
    for (const unsent of session.unsent.splice(0)) this.sendTo(session, unsent)
  }

  /** The lookup that carried offer `conn` failed or found nobody: forget the offer. (No-op once bound.) */
  dropOffer(conn: number): void {
    const session = this.sessions.openOffer(conn)
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
      this.sessionCount >= this.options.maxSessions || this.sessions.get(asker, offer.session) !== undefined
    ) {
      reply(undefined)
      return
    }
    // The asker signed its offer for anyone (it did not know who owns the key).
    const session = this.openSession(asker, offer.session, { openOffer: true, answering: true })
    session.route = route
    if (envelope.j !== undefined) session.remoteJoined = envelope.j === 1
    session.firstSignal = (answer) => reply(answer === null ? undefined : encode(answer))
    session.gate.receive(envelope.s, proofOf(envelope))
  }

  close(): void {
    this.subscription.unsubscribe()
    for (const session of this.sessions.all()) this.endSession(session)
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
    if (envelope.r !== undefined) return this.options.restarts?.(frame, envelope)
    if (frame.unreachable) {
      // Addressed to a peer that does not exist: we own its id, so tell the sender at once.
      if (envelope.s !== undefined) this.replyTo(frame, { abort: 'unreachable', gone: formatId(frame.dest) })
      return
    }
    const remote = envelope.abort === 'unreachable' && envelope.gone !== undefined ? parseId(envelope.gone) : frame.source
    const session = this.sessions.get(remote, frame.conn)
    // (A carried offer's session learns its remote from the Found, which its signals follow along the same path.)
    if (!session && this.sessions.openOffer(frame.conn) !== undefined) return
    if (session) {
      if (frame.path !== null) session.route = [...frame.path].reverse()
      if (envelope.abort) {
        this.endSession(session)
        if (envelope.abort !== 'glare') this.settle(remote, () => abortError(envelope.abort!, remote))
        return
      }
      if (envelope.s !== undefined) {
        if (envelope.j !== undefined) session.remoteJoined = envelope.j === 1
        session.gate.receive(envelope.s, proofOf(envelope))
      }
      return
    }
    if (envelope.s !== undefined) this.answer(frame, envelope)
  }

  private answer(offer: LocalFrame, envelope: Envelope): void {
    const remote = offer.source
    if (this.sessionCount >= this.options.maxSessions || this.sessions.countVia(offer.from) >= this.options.maxSessionsPerNeighbour) {
      this.replyTo(offer, { abort: 'busy' })
      return
    }
    if (this.pending.has(remote)) {
      // Glare: both ends dial at once. The lower id's attempt wins on both ends.
      if (this.self < remote) {
        this.replyTo(offer, { abort: 'glare' })
        return
      }
      for (const session of this.sessions.withRemote(remote)) this.endSession(session)
    }
    // Nothing is made for the offer (no RTCPeerConnection, no channel closed) before it proved its sender's key:
    // the transport accepts when the gate hands on the proven offer (see openSession).
    const session = this.openSession(remote, offer.conn, { answering: true, via: offer.from })
    session.route = offer.path === null ? null : [...offer.path].reverse()
    if (envelope.j !== undefined) session.remoteJoined = envelope.j === 1
    session.gate.receive(envelope.s, proofOf(envelope))
  }

  /**
   * A set-up session. Its gate proves our binding signals on the way out and
   * hands on the remote's only once proven; when we answer (`answering`),
   * the transport accepts at the first proven signal, so a forged offer
   * costs us a check, never an RTCPeerConnection.
   */
  private openSession(remote: number | null, conn: number, role: { answering?: boolean; openOffer?: boolean; via?: number } = {}): Session {
    let accepting = false
    const session: Session = {
      remote, conn, route: null, signals: new ReplaySubject<unknown>(), subscription: new Subscription(), remoteJoined: null, toldJoined: null, startedAt: this.scheduler.now(),
      firstSignal: null, unsent: [], via: role.via ?? null, answering: role.answering === true,
      gate: new SignalGate(
        { prover: this.options.prover, bindingOf: this.binding, session: conn, remote, openOffer: role.openOffer },
        {
          out: (signal, proof, told) => this.emit(session, signalEnvelope(signal, told === true, proof)),
          deliver: (signal) => {
            session.signals.next(signal)
            if (!session.answering || accepting || session.remote === null) return
            accepting = true
            // One key costs us at most maxSessionsPerRemote RTCPeerConnections per half connectTimeoutMs.
            const room = this.sessions.roomFor(session, this.options.maxSessionsPerRemote, this.scheduler.now(), this.options.connectTimeoutMs / 2)
            if (room.supersedes) this.endSession(room.supersedes)
            if (!room.ok) return this.refuseBusy(session)
            const asker = session.remote
            session.subscription.add(
              this.transport.accept(asker, this.portFor(session)).subscribe({
                next: (channel) => this.adopt(session, channel, asker),
                error: () => this.endSession(session),
              }),
            )
          },
          fail: (reason) => this.unproven(session, reason),
        },
      ),
    }
    this.sessions.add(session)
    session.subscription.add(
      timer(this.options.connectTimeoutMs, this.scheduler).subscribe(() => {
        this.endSession(session)
        const remote = session.remote
        if (remote !== null) this.settle(remote, () => new ExplorerError('SIGNAL_FAILED', `channel set-up with ${formatId(remote)} timed out`))
      }),
    )
    return session
  }

  /** Ends a set-up we answer, telling the remote we are busy (unless its offer rode on a lookup: the Found then says so). */
  private refuseBusy(session: Session): void {
    if (session.firstSignal === null) this.sendTo(session, { abort: 'busy' })
    this.endSession(session)
  }

  private portFor(session: Session): SignalPort {
    return {
      signals$: session.signals.asObservable(),
      // What the signal tells of our ring state is decided now, when the transport makes it (its proof may take a while).
      send: (signal) => session.gate.send(signal, (session.toldJoined = this.options.joined())),
      remote: () => session.remote,
    }
  }

  /** One of our signals, proven where it binds the channel, leaves: on a ring message that carries it, or in a Signal frame. */
  private emit(session: Session, envelope: Envelope): void {
    const first = session.firstSignal
    session.firstSignal = null
    if (first !== null) first(envelope)
    else if (session.remote === null) session.unsent.push(envelope)
    else this.sendTo(session, envelope)
  }

  /** The remote's signal did not prove its key: the set-up ends (the remote is told, its dial fails at once), our dial with AUTH_FAILED. */
  private unproven(session: Session, reason: string): void {
    const remote = session.remote
    this.options.diagnostics?.report('SIGNAL_UNPROVEN', new ExplorerError('AUTH_FAILED', `channel set-up ${session.conn}: ${reason}`), remote === null ? {} : { peer: remote })
    if (remote !== null && !session.answering) this.sendTo(session, { abort: 'unproven' })
    this.endSession(session)
    if (remote !== null) this.settle(remote, () => new ExplorerError('AUTH_FAILED', `channel set-up with ${formatId(remote)}: ${reason}`))
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
    this.endSession(session, true)
    recordProvenKey(channel, session.gate.remoteKey)
    // Left to time out, they would count against the remote's share (roomFor).
    for (const stale of this.sessions.answeringSince(channel.remoteId, session.startedAt)) this.endSession(stale)
    const introduced = session.remoteJoined !== null && session.toldJoined === this.options.joined()
    // The remote dialled us although we hold a channel to it: it finds that one dead. Only now, with the new
    // channel proven and open, does the old one go.
    if (session.answering && this.channels.has(channel.remoteId)) this.channels.close(channel.remoteId)
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

  /**
   * Forgets a set-up. One that failed tells a pending ring message (a
   * carried offer's lookup, an owner's Found) to go without a signal; one
   * whose channel opened lets the gate still hand over the signal it is
   * proving (an answer made as the memory transport opened the pair).
   */
  private endSession(session: Session, opened = false): void {
    if (!this.sessions.delete(session)) return
    session.subscription.unsubscribe()
    session.gate.close()
    session.signals.complete()
    if (opened) return
    const first = session.firstSignal
    session.firstSignal = null
    first?.(null)
  }
}
