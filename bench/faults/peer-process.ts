/**
 * Child-process entry: hosts a few explorers so that the parent can crash
 * them for real (SIGKILL): no leave, no goodbye, no SCTP ABORT or DTLS alert,
 * no WebSocket close frame. Their neighbours learn of it only from silence
 * (the ring's RPC timeouts, ICE consent failing), exactly as with a crashed
 * machine or a lost network. Started by spawnPeers() (./crash-peers.ts).
 *
 * Config arrives as JSON in argv[2]: { signalUrl, ids, options }.
 * IPC: parent → { req, op: 'snapshot' }; child → { req, peers: PeerState[] };
 * child → { ready: ids } once every explorer listens, { failed: message } if not.
 */
import { createExplorer, type Explorer, type ExplorerOptions } from '../../src'
import { fromBase64url, identityFromSeed } from '../../src/identity'
import type { WrtcImpl } from '../../src/transport/webrtc'
import { localState } from './ring-state'

// eslint-disable-next-line @typescript-eslint/no-require-imports
const wrtc = require('@roamhq/wrtc') as WrtcImpl

interface Config {
  signalUrl: string
  /** base64url identity seeds, one explorer each. */
  seeds: string[]
  options: Partial<ExplorerOptions>
}

// simple-peer warns for each ICE candidate the native side will not take after a
// peer closed: noise here, where peers come and go by the dozen.
const warn = console.warn.bind(console)
console.warn = (...args: unknown[]) => void (args[0] === 'Ignoring unsupported ICE candidate.' || warn(...args))

const config = JSON.parse(process.argv[2]) as Config
const send = (message: unknown): void => void process.send?.(message)

const explorers: Explorer[] = config.seeds.map((seed) =>
  createExplorer({ ...config.options, signalUrl: config.signalUrl, identity: identityFromSeed(fromBase64url(seed) ?? new Uint8Array()), wrtc }),
)
// Every socket dialled to these peers echoes what it gets (the dial sweeps expect it).
for (const explorer of explorers) {
  explorer.incoming$.subscribe((socket) => socket.data$.subscribe({ next: (data) => socket.send(data), error: () => undefined, complete: () => socket.close() }))
}

process.on('message', (message: { req: number; op: string }) => {
  if (message.op === 'snapshot') send({ req: message.req, peers: explorers.map(localState) })
})

// The parent went away without killing us (it crashed, or jest bailed out): leave quietly.
process.on('disconnect', () => {
  void Promise.all(explorers.map((e) => e.close())).finally(() => process.exit(0))
})

Promise.all(explorers.map((e) => e.listen())).then(
  () => send({ ready: explorers.map((e) => e.id) }),
  (error: unknown) => send({ failed: error instanceof Error ? error.message : String(error) }),
)
