// Node CommonJS app: require() of the installed tarballs.
const wrtc = require('@roamhq/wrtc')
const { Observable, firstValueFrom } = require('rxjs')
const { createExplorer, isExplorerError } = require('webrtc-explorer')
const { createSignalServer } = require('webrtc-explorer/signal-server')

async function main() {
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
  socket.send('hello from cjs')
  const reply = new TextDecoder().decode(await echoed)
  let misuse = null
  try {
    createExplorer({ signalUrl: '', wrtc })
  } catch (error) {
    misuse = isExplorerError(error) ? error.code : String(error)
  }
  await Promise.all([a.close(), b.close()])
  await server.close()
  console.log(JSON.stringify({ reply, peersIsObservable: a.peers$ instanceof Observable, misuse }))
  process.exit(0)
}

main().catch((error) => {
  console.error(error)
  process.exit(1)
})
