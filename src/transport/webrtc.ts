/** WebRTC transport over simple-peer; see webrtc/channel.ts for the channel contract. */
export * from './webrtc/index'
