import { Observable, Subscription, filter, take, timer, type SchedulerLike } from 'rxjs'
import type { Instance as Peer } from 'simple-peer'
import { ExplorerError } from '../../errors'
import type { SignalPort } from '../types'
import type { CandidateFilter } from './candidate-filter'
import { peerConnectionOf } from './peer-internals'
import { rejectSignal } from './signal-shape'

export interface RestartContext {
  peer: Peer
  /** The channel's candidate filter (it knows whether loopback candidates are this peer's only ones). */
  candidates: CandidateFilter
  iceServers: () => RTCIceServer[]
  /** The connection's ICE up-state: current value first, then every change. */
  up$: Observable<boolean>
  timeoutMs: number
  scheduler: SchedulerLike
  /** The remote, 12 hex, for messages. */
  remote: string
}

/**
 * An ICE restart of an open channel (RFC 8445 §9: fresh ICE credentials,
 * candidates gathered again with the current ICE servers, so renewed TURN
 * credentials count), over a port like a handshake's. The offerer sends an
 * offer, the answerer (whose port replays that offer) an answer; candidates
 * go both ways, filtered as at set-up. Done once the answer is applied and
 * ICE is connected; errors SIGNAL_FAILED on a malformed or refused
 * description, a port failure or the timeout. DTLS, SCTP and the data
 * channel live on: frames flow again on the new path. Only one end may
 * restart at a time (both offering at once is glare): the overlay must pick
 * one, e.g. the end that opened the channel. A failed or abandoned offer is
 * rolled back, so a later restart can begin.
 */
export function iceRestart$(role: 'offerer' | 'answerer', ctx: RestartContext, port: SignalPort): Observable<void> {
  return new Observable<void>((subscriber) => {
    const pc = peerConnectionOf(ctx.peer)
    if (pc === null || ctx.peer.destroyed) {
      subscriber.error(failure(ctx, 'the channel is closed'))
      return
    }
    const subscriptions = new Subscription()
    let applied = false
    const pending: RTCIceCandidateInit[] = []
    const fail = (why: string, cause?: unknown): void => subscriber.error(failure(ctx, why, cause))
    const send = (signal: unknown): void => {
      try {
        port.send(signal)
      } catch (e) {
        fail(`sending a signal threw: ${messageOf(e)}`, e)
      }
    }
    const onSignal = (signal: unknown): void => ctx.candidates.pass(signal).forEach(send)
    ctx.peer.on('signal', onSignal)
    try {
      pc.setConfiguration({ ...pc.getConfiguration(), iceServers: ctx.iceServers() })
    } catch {
      // An implementation that refuses a new configuration restarts with the servers it has.
    }

    const describe = async (description: RTCSessionDescriptionInit): Promise<void> => {
      await pc.setRemoteDescription(description)
      if (description.type === 'offer') {
        const answer = await pc.createAnswer()
        await pc.setLocalDescription(answer)
        send({ type: 'answer', sdp: answer.sdp })
      }
      applied = true
      for (const candidate of pending.splice(0)) void pc.addIceCandidate(candidate).catch(() => undefined)
      subscriptions.add(ctx.up$.pipe(filter(Boolean), take(1)).subscribe(() => subscriber.complete()))
    }
    subscriptions.add(port.signals$.subscribe({
      next: (signal) => {
        const why = rejectSignal(signal, role === 'offerer' ? 'connector' : 'accepter')
        if (why !== null) return fail(`malformed signal: ${why}`)
        const s = signal as { type: string; sdp?: string; candidate?: RTCIceCandidateInit }
        if (s.type === 'candidate') {
          if (applied) void pc.addIceCandidate(s.candidate!).catch(() => undefined)
          else pending.push(s.candidate!)
          return
        }
        describe({ type: s.type as RTCSdpType, sdp: s.sdp }).catch((e: unknown) => fail(`${s.type} refused: ${messageOf(e)}`, e))
      },
      error: (e) => fail(`signal port failed: ${messageOf(e)}`, e),
    }))
    subscriptions.add(timer(ctx.timeoutMs, ctx.scheduler).subscribe(() => fail(`not connected again after ${ctx.timeoutMs} ms`)))
    if (role === 'offerer') {
      pc.createOffer({ iceRestart: true })
        .then(async (offer) => {
          await pc.setLocalDescription(offer)
          send({ type: 'offer', sdp: offer.sdp })
        })
        .catch((e: unknown) => fail(`cannot make an offer: ${messageOf(e)}`, e))
    }

    return () => {
      subscriptions.unsubscribe()
      ctx.peer.off('signal', onSignal)
      // An offer never answered would block the next restart (have-local-offer): take it back.
      if (!ctx.peer.destroyed && pc.signalingState === 'have-local-offer') {
        void pc.setLocalDescription({ type: 'rollback' }).catch(() => undefined)
      }
    }
  })
}

function failure(ctx: RestartContext, why: string, cause?: unknown): ExplorerError {
  const error = new ExplorerError('SIGNAL_FAILED', `ICE restart with ${ctx.remote} failed: ${why}`)
  if (cause !== undefined) (error as { cause?: unknown }).cause = cause
  return error
}

const messageOf = (e: unknown): string => (e instanceof Error ? e.message : String(e))
