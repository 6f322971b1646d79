import { Observable, ReplaySubject, Subscription, defer, finalize, tap } from 'rxjs'
import { ExplorerError } from '../errors'
import { recordProvenKey } from '../identity/channel-keys'
import { SignalGate } from '../identity/signal-gate'
import type { SignalProof, SignalProver } from '../identity/signal-proof'
import { formatId, parseId } from '../ids'
import type { Channel, SignalPort, Transport } from '../transport/types'
import type { ServerError, ServerLink, ServerSignal } from './server-link'

/**
 * What travels in a server `signal` message's `data`: a transport signal
 * tagged with its session, so a retried or abandoned handshake never mixes
 * with a new one. `c` marks signals from the connecting side; `k` and `p`
 * prove a signal that binds the channel (src/identity/signal-proof.ts): the
 * server stamps `from`, but we do not take its word for who a peer is either.
 */
interface Envelope {
  sid: number
  c?: true
  s: unknown
  k?: string
  p?: string
}

interface Session {
  key: string
  remote: number
  signals: ReplaySubject<unknown>
  gate: SignalGate
  subscription: Subscription
}

/**
 * Channel handshakes relayed by the signalling server: the first channel of a
 * joining peer (it dials one of the successors the server listed) and, on the
 * other end, accepting such a joiner. Every later channel is signalled
 * through the overlay (src/ring/overlay-signalling.ts), not here.
 */
export class ServerSignalling {
  private readonly sessions = new Map<string, Session>()
  private readonly subscription = new Subscription()
  private readonly binding: (signal: unknown) => string | null
  private nextSid: number

  constructor(
    private readonly link: ServerLink,
    private readonly transport: Transport,
    /** Takes a channel a joining peer opened to us. */
    private readonly adopt: (channel: Channel, initiator: number) => void,
    /** Handshakes others start with us at most at once: bounds what strangers can make us hold. */
    private readonly maxAccepting: number,
    random: () => number,
    /** Signs our channel-binding signals and checks the remote's. */
    private readonly prover: SignalProver,
  ) {
    this.binding = (signal) => transport.bindingOf(signal)
    this.nextSid = Math.floor(random() * 0xffffffff) >>> 0
    this.subscription.add(link.signals$.subscribe((signal) => this.onSignal(signal)))
    this.subscription.add(link.errors$.subscribe((error) => this.onError(error)))
  }

  /** Cold: opens a channel to `remote`, signalled through the server; unsubscribing aborts. */
  connect$(remote: number): Observable<Channel> {
    return defer(() => {
      this.nextSid = (this.nextSid + 1) >>> 0
      const sid = this.nextSid
      const session = this.open(remote, sid, 'connect', { sid, c: true })
      return this.transport.connect(remote, this.port(session)).pipe(
        tap((channel) => recordProvenKey(channel, session.gate.remoteKey)),
        finalize(() => this.end(session)),
      )
    })
  }

  close(): void {
    this.subscription.unsubscribe()
    for (const session of [...this.sessions.values()]) this.end(session)
  }

  private onSignal({ from, data }: ServerSignal): void {
    const envelope = parseEnvelope(data)
    if (envelope === null) return
    const remote = parseId(from)
    // A connector's signal belongs to a handshake we accept, an accepter's to one we started.
    const key = sessionKey(remote, envelope.sid, envelope.c ? 'accept' : 'connect')
    const session = this.sessions.get(key)
    if (session) return session.gate.receive(envelope.s, { k: envelope.k, p: envelope.p })
    if (envelope.c && this.accepting() < this.maxAccepting) this.accept(remote, envelope)
  }

  /** A joiner's handshake: the transport accepts (an RTCPeerConnection is made) only once its offer proved the joiner's key. */
  private accept(remote: number, first: Envelope): void {
    const session = this.open(remote, first.sid, 'accept', { sid: first.sid })
    let accepting = false
    session.signals.subscribe({
      next: () => {
        if (accepting) return
        accepting = true
        session.subscription.add(
          this.transport.accept(remote, this.port(session)).subscribe({
            next: (channel) => {
              recordProvenKey(channel, session.gate.remoteKey)
              this.end(session)
              this.adopt(channel, remote)
            },
            error: () => this.end(session),
          }),
        )
      },
      // An unproven offer: nothing was made for it.
      error: () => this.end(session),
    })
    session.gate.receive(first.s, { k: first.k, p: first.p })
  }

  /** The server names a peer it no longer has: fail our handshakes with it now rather than at their timeout. */
  private onError(error: ServerError): void {
    if (error.code !== 'UNKNOWN_PEER') return
    const gone = /\b[0-9a-f]{12}\b/.exec(error.message)?.[0]
    if (gone === undefined) return
    for (const session of this.sessions.values()) {
      if (session.key.endsWith('/connect') && formatId(session.remote) === gone) {
        session.signals.error(new ExplorerError('SIGNAL_FAILED', `${gone} is no longer at the signalling server`))
      }
    }
  }

  /** A session whose gate proves our binding signals (sent tagged with `tag`) and lets the remote's through once proven. */
  private open(remote: number, sid: number, role: 'connect' | 'accept', tag: Omit<Envelope, 's'>): Session {
    const to = formatId(remote)
    const signals = new ReplaySubject<unknown>()
    const session: Session = {
      key: sessionKey(remote, sid, role), remote, signals, subscription: new Subscription(),
      gate: new SignalGate(
        { prover: this.prover, bindingOf: this.binding, session: sid, remote },
        {
          out: (s, proof?: SignalProof) => {
            // Throwing fails the handshake at once (the transport turns it into SIGNAL_FAILED).
            if (!this.link.sendSignal(to, proof === undefined ? { ...tag, s } : { ...tag, s, k: proof.k, p: proof.p })) session.signals.error(notConnected())
          },
          deliver: (s) => signals.next(s),
          fail: (reason) => signals.error(new ExplorerError('AUTH_FAILED', `channel set-up with ${to} through the server: ${reason}`)),
        },
      ),
    }
    this.sessions.set(session.key, session)
    return session
  }

  private end(session: Session): void {
    if (this.sessions.get(session.key) !== session) return
    this.sessions.delete(session.key)
    session.subscription.unsubscribe()
    session.gate.close()
  }

  private accepting(): number {
    let n = 0
    for (const key of this.sessions.keys()) if (key.endsWith('/accept')) n++
    return n
  }

  private port(session: Session): SignalPort {
    return {
      signals$: session.signals.asObservable(),
      send: (s) => {
        if (!this.link.isRegistered) throw notConnected()
        session.gate.send(s)
      },
    }
  }
}

const notConnected = () => new ExplorerError('SIGNAL_FAILED', 'not connected to the signalling server')

const sessionKey = (remote: number, sid: number, role: 'connect' | 'accept') => `${remote}/${sid}/${role}`

function parseEnvelope(data: unknown): Envelope | null {
  if (typeof data !== 'object' || data === null) return null
  const { sid, c, s, k, p } = data as Partial<Envelope>
  if (typeof sid !== 'number' || !Number.isInteger(sid) || sid < 0 || sid > 0xffffffff || s === undefined) return null
  return { sid, s, ...(c === true ? { c } : {}), ...(typeof k === 'string' ? { k } : {}), ...(typeof p === 'string' ? { p } : {}) }
}
