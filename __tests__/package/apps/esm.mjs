// Node ES module app: the installed tarballs only (webrtc-explorer, webrtc-explorer-signal-server).
import wrtc from '@roamhq/wrtc'
import { Observable, firstValueFrom } from 'rxjs'
import { createExplorer } from 'webrtc-explorer'
import { createSignalServer } from 'webrtc-explorer/signal-server'

const server = createSignalServer()
await server.listen({ port: 0, host: '127.0.0.1' })
const signalUrl = `ws://127.0.0.1:${server.server.address().port}/ws`
const a = createExplorer({ signalUrl, wrtc })
const b = createExplorer({ signalUrl, wrtc })
a.incoming$.subscribe((socket) => socket.data$.subscribe((data) => socket.send(data)))
await a.listen()
await b.listen()
const socket = await firstValueFrom(b.dial$(a.id))
const echoed = firstValueFrom(socket.data$)
socket.send('hello from esm')
const reply = new TextDecoder().decode(await echoed)

// Port 1 on loopback: nothing listens, the connection is refused.
const lonely = createExplorer({ signalUrl: 'ws://127.0.0.1:1/ws', wrtc })
const started = performance.now()
const error = await lonely.listen().catch((e) => e)
const deadServerMs = Math.round(performance.now() - started)

await Promise.all([a.close(), b.close(), lonely.close()])
await server.close()
console.log(JSON.stringify({ reply, peersIsObservable: a.peers$ instanceof Observable, deadServerCode: error.code, deadServerMs }))
process.exit(0)
