/**
 * Child-process entry: one WebRTC transport that accepts a channel signalled
 * over IPC and echoes every frame, so the parent can kill it for real
 * (SIGKILL: no SCTP ABORT, no DTLS alert, nothing). Started by
 * spawnFarEnd() (./far-peer.ts).
 *
 * argv[2]: JSON WebRtcTransportOptions (numbers only). IPC: parent →
 * { signal }, child → { signal } and { open: true } once the channel is up.
 */
import { Subject } from 'rxjs'
import { createWebRtcTransport, type WebRtcTransportOptions, type WrtcImpl } from '../../src/transport/webrtc'

// eslint-disable-next-line @typescript-eslint/no-require-imports
const wrtc = require('@roamhq/wrtc') as WrtcImpl
const options = JSON.parse(process.argv[2] ?? '{}') as WebRtcTransportOptions
const send = (message: unknown): void => void process.send?.(message)

const inbound = new Subject<unknown>()
process.on('message', (message: { signal?: unknown }) => {
  if (message.signal !== undefined) inbound.next(message.signal)
})
process.on('disconnect', () => process.exit(0))

createWebRtcTransport({ ...options, wrtc })
  .accept(1, { signals$: inbound, send: (signal) => send({ signal }) })
  .subscribe({
    next: (channel) => {
      channel.frames$.subscribe((frame) => channel.send(frame))
      send({ open: true })
    },
    error: (error: Error) => {
      process.stderr.write(`far end: ${error.message}\n`)
      process.exit(1)
    },
  })
