export { createWebRtcTransport, type WebRtcTransport } from './transport'
export type { WebRtcTransportOptions, WrtcImpl } from './options'
export { WebRtcChannel } from './channel'
