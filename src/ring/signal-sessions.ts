import type { Subject, Subscription } from 'rxjs'
import type { SignalGate } from '../identity/signal-gate'
import type { Envelope } from './signal-envelope'

/** One channel set-up through the overlay, ours or the remote's. */
export interface Session {
  /** Null while an offer carried by a lookup waits for the owner's answer (see OverlaySignalling.openOffer$). */
  remote: number | null
  conn: number
  /** A source route to the remote: from a lookup, or the reverse of the path its signals came by; null to route by id. */
  route: number[] | null
  signals: Subject<unknown>
  /** Proves our binding signals and holds the remote's until one proved its key (src/identity/signal-gate.ts). */
  gate: SignalGate
  /** The neighbour whose channel brought the offer we answer (null for our own attempts): set-ups are bounded per neighbour. */
  via: number | null
  /** We answer the remote's dial: once proven and open, the new channel replaces any we still hold to it. */
  answering: boolean
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
  /** When it began (scheduler time): a remote's newer set-up supersedes an old one of its own (see OverlaySignalling). */
  startedAt: number
}

/**
 * The set-ups in progress: by (remote, conn), and the open offers (carried
 * by lookups, remote unknown yet) by conn. Bounded by the caller (maxSessions).
 */
export class SignalSessions {
  private readonly byRemote = new Map<string, Session>()
  private readonly open = new Map<number, Session>()

  get size(): number {
    return this.byRemote.size + this.open.size
  }

  get(remote: number, conn: number): Session | undefined {
    return this.byRemote.get(key(remote, conn))
  }

  openOffer(conn: number): Session | undefined {
    return this.open.get(conn)
  }

  add(session: Session): void {
    if (session.remote === null) this.open.set(session.conn, session)
    else this.byRemote.set(key(session.remote, session.conn), session)
  }

  /** An open offer's remote is known now: it moves to the sessions by remote. */
  bind(session: Session, remote: number): void {
    this.open.delete(session.conn)
    session.remote = remote
    this.byRemote.set(key(remote, session.conn), session)
  }

  /** Forgets `session`; false when it was not (or no longer) here. */
  delete(session: Session): boolean {
    if (session.remote === null) {
      if (this.open.get(session.conn) !== session) return false
      this.open.delete(session.conn)
    } else {
      if (this.byRemote.get(key(session.remote, session.conn)) !== session) return false
      this.byRemote.delete(key(session.remote, session.conn))
    }
    return true
  }

  /** Set-ups others started with us whose offers came through neighbour `via`. */
  countVia(via: number): number {
    let n = 0
    for (const session of this.byRemote.values()) if (session.via === via) n++
    return n
  }

  /**
   * Whether `session`'s remote, proven by now, may hold it beside the other
   * set-ups it started with us whose offers proved its key: under `max`, or
   * its oldest is at least `minAgeMs` old (an honest remote runs one set-up
   * with us at a time: that one it gave up; the caller ends it). Only proven
   * ones count: an offer under a claimed id proves nothing, so it cannot use
   * up the share of the peer it names. (Keys cost nothing to make: the
   * per-neighbour bound and the transport's peers-per-minute budget stay the
   * backstops against many keys.)
   */
  roomFor(session: Session, max: number, now: number, minAgeMs: number): { ok: boolean; supersedes?: Session } {
    const proven = this.withRemote(session.remote!).filter((s) => s !== session && s.answering && s.gate.remoteKey !== null)
    if (proven.length < max) return { ok: true }
    const oldest = proven.reduce((a, b) => (b.startedAt < a.startedAt ? b : a))
    return now - oldest.startedAt < minAgeMs ? { ok: false } : { ok: true, supersedes: oldest }
  }

  /** Set-ups `remote` started with us no later than `time`: moot once a channel with it opened (a glare, or ones it gave up). */
  answeringSince(remote: number, time: number): Session[] {
    return this.withRemote(remote).filter((s) => s.answering && s.startedAt <= time)
  }

  withRemote(remote: number): Session[] {
    return [...this.byRemote.values()].filter((s) => s.remote === remote)
  }

  all(): Session[] {
    return [...this.byRemote.values(), ...this.open.values()]
  }
}

const key = (remote: number, conn: number) => `${remote}:${conn}`
