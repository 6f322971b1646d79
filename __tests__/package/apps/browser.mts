// The browser app: bundled by esbuild from the installed tarball, run in Chromium.
import { Observable, firstValueFrom } from 'rxjs'
import { createExplorer } from 'webrtc-explorer'

declare global {
  interface Window {
    result: Promise<{ reply: string; peersIsObservable: boolean }>
  }
}

const params = new URLSearchParams(location.search)
const explorer = createExplorer({ signalUrl: params.get('signal') ?? '' })

window.result = (async () => {
  await explorer.listen()
  const socket = await firstValueFrom(explorer.dial$(params.get('peer') ?? ''))
  const echoed = firstValueFrom(socket.data$)
  socket.send('hello from the browser')
  const reply = new TextDecoder().decode(await echoed)
  const peersIsObservable = explorer.peers$ instanceof Observable
  await explorer.close()
  return { reply, peersIsObservable }
})()
