import { Observable, Subscription, type Subscriber } from 'rxjs'
import { isExplorerError } from '../../errors'
import { formatId } from '../../ids'
import type { Channel, SignalPort, Transport } from '../types'
import type { MemoryChannel } from './channel'
import { parseMemorySignal, signalFailed, type MemorySignal } from './signals'

/** The network's side of a handshake: where offers are registered and pairs are made. */
export interface HandshakeRegistry {
  isLive(peerId: number): boolean
  /** Registers an offer from → to (null: whoever answers it); returns its token. */
  openOffer(from: number, to: number | null): number
  /** Makes the channel pair for an offer, returns the accepter's end; throws SIGNAL_FAILED if stale or forged. */
  answerOffer(token: number, from: number, to: number): MemoryChannel
  /** The connector's end, once answered; throws SIGNAL_FAILED if none. */
  claimOffer(token: number, from: number): MemoryChannel
  /** The connector gave up: forget the offer, close its end if the pair exists. */
  abortOffer(token: number): void
}

/** One peer's view of a MemoryNetwork. */
export class MemoryTransport implements Transport {
  /** An offer here is a number in a map: lookups may carry one each. */
  readonly cheapOffers = true

  /** The token decides who the channel reaches (whoever made the offer): it is what a signal's proof binds. */
  bindingOf(signal: unknown): string | null {
    const { mem, token } = (typeof signal === 'object' && signal !== null ? signal : {}) as Partial<MemorySignal>
    return typeof mem === 'string' && typeof token === 'number' ? `${mem}:${token}` : (JSON.stringify(signal) ?? '')
  }

  constructor(
    readonly id: number,
    private readonly registry: HandshakeRegistry,
  ) {}

  connect(remoteId: number | null, port: SignalPort): Observable<Channel> {
    return new Observable<Channel>((subscriber) => {
      if (!this.registry.isLive(this.id)) {
        subscriber.error(signalFailed(`peer ${formatId(this.id)} has crashed`))
        return
      }
      const token = this.registry.openOffer(this.id, remoteId)
      let settled = false
      // Listen before sending: the answer may come back synchronously.
      const listening = handshake(subscriber, port, 'answer', (signal) => {
        if (signal.token !== token) throw signalFailed(`answer for unknown token ${signal.token}`)
        const end = this.registry.claimOffer(token, this.id)
        settled = true
        return end
      })
      if (!subscriber.closed) port.send({ mem: 'offer', token } satisfies MemorySignal)
      return () => {
        listening.unsubscribe()
        if (!settled) this.registry.abortOffer(token)
      }
    })
  }

  accept(remoteId: number, port: SignalPort): Observable<Channel> {
    return new Observable<Channel>((subscriber) => {
      if (!this.registry.isLive(this.id)) {
        subscriber.error(signalFailed(`peer ${formatId(this.id)} has crashed`))
        return
      }
      return handshake(subscriber, port, 'offer', (signal) => {
        const end = this.registry.answerOffer(signal.token, remoteId, this.id)
        port.send({ mem: 'answer', token: signal.token } satisfies MemorySignal)
        return end
      })
    })
  }
}

/**
 * Waits on port.signals$ for the first signal, which must be of kind `expected`;
 * `complete` turns it into the channel to emit. Anything malformed, a port
 * that errors or completes first: SIGNAL_FAILED. Later signals are ignored.
 */
function handshake(
  subscriber: Subscriber<Channel>,
  port: SignalPort,
  expected: MemorySignal['mem'],
  complete: (signal: MemorySignal) => MemoryChannel,
): Subscription {
  const subscription = new Subscription()
  let done = false
  const fail = (error: unknown) => {
    done = true
    subscriber.error(isExplorerError(error) ? error : signalFailed(`memory handshake failed: ${String(error)}`))
  }
  subscription.add(
    port.signals$.subscribe({
      next: (value) => {
        if (done) return
        let end: MemoryChannel
        try {
          end = complete(parseMemorySignal(value, expected))
        } catch (error) {
          fail(error)
          return
        }
        done = true
        subscriber.next(end)
        subscriber.complete()
      },
      error: (error) => !done && fail(error),
      complete: () => !done && fail(signalFailed(`signal port closed before the ${expected}`)),
    }),
  )
  return subscription
}
