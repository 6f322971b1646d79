import { ReplaySubject, Subscription, timer, type SchedulerLike } from 'rxjs'
import type { Diagnostics } from '../diagnostics'
import { ExplorerError } from '../errors'
import { provenKeyOf } from '../identity/channel-keys'
import { SignalGate } from '../identity/signal-gate'
import type { SignalProver } from '../identity/signal-proof'
import { formatId, parseId } from '../ids'
import type { ChannelSet } from '../router/channel-set'
import type { LocalFrame, Router } from '../router/router'
import type { Channel, SignalPort } from '../transport/types'
import { FrameFlag, FrameType } from '../wire/frame'
import { encodeEnvelope, proofOf, type Envelope } from './signal-envelope'

export interface IceRestartsComponents {
  self: number
  router: Router
  channels: ChannelSet
  scheduler: SchedulerLike
  /** Signs our restart offers and answers and checks the remote's (the same proofs as a channel set-up). */
  prover: SignalProver
  /** What a transport signal binds (Transport.bindingOf: an offer's or answer's SDP). */
  bindingOf: (signal: unknown) => string | null
  diagnostics: Diagnostics
  random: () => number
}

export interface IceRestartsInit {
  /** Restarts tried for one outage before the channel is dropped. */
  attempts: number
  /** A restart whose remote sent no proven answer (or offer) within this long is over: the remote is likely gone. */
  answerWithinMs: number
  /** The pause between two attempts. */
  retryMs: number
}

export const ICE_RESTART_DEFAULTS = { attempts: 2, retryMs: 0 } as const

/** One restart of one channel, ours (offering) or the remote's (answering). */
interface RestartSession {
  remote: number
  conn: number
  channel: Channel
  offering: boolean
  /** Reverse of the path the remote's last signal came by (its first hop a neighbour that carries), else null: by id. */
  route: number[] | null
  signals: ReplaySubject<unknown>
  gate: SignalGate
  subscription: Subscription
  /** Ends an offering session's attempt: `final` when another attempt would not help. */
  failed: (error: ExplorerError, final: boolean) => void
}

/** What a restart's proof binds: the SDP, apart from a set-up's (a restart offer is never a valid set-up offer, nor the reverse). */
const RESTART_BINDING = 'ice-restart\n'

/**
 * ICE restarts of direct channels, signalled through the overlay
 * (docs/nat.md, "Connection health"). When a channel that can renew its path
 * (Channel.restartIce) turns unhealthy, the end that was its handshake's
 * connector offers a restart; its signals travel as Signal frames marked
 * `r: 1` around the ring (the channel itself is down), the other end
 * answers with acceptIceRestart, and the same channel object lives on. Both
 * ends' offer and answer are proven as at set-up (SignalGate), and must be
 * signed by the very key the channel proved when it was made. While a
 * restart runs the ring keeps the channel (`renewing`), and the transport
 * does not close it for silence. An outage gets `attempts` restarts; one the
 * remote does not answer, or refuses, is the last. Then the channel is
 * dropped, and the ring replaces it as before.
 */
export class IceRestarts {
  private readonly sessions = new Map<string, RestartSession>()
  /** Remotes whose channel we are renewing: an attempt, or the pause between two. */
  private readonly outages = new Map<number, Subscription>()
  private readonly subscription = new Subscription()

  constructor(
    private readonly components: IceRestartsComponents,
    private readonly init: IceRestartsInit,
  ) {
    const { channels } = components
    this.subscription.add(channels.health$.subscribe(({ peer, healthy }) => healthy || this.onUnhealthy(peer)))
    this.subscription.add(channels.events$.subscribe((event) => event.type === 'down' && this.forget(event.peer)))
  }

  /** Whether the channel to `peer` is being renewed: the ring must not drop it meanwhile. */
  renewing(peer: number): boolean {
    if (this.outages.has(peer)) return true
    for (const session of this.sessions.values()) if (session.remote === peer) return true
    return false
  }

  /** A Signal frame of a restart session (envelope `r`), from OverlaySignalling. */
  onSignal(frame: LocalFrame, envelope: Envelope): void {
    if (frame.unreachable) {
      // Our peer's id reached us, its owner: the remote it names does not exist.
      if (envelope.s !== undefined) this.replyTo(frame, { abort: 'unreachable', gone: formatId(frame.dest) })
      return
    }
    const remote = envelope.abort === 'unreachable' && envelope.gone !== undefined ? parseId(envelope.gone) : frame.source
    const session = this.sessions.get(key(remote, frame.conn))
    if (session !== undefined) {
      if (frame.path !== null) session.route = this.usableRoute([...frame.path].reverse(), remote)
      if (envelope.abort !== undefined) session.failed(new ExplorerError('SIGNAL_FAILED', `${formatId(remote)} refused the ICE restart (${envelope.abort})`), true)
      else if (envelope.s !== undefined) session.gate.receive(envelope.s, proofOf(envelope))
      return
    }
    if (envelope.s !== undefined && envelope.abort === undefined) this.answer(frame, remote, envelope)
  }

  close(): void {
    this.subscription.unsubscribe()
    for (const outage of this.outages.values()) outage.unsubscribe()
    this.outages.clear()
    for (const session of [...this.sessions.values()]) this.end(session)
  }

  /**
   * The ring would drop the channel to `peer` (it did not answer): true when
   * this takes charge instead, because the channel can renew its path. The
   * connector end offers restarts; the other end waits `answerWithinMs` for
   * one. Either drops the channel itself if nothing comes of it.
   */
  takeOver(peer: number): boolean {
    const channel = this.components.channels.channel(peer)
    if (channel?.restartIce === undefined || !channel.isOpen) return false
    if (channel.role === 'connector') this.onUnhealthy(peer)
    else if (!this.renewing(peer)) this.awaitOffer(peer, channel)
    return true
  }

  // ---- offering ------------------------------------------------------------

  private onUnhealthy(peer: number): void {
    const channel = this.components.channels.channel(peer)
    if (channel?.restartIce === undefined || channel.role !== 'connector' || !channel.isOpen || this.renewing(peer)) return
    this.outages.set(peer, new Subscription())
    this.attempt(peer, channel, this.init.attempts)
  }

  /** One restart; on failure the next after `retryMs`, or, the last one failed, the channel goes. */
  private attempt(peer: number, channel: Channel, left: number): void {
    const outage = this.outages.get(peer)
    if (outage === undefined) return
    const session = this.open(peer, (this.components.random() * 0x100000000) >>> 0, channel, true)
    session.failed = (error, final) => {
      this.end(session)
      if (!final && left > 1 && channel.isOpen) {
        outage.add(timer(this.init.retryMs, this.components.scheduler).subscribe(() => this.attempt(peer, channel, left - 1)))
        return
      }
      this.outages.delete(peer)
      outage.unsubscribe()
      this.components.diagnostics.report('ICE_RESTART_FAILED', error, { peer })
      if (this.components.channels.channel(peer) === channel) this.components.channels.close(peer)
    }
    let restart$
    try {
      restart$ = channel.restartIce!(this.portFor(session))
    } catch (error) {
      return session.failed(error as ExplorerError, true)
    }
    session.subscription.add(
      restart$.subscribe({
        error: (error: ExplorerError) => session.failed(error, false),
        complete: () => {
          this.end(session)
          this.outages.delete(peer)
          outage.unsubscribe()
        },
      }),
    )
  }

  // ---- answering -----------------------------------------------------------

  /** Our end does not offer: the remote's offer should come soon; if none has when the wait is over and the channel still does not carry, it goes. */
  private awaitOffer(peer: number, channel: Channel): void {
    const { channels, scheduler } = this.components
    const wait = timer(this.init.answerWithinMs, scheduler).subscribe(() => {
      this.outages.delete(peer)
      if (this.renewing(peer) || channels.channel(peer) !== channel || channels.carries(peer)) return
      this.components.diagnostics.report('ICE_RESTART_FAILED', new ExplorerError('SIGNAL_FAILED', `${formatId(peer)} offered no ICE restart within ${this.init.answerWithinMs} ms`), { peer })
      channels.close(peer)
    })
    this.outages.set(peer, wait)
  }

  /**
   * The remote offers to restart the channel we hold to it. Nothing is done
   * for the offer before it proved the key that channel proved: a forged one
   * costs a signature check.
   */
  private answer(offer: LocalFrame, remote: number, envelope: Envelope): void {
    const channel = this.components.channels.channel(remote)
    const running = [...this.sessions.values()].filter((s) => s.remote === remote)
    // Only the connector offers (both at once would be glare); one offer waits to prove itself beside a running restart at most.
    if (channel?.acceptIceRestart === undefined || channel.role !== 'accepter' || running.length >= 2) {
      this.replyTo(offer, { abort: 'busy' })
      return
    }
    const session = this.open(remote, offer.conn, channel, false)
    session.route = offer.path === null ? null : this.usableRoute([...offer.path].reverse(), remote)
    session.gate.receive(envelope.s, proofOf(envelope))
  }

  /** The remote's offer proved its key: a restart it began before (and gave up) gives way, and the transport answers. */
  private accept(session: RestartSession): void {
    // Whatever waited for this offer (awaitOffer) is answered.
    this.outages.get(session.remote)?.unsubscribe()
    this.outages.delete(session.remote)
    for (const other of [...this.sessions.values()]) if (other.remote === session.remote && other !== session) this.end(other)
    session.subscription.add(session.channel.acceptIceRestart!(this.portFor(session)).subscribe({ complete: () => this.end(session), error: () => this.end(session) }))
  }

  // ---- both ----------------------------------------------------------------

  private open(remote: number, conn: number, channel: Channel, offering: boolean): RestartSession {
    const { prover, bindingOf, scheduler } = this.components
    let proven = false
    const session: RestartSession = {
      remote, conn, channel, offering, route: null, signals: new ReplaySubject<unknown>(), subscription: new Subscription(),
      failed: () => this.end(session),
      gate: new SignalGate(
        // Every signal must be proven by the key the channel proved at set-up (none recorded: nothing can match).
        { prover, bindingOf: (signal) => restartBinding(bindingOf(signal)), session: conn, remote, key: provenKeyOf(channel) ?? new Uint8Array(0) },
        {
          out: (signal, proof) => this.sendTo(session, proof === undefined ? { s: signal, r: 1 } : { s: signal, r: 1, k: proof.k, p: proof.p }),
          deliver: (signal) => {
            session.signals.next(signal)
            if (!proven && !offering) this.accept(session)
            proven = true
          },
          fail: (reason) => this.unproven(session, reason),
        },
      ),
    }
    this.sessions.set(key(remote, conn), session)
    session.subscription.add(
      timer(this.init.answerWithinMs, scheduler).subscribe(() => {
        if (!proven) session.failed(new ExplorerError('SIGNAL_FAILED', `no proven ICE restart signal from ${formatId(remote)} within ${this.init.answerWithinMs} ms`), true)
      }),
    )
    return session
  }

  /** The remote's signal did not prove the channel's key: the restart ends (an offerer tells the remote; nobody tells a forger). */
  private unproven(session: RestartSession, reason: string): void {
    const error = new ExplorerError('AUTH_FAILED', `ICE restart ${session.conn} of the channel to ${formatId(session.remote)}: ${reason}`)
    this.components.diagnostics.report('SIGNAL_UNPROVEN', error, { peer: session.remote })
    if (session.offering) this.sendTo(session, { abort: 'unproven' })
    session.failed(error, true)
  }

  private portFor(session: RestartSession): SignalPort {
    return { signals$: session.signals.asObservable(), send: (signal) => session.gate.send(signal) }
  }

  /**
   * Along the route the remote's signals came by, else by id, Exact and
   * traced, handed first to another neighbour: never over the channel being
   * renewed (the ring may not have noticed yet that it does not carry).
   */
  private sendTo(session: RestartSession, envelope: Envelope): void {
    const { router, channels, self } = this.components
    const frame = { type: FrameType.Signal, dest: session.remote, conn: session.conn, seq: 0, payload: encodeEnvelope({ ...envelope, r: 1 }) }
    if (session.route !== null) return void router.sendAlong(session.route, frame)
    const via = channels.routing.closestPreceding(self, session.remote) ?? channels.routing.closestFollowing(session.remote, self)
    if (via === null) router.send({ ...frame, flags: FrameFlag.Exact }, true)
    else router.sendThrough(via, { ...frame, flags: FrameFlag.Exact }, true)
  }

  private replyTo(frame: LocalFrame, envelope: Envelope): void {
    this.components.router.reply(frame, { type: FrameType.Signal, conn: frame.conn, seq: 0, payload: encodeEnvelope({ ...envelope, r: 1 }) })
  }

  /** A route back whose first hop is a neighbour that carries, and not the remote itself (its channel is the one being renewed). */
  private usableRoute(route: number[], remote: number): number[] | null {
    return route.length > 1 && route[0] !== remote && this.components.channels.carries(route[0]) ? route : null
  }

  /** The channel to `peer` closed: whatever renewed it is over. */
  private forget(peer: number): void {
    this.outages.get(peer)?.unsubscribe()
    this.outages.delete(peer)
    for (const session of [...this.sessions.values()]) if (session.remote === peer && !session.channel.isOpen) this.end(session)
  }

  private end(session: RestartSession): void {
    if (this.sessions.get(key(session.remote, session.conn)) !== session) return
    this.sessions.delete(key(session.remote, session.conn))
    session.subscription.unsubscribe()
    session.gate.close()
    session.signals.complete()
  }
}

const restartBinding = (binding: string | null): string | null => (binding === null ? null : RESTART_BINDING + binding)

const key = (remote: number, conn: number): string => `${remote}:${conn}`
