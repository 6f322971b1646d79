// The signalling server inside an app of your own, as a Fastify plugin, with
// the live ring dashboard. npm i fastify webrtc-explorer-signal-server
import Fastify from 'fastify'
import { registerDashboard, signalServerPlugin } from 'webrtc-explorer-signal-server'

const app = Fastify()
app.get('/', async () => 'my own app')
// WebSocket at /p2p/ws, /p2p/health, /p2p/metrics, /p2p/ring and the dashboard at /p2p/
await app.register(signalServerPlugin, { prefix: '/p2p', dashboard: registerDashboard })
await app.listen({ port: 0, host: '127.0.0.1' })

const base = `http://127.0.0.1:${app.server.address().port}`
console.log('health:', JSON.stringify(await (await fetch(`${base}/p2p/health`)).json())) // health: {"status":"ok","peers":0}
console.log('dashboard:', (await fetch(`${base}/p2p/`)).headers.get('content-type')) // dashboard: text/html; charset=utf-8
await app.close()
