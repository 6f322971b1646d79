// Serves the bundled browser app beside the signalling server, with one Node peer that echoes.
import wrtc from '@roamhq/wrtc'
import { readFileSync } from 'node:fs'
import { createExplorer } from 'webrtc-explorer'
import { createSignalServer } from 'webrtc-explorer/signal-server'

const server = createSignalServer()
server.get('/app/', async (_request, reply) => reply.type('text/html').send('<!doctype html><meta charset="utf-8"><title>app</title><script type="module" src="app.js"></script>'))
server.get('/app/app.js', async (_request, reply) => reply.type('text/javascript').send(readFileSync('out/app.js', 'utf8')))
await server.listen({ port: 0, host: '127.0.0.1' })
const base = `127.0.0.1:${server.server.address().port}`
const peer = createExplorer({ signalUrl: `ws://${base}/ws`, wrtc })
peer.incoming$.subscribe((socket) => socket.data$.subscribe((data) => socket.send(data)))
await peer.listen()
console.log(JSON.stringify({ page: `http://${base}/app/`, signal: `ws://${base}/ws`, peer: peer.id }))
process.on('SIGTERM', () => {
  Promise.all([peer.close(), server.close()]).finally(() => process.exit(0))
})
