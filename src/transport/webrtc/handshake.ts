import { Observable, timer } from 'rxjs'
import SimplePeer, { type Instance as Peer } from 'simple-peer'
import { ExplorerError } from '../../errors'
import { formatId } from '../../ids'
import type { LivenessWatch } from '../liveness'
import type { Channel, SignalPort } from '../types'
import { CandidateFilter } from './candidate-filter'
import { WebRtcChannel } from './channel'
import { FrameOutlet } from '../frame-outlet'
import type { LivePeers } from './live-peers'
import type { PeerBudget } from './peer-budget'
import type { ResolvedOptions } from './options'
import { dataChannelOf, messageBytes } from './peer-internals'
import { rejectSignal, type Role } from './signal-shape'

/**
 * One handshake, cold: subscribing creates the peer (initiator for the
 * connector), relays its offer/answer/candidates over the port and feeds the
 * port's signals to it. Emits the Channel on 'connect' and completes; errors
 * with SIGNAL_FAILED on a peer error, a close, a malformed signal, a port
 * failure or the timeout; unsubscribing before 'connect' destroys the peer.
 */
export function handshake$(
  role: Role,
  /** Null for an open offer: the port names the remote (see Transport.connect). */
  remoteId: number | null,
  port: SignalPort,
  options: ResolvedOptions,
  live: LivePeers,
  liveness: LivenessWatch | null,
  budget: PeerBudget,
): Observable<Channel> {
  return new Observable<Channel>((subscriber) => {
    if (!budget.take()) {
      subscriber.error(new ExplorerError('SIGNAL_FAILED', `busy: this peer made its ${options.maxPeersPerMinute} RTCPeerConnections of the last minute`))
      return
    }
    let peer: Peer
    try {
      peer = new SimplePeer({
        initiator: role === 'connector',
        wrtc: options.wrtc,
        config: { iceServers: options.iceServers() },
        // Both ends create the channel up front, so no 'datachannel' event:
        // @roamhq/wrtc delivers the messages that arrive before that event
        // out of order (the last one first); a negotiated channel avoids it,
        // and it saves the in-band DCEP open/ack.
        channelConfig: { negotiated: true, id: 0 },
        trickle: true,
      })
    } catch (e) {
      subscriber.error(failure(`cannot create a peer: ${messageOf(e)}`, e))
      return
    }
    live.add(peer)
    let handedOver = false
    const fail = (why: string, cause?: unknown): void => {
      if (!handedOver) subscriber.error(failure(`handshake with ${remoteId === null ? 'an open offer' : formatId(remoteId)} failed: ${why}`, cause))
    }

    // Frames can arrive between the data channel's 'open' and simple-peer's
    // 'connect' (which waits for getStats): catch them from the start.
    // (Null only if the RTCPeerConnection could not be made; 'error' follows.)
    // Empty messages are keepalives (see WebRtcChannel): heard, never frames.
    const outlet = new FrameOutlet()
    let channel: WebRtcChannel | null = null
    const dataChannel = dataChannelOf(peer)
    if (dataChannel !== null) {
      dataChannel.onmessage = (event: MessageEvent) => {
        const bytes = messageBytes(event.data)
        channel?.heard()
        if (bytes.byteLength > 0) outlet.push(bytes)
      }
    }

    const candidates = new CandidateFilter()
    const send = (signal: unknown): void => {
      try {
        port.send(signal)
      } catch (e) {
        fail(`sending a signal threw: ${messageOf(e)}`, e)
      }
    }
    const onSignal = (signal: unknown): void => candidates.pass(signal).forEach(send)
    const onGathered = (): void => candidates.complete().forEach(send)
    // The channel installs its own listeners at hand-over; an 'error' without
    // any listener would be thrown by the EventEmitter, so one stays for life.
    const onError = (e: unknown): void => fail(messageOf(e), e)
    const onClose = (): void => fail('peer closed before the channel opened')
    peer.on('error', () => undefined)
    peer.on('signal', onSignal)
    peer.once('_iceComplete', onGathered)
    peer.on('error', onError)
    peer.on('close', onClose)
    peer.once('connect', () => {
      if (subscriber.closed || dataChannel === null) return
      const remote = remoteId ?? port.remote?.() ?? null
      if (remote === null) return fail('opened, but nobody named the peer that answered the open offer')
      handedOver = true
      // The port only serves the handshake; late candidates are not needed.
      peer.off('signal', onSignal)
      peer.off('_iceComplete', onGathered)
      peer.off('error', onError)
      peer.off('close', onClose)
      const { highWaterMark, lowWaterMark, drainPollMs, iceServers, connectTimeoutMs, scheduler } = options
      channel = new WebRtcChannel(dataChannel, remote, role, peer, {
        outlet, highWaterMark, lowWaterMark, drainPollMs, live, liveness,
        restart: { candidates, iceServers, timeoutMs: connectTimeoutMs, scheduler, remote: formatId(remote) },
      })
      subscriber.next(channel)
      subscriber.complete()
    })

    const signals = port.signals$.subscribe({
      next: (signal) => {
        if (handedOver || peer.destroyed) return
        const why = rejectSignal(signal, role)
        if (why !== null) return fail(`malformed signal: ${why}`)
        try {
          peer.signal(signal as SimplePeer.SignalData)
        } catch (e) {
          fail(`signal rejected: ${messageOf(e)}`, e)
        }
      },
      error: (e) => fail(`signal port failed: ${messageOf(e)}`, e),
    })
    const timeout = timer(options.connectTimeoutMs, options.scheduler).subscribe(() =>
      fail(`not open after ${options.connectTimeoutMs} ms`),
    )

    return () => {
      signals.unsubscribe()
      timeout.unsubscribe()
      if (!handedOver) {
        peer.off('signal', onSignal)
        peer.off('_iceComplete', onGathered)
        live.destroy(peer)
      }
    }
  })
}

function failure(message: string, cause?: unknown): ExplorerError {
  const error = new ExplorerError('SIGNAL_FAILED', message)
  if (cause !== undefined) (error as { cause?: unknown }).cause = cause
  return error
}

const messageOf = (e: unknown): string => (e instanceof Error ? e.message : String(e))
