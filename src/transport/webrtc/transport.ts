import type { Observable } from 'rxjs'
import { LivenessWatch } from '../liveness'
import type { Channel, SignalPort, Transport } from '../types'
import { handshake$ } from './handshake'
import { LivePeers } from './live-peers'
import { PeerBudget } from './peer-budget'
import { sdpBinding } from './signal-shape'
import { resolveOptions, type WebRtcTransportOptions } from './options'

export interface WebRtcTransport extends Transport {
  /** RTCPeerConnections created and not yet destroyed (handshakes and open channels). */
  readonly livePeers: number
}

/**
 * Channels over WebRTC data channels (simple-peer, trickle ICE). Signals are
 * plain JSON values on the SignalPort. Throws BAD_OPTIONS at once on misuse,
 * e.g. no WebRTC implementation outside browsers.
 */
export function createWebRtcTransport(options: WebRtcTransportOptions = {}): WebRtcTransport {
  const resolved = resolveOptions(options)
  const live = new LivePeers()
  const budget = new PeerBudget(resolved.maxPeersPerMinute, () => resolved.scheduler.now())
  // One keepalive sweep for all of this transport's channels.
  const liveness = resolved.liveness === null ? null : new LivenessWatch(resolved.liveness, resolved.scheduler)
  return {
    connect: (remoteId: number | null, port: SignalPort): Observable<Channel> =>
      handshake$('connector', remoteId, port, resolved, live, liveness, budget),
    accept: (remoteId: number, port: SignalPort): Observable<Channel> =>
      handshake$('accepter', remoteId, port, resolved, live, liveness, budget),
    bindingOf: sdpBinding,
    get livePeers() {
      return live.size
    },
  }
}
