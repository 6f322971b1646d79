export { createWebRtcTransport, type WebRtcTransport } from './transport'
export type { WebRtcTransportOptions, WrtcImpl } from './options'
export { WebRtcChannel, type CloseReason } from './channel'
export type { SelectedPath, PathEnd } from './selected-path'
