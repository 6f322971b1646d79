import { Subject, Subscription, concatMap, map, of, type Observable } from 'rxjs'
import { sameKey } from './channel-keys'
import type { SignalProof, SignalProver } from './signal-proof'

/** Signals of one channel set-up that arrived before the one that proves the remote: held, not handed on. */
const MAX_HELD = 64

export interface SignalGateContext {
  prover: SignalProver
  /**
   * What a signal binds the channel to (a WebRTC offer's or answer's SDP,
   * with the DTLS fingerprint), or null for one that binds nothing (an ICE
   * candidate): Transport.bindingOf.
   */
  bindingOf: (signal: unknown) => string | null
  session: number
  /** The remote's id; null while an open offer waits to learn who answered it. */
  remote: number | null
  /** The remote's first signal answers an open offer of its own (it signed it for anyone). */
  openOffer?: boolean
  /** Only this key may prove the remote's signals (an ICE restart: the key its channel proved), not any whose id matches. */
  key?: Uint8Array
}

export interface SignalGateHandlers {
  /** One of our signals, with its proof when it binds the channel (and the tag it was sent with), in the order they were made. */
  out(signal: unknown, proof: SignalProof | undefined, tag: unknown): void
  /** One of the remote's signals, proven (or after one that was), in the order they came. */
  deliver(signal: unknown): void
  /** A binding signal whose proof does not hold: the set-up must end. */
  fail(reason: string): void
}

/**
 * The proofs of one channel set-up. Our signals that bind the channel get a
 * proof; the remote's are handed on only once one that binds proved the key
 * its id is derived from (the others wait behind it). Order is kept both
 * ways, also while a proof is being made or checked (WebCrypto is
 * asynchronous; the simulator's model is not, and then nothing waits).
 */
export class SignalGate {
  /** The remote's proven key (after its first binding signal checked out). */
  remoteKey: Uint8Array | null = null
  private readonly outgoing = new Subject<{ signal: unknown; tag: unknown }>()
  private readonly incoming = new Subject<{ signal: unknown; proof: unknown }>()
  /** The remote's side: ends at close(). Ours finishes what is queued (an answer made just before the channel opened still leaves). */
  private readonly subscription = new Subscription()
  private held: unknown[] = []
  private failed = false
  private remote: number | null

  constructor(
    private readonly context: SignalGateContext,
    private readonly handlers: SignalGateHandlers,
  ) {
    this.remote = context.remote
    this.outgoing.pipe(concatMap(({ signal, tag }) => this.prove$(signal).pipe(map((proof) => ({ signal, proof, tag }))))).subscribe(({ signal, proof, tag }) => handlers.out(signal, proof, tag))
    this.subscription.add(this.incoming.pipe(concatMap((arrived) => this.check$(arrived.signal, arrived.proof))).subscribe((signal) => this.pass(signal)))
  }

  /** The remote of an open offer, once the lookup that carried it found the owner. */
  bind(remote: number): void {
    this.remote = remote
  }

  /** Our signal; `tag` comes back with it in `out` (what it said when it was made). */
  send(signal: unknown, tag?: unknown): void {
    this.outgoing.next({ signal, tag })
  }

  receive(signal: unknown, proof: unknown): void {
    if (!this.failed) this.incoming.next({ signal, proof })
  }

  /** The set-up is over: nothing more is taken in; signals of ours already made still go out, with their proofs. */
  close(): void {
    this.subscription.unsubscribe()
    this.outgoing.complete()
    this.held = []
  }

  private prove$(signal: unknown): Observable<SignalProof | undefined> {
    const binding = this.context.bindingOf(signal)
    if (binding === null) return of(undefined)
    return this.context.prover.prove$(this.remote, this.context.session, binding)
  }

  /** Emits the signal once it may be handed on (a binding one: once proven), nothing while it must wait or when it fails. */
  private check$(signal: unknown, proof: unknown): Observable<unknown> {
    const binding = this.context.bindingOf(signal)
    if (binding === null) {
      if (this.remoteKey !== null) return of(signal)
      if (this.held.length < MAX_HELD) this.held.push(signal)
      return of()
    }
    const remote = this.remote
    if (remote === null) return this.refuse('a signal for an offer that has no remote yet')
    const open = this.context.openOffer === true && this.remoteKey === null
    return this.context.prover.check$(proof, remote, this.context.session, binding, open).pipe(
      concatMap((key) => {
        if (key === null) return this.refuse('its signal is not proven by the key its id is derived from')
        if (this.context.key !== undefined && !sameKey(key, this.context.key)) return this.refuse('it is not signed by the key the channel proved')
        this.remoteKey ??= key
        // The proven signal first (an answerer's transport wants the offer before any candidate), then what waited for it.
        const ready = [signal, ...this.held]
        this.held = []
        return of(...ready)
      }),
    )
  }

  private refuse(reason: string): Observable<never> {
    if (!this.failed) {
      this.failed = true
      this.handlers.fail(reason)
    }
    return of()
  }

  private pass(signal: unknown): void {
    if (!this.failed) this.handlers.deliver(signal)
  }
}
