import type { WrtcImpl } from './options'

type Description = RTCSessionDescriptionInit | null

/**
 * @roamhq/wrtc can crash the process (SIGSEGV in webrtc::SdpSerialize) when
 * JS reads `localDescription` or `remoteDescription` while libwebrtc's own
 * thread rewrites that description, e.g. to add an ICE candidate it gathered
 * (node-webrtc#696, simple-peer#812). simple-peer reads both in every
 * handshake. The wrapped constructor answers those two reads with the
 * description last applied from JS instead of serializing the native one:
 * with trickle ICE that is the same SDP (candidates travel on their own).
 */
export function withSafeDescriptions(wrtc: WrtcImpl): WrtcImpl {
  const Native = wrtc.RTCPeerConnection
  function SafeRTCPeerConnection(config?: RTCConfiguration): RTCPeerConnection {
    const pc = new Native(config)
    let local: Description = null
    let remote: Description = null
    const applied = (d: RTCSessionDescriptionInit | undefined): Description => (d === undefined ? null : { type: d.type, sdp: d.sdp })
    const overrides: Record<string | symbol, unknown> = {
      setLocalDescription: (d?: RTCSessionDescriptionInit) => pc.setLocalDescription(d).then(() => void (local = applied(d))),
      setRemoteDescription: (d: RTCSessionDescriptionInit) => pc.setRemoteDescription(d).then(() => void (remote = applied(d))),
    }
    return new Proxy(pc, {
      get(target, prop) {
        if (prop === 'localDescription') return local
        if (prop === 'remoteDescription') return remote
        if (prop in overrides) return overrides[prop]
        const value: unknown = Reflect.get(target, prop)
        return typeof value === 'function' ? value.bind(target) : value
      },
      set: (target, prop, value) => Reflect.set(target, prop, value),
    })
  }
  return { ...wrtc, RTCPeerConnection: SafeRTCPeerConnection as unknown as typeof RTCPeerConnection }
}
