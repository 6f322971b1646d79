// A signalling server on a free port, two peers, an echo, a lookup, and
// everything closed again. Node: npm i webrtc-explorer webrtc-explorer-signal-server rxjs ws @roamhq/wrtc
import wrtc from '@roamhq/wrtc' // browsers have WebRTC built in: leave wrtc out there
import { firstValueFrom } from 'rxjs'
import { createExplorer } from 'webrtc-explorer'
import { createSignalServer } from 'webrtc-explorer/signal-server'

const server = createSignalServer()
await server.listen({ port: 0, host: '127.0.0.1' })
const signalUrl = `ws://127.0.0.1:${server.server.address().port}/ws`

const alice = createExplorer({ signalUrl, wrtc })
const bob = createExplorer({ signalUrl, wrtc })
await alice.listen()
await bob.listen()

// Bob echoes every message of every socket dialled to him.
bob.incoming$.subscribe((socket) => socket.data$.subscribe((data) => socket.send(data)))

const socket = await firstValueFrom(alice.dial$(bob.id))
const reply = firstValueFrom(socket.data$)
socket.send('hello')
console.log('echo:', new TextDecoder().decode(await reply)) // echo: hello
socket.close()

console.log('owner of key 000000000000:', await firstValueFrom(alice.lookup$('000000000000')))

await Promise.all([alice.close(), bob.close()])
await server.close()
