// The signalling server with the ring dashboard at / and the demo chat page
// at /demo, which loads the library's script-tag build from the package.
// npm i webrtc-explorer webrtc-explorer-signal-server
import { readFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import { createSignalServer, registerDashboard, registerDemo } from 'webrtc-explorer-signal-server'

const bundle = readFileSync(createRequire(import.meta.url).resolve('webrtc-explorer/webrtc-explorer.min.js'), 'utf8')
const app = createSignalServer({ dashboard: registerDashboard })
registerDemo(app, { bundle }) // path: '/demo' by default
await app.listen({ port: Number(process.env.PORT ?? 0), host: '127.0.0.1' })

const base = `http://127.0.0.1:${app.server.address().port}`
console.log('demo page:', (await fetch(`${base}/demo`)).status) // demo page: 200
console.log('library bundle:', (await (await fetch(`${base}/demo/webrtc-explorer.min.js`)).text()).includes('createExplorer')) // library bundle: true
if (!process.env.PORT) await app.close() // with PORT set, it keeps serving: open /demo in two tabs
