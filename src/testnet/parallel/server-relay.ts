import { type Observable, ReplaySubject, type SchedulerLike } from 'rxjs'
import { ExplorerError } from '../../errors'
import { withTimeout } from '../../operators'
import type { RingNode } from '../../ring/node'
import type { MemoryNetwork } from '../../transport/memory'
import type { Channel, SignalPort } from '../../transport/types'

/** Hands the server a signal from `from` for `to`, a peer of another partition. */
export type SendSignal = (session: number, from: number, to: number, signal: unknown) => void

/**
 * The signalling server's part in a join (or a successor hint) when the two
 * peers live in different partitions: it relays the memory handshake's
 * signals between them, through the exchange, one link latency each way.
 * The joiner's side opens the session; the host's side starts accepting at
 * the first signal, as a peer does when the server hands it an offer.
 */
export class ServerRelay {
  /** Our joiners' pipes (signals from their host) and our hosts' (signals from the joiner), by session. */
  private readonly toJoiner = new Map<number, ReplaySubject<unknown>>()
  private readonly toHost = new Map<number, ReplaySubject<unknown>>()
  private nextSession = 0

  constructor(
    private readonly partition: number,
    private readonly partitions: number,
    private readonly network: MemoryNetwork,
    private readonly scheduler: SchedulerLike,
    private readonly connectTimeoutMs: number,
    private readonly send: SendSignal,
    /** Our live peers. */
    private readonly nodes: ReadonlyMap<number, RingNode>,
  ) {}

  /** Our `joiner` dials `host` of another partition; emits the joiner's channel, or fails after connectTimeoutMs. */
  dial$(joiner: number, host: number): Observable<Channel> {
    const session = this.nextSession++ * this.partitions + this.partition
    const signals = new ReplaySubject<unknown>()
    this.toJoiner.set(session, signals)
    const port: SignalPort = { signals$: signals, send: (signal) => this.send(session, joiner, host, signal) }
    const channel = new ReplaySubject<Channel>(1)
    this.network
      .transport(joiner)
      .connect(host, port)
      .pipe(withTimeout(this.connectTimeoutMs, this.scheduler, () => new ExplorerError('SIGNAL_FAILED', 'no answer through the server')))
      .subscribe({
        next: (ch) => {
          this.toJoiner.delete(session)
          channel.next(ch)
        },
        error: (error) => {
          this.toJoiner.delete(session)
          channel.error(error)
        },
      })
    return channel
  }

  /** A relayed signal for our peer `to` (a joiner's answer, or a host's first or next signal). */
  deliver(session: number, from: number, to: number, signal: unknown): void {
    const joinerPipe = this.toJoiner.get(session)
    if (joinerPipe !== undefined) return joinerPipe.next(signal)
    let hostPipe = this.toHost.get(session)
    if (hostPipe === undefined) {
      const host = this.nodes.get(to)
      if (host === undefined) return
      const pipe = (hostPipe = new ReplaySubject<unknown>())
      this.toHost.set(session, pipe)
      const port: SignalPort = { signals$: pipe, send: (s) => this.send(session, to, from, s) }
      this.network
        .transport(to)
        .accept(from, port)
        .subscribe({
          next: (ch) => {
            this.toHost.delete(session)
            host.channels.add(ch, from)
          },
          error: () => this.toHost.delete(session),
        })
    }
    hostPipe.next(signal)
  }
}
