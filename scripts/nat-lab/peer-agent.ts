/**
 * Child-process entry run inside a lab host (`ip netns exec`): a WebRTC
 * peer driven over IPC by the lab's driver (./agents.ts).
 *
 * Two levels:
 * - transport: `ice` (fetch the ICE servers the signalling server hands
 *   this peer, through the explorer's own ServerLink), `transport` (make
 *   one with them), `connect` (one channel to another agent; signals
 *   relayed by the driver), `path` (its candidate pair), `drop-channels`;
 * - explorer: `listen` (createExplorer + listen), `dial` (dial, echo,
 *   and how the pair is linked), `state` (its ring pointers).
 * Requests: { req, op, ... } → { req, ok } or { req, error }. Signals:
 * { signal: { to | from, sid, c?, data } } both ways.
 */
import { ReplaySubject, asyncScheduler, firstValueFrom, timeout } from 'rxjs'
import { createExplorer, type Explorer, type ExplorerOptions } from '../../src'
import { Diagnostics } from '../../src/diagnostics'
import { explorerInternals } from '../../src/explorer/internals'
import { ServerLink } from '../../src/explorer/server-link'
import { resolveWebSocket } from '../../src/explorer/websocket'
import { fromBase64url, identityFromSeed, newIdentity } from '../../src/identity'
import { parseId } from '../../src/ids'
import type { Channel, SignalPort } from '../../src/transport/types'
import { WebRtcChannel, createWebRtcTransport, type WebRtcTransport, type WrtcImpl } from '../../src/transport/webrtc'
import type { SelectedPath } from '../../src/transport/webrtc/selected-path'
import { localState } from '../../bench/faults/ring-state'

// eslint-disable-next-line @typescript-eslint/no-require-imports
const wrtc = require('@roamhq/wrtc') as WrtcImpl
const warn = console.warn.bind(console)
console.warn = (...args: unknown[]) => void (args[0] === 'Ignoring unsupported ICE candidate.' || warn(...args))

export interface RelayedSignal {
  to?: number
  from?: number
  sid: number
  /** From the connecting side. */
  c?: true
  data: unknown
}

export interface PairResult {
  ms: number
  path: SelectedPath | null
}

export interface DialResult {
  ms: number
  /** The direct channel between the two, if any (else the socket went through the ring). */
  path: SelectedPath | null
}

type Request = { req: number; op: string } & Record<string, unknown>

const reply = (message: unknown): void => void process.send?.(message)
let transport: WebRtcTransport | null = null
let iceServers: RTCIceServer[] = []
const channels = new Map<number, Channel>()
const sessions = new Map<string, ReplaySubject<unknown>>()
let nextSid = 0
let explorer: Explorer | null = null

const pathOf = (channel: Channel | undefined): Promise<SelectedPath | null> =>
  channel instanceof WebRtcChannel ? channel.selectedPath() : Promise.resolve(null)

/** The port of one handshake, its inbox kept by remote, sid and our side (c: we connect, a: we accept); `first` is replayed to it. */
function port(remote: number, sid: number, side: 'c' | 'a', first?: unknown): SignalPort {
  const inbox = new ReplaySubject<unknown>()
  sessions.set(`${remote}/${sid}/${side}`, inbox)
  if (first !== undefined) inbox.next(first)
  return { signals$: inbox, send: (data) => reply({ signal: { to: remote, sid, ...(side === 'c' ? { c: true } : {}), data } satisfies RelayedSignal }) }
}

function onSignal({ from, sid, c, data }: RelayedSignal): void {
  const remote = from!
  const known = sessions.get(`${remote}/${sid}/${c ? 'a' : 'c'}`)
  if (known) return known.next(data)
  if (!c || transport === null) return
  transport.accept(remote, port(remote, sid, 'a', data)).subscribe({ next: (channel) => channels.set(remote, channel), error: () => undefined })
}

async function handle(request: Request): Promise<unknown> {
  switch (request.op) {
    case 'ice': {
      const link = new ServerLink(
        { url: [String(request.signalUrl)], WebSocket: resolveWebSocket(undefined), identity: newIdentity(), serverTimeoutMs: 10_000, reconnectMinMs: 1000, reconnectMaxMs: 1000 },
        asyncScheduler, Math.random, new Diagnostics(() => Date.now()),
      )
      await firstValueFrom(link.register$())
      iceServers = link.iceServers
      await firstValueFrom(link.close$(), { defaultValue: undefined })
      return iceServers
    }
    case 'transport':
      transport = createWebRtcTransport({ wrtc, iceServers, connectTimeoutMs: Number(request.connectTimeoutMs) })
      return null
    case 'connect': {
      const to = Number(request.to)
      const started = performance.now()
      const channel = await firstValueFrom(transport!.connect(to, port(to, nextSid++, 'c')))
      channels.set(to, channel)
      return { ms: Math.round(performance.now() - started), path: await pathOf(channel) } satisfies PairResult
    }
    case 'path':
      return pathOf(channels.get(Number(request.to)))
    case 'drop-channels':
      for (const channel of channels.values()) channel.close()
      channels.clear()
      return null
    case 'listen': {
      explorer = createExplorer({ ...(request.options as Partial<ExplorerOptions>), identity: identityFromSeed(fromBase64url(String(request.seed)) ?? new Uint8Array()), signalUrl: String(request.signalUrl), wrtc })
      explorer.incoming$.subscribe((socket) => socket.data$.subscribe({ next: (d) => socket.send(d), error: () => undefined }))
      const started = performance.now()
      await explorer.listen()
      return { ms: Math.round(performance.now() - started), id: explorer.id }
    }
    case 'dial': {
      const id = String(request.id)
      const started = performance.now()
      const socket = await firstValueFrom(explorer!.dial$(id))
      const echoed = firstValueFrom(socket.data$.pipe(timeout(Number(request.echoTimeoutMs ?? 10_000))))
      socket.send('ping')
      await echoed
      const ms = Math.round(performance.now() - started)
      socket.close()
      return { ms, path: await pathOf(explorerInternals(explorer!).ring.channels.channel(parseId(id))) } satisfies DialResult
    }
    case 'state':
      return localState(explorer!)
    default:
      throw new Error(`unknown op ${request.op}`)
  }
}

process.on('message', (message: Request | { signal: RelayedSignal }) => {
  if ('signal' in message) return onSignal(message.signal as RelayedSignal)
  handle(message).then(
    (ok) => reply({ req: message.req, ok }),
    (error: unknown) => reply({ req: message.req, error: error instanceof Error ? `${(error as { code?: string }).code ?? error.name}: ${error.message}` : String(error) }),
  )
})
process.on('disconnect', () => process.exit(0))
reply({ ready: true })
