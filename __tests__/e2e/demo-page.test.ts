/** The demo page's pure parts (they also run in the page) and its registration: paths, the signalling URL, misuse. */
import type { AddressInfo } from 'node:net'
import Fastify from 'fastify'
import { describeError, fingerStartOf, registerDemo, signalUrlOf } from '../../signal-server/demo'
import { ExplorerError } from '../../src'

describe('demo page parts', () => {
  it('finds the signalling WebSocket relative to the page: http → ws, https → wss', () => {
    expect(signalUrlOf('./ws', 'http://localhost:9000/demo')).toBe('ws://localhost:9000/ws')
    expect(signalUrlOf('../ws', 'https://example.org/explorer/demo?x=1#y')).toBe('wss://example.org/ws')
    expect(signalUrlOf('./ws', 'https://example.org/explorer/demo')).toBe('wss://example.org/explorer/ws')
  })

  it('computes finger starts as (id + 2^row) mod 2^48', () => {
    expect(fingerStartOf('000000000000', 0)).toBe('000000000001')
    expect(fingerStartOf('132d516b9ec9', 47)).toBe('932d516b9ec9')
    expect(fingerStartOf('ffffffffffff', 0)).toBe('000000000000')
    expect(fingerStartOf('c00000000000', 47)).toBe('400000000000')
  })

  it('describes an ExplorerError by its code, with a hint, then its message', () => {
    const text = describeError(new ExplorerError('PEER_NOT_FOUND', 'no peer 000000000001'), 'dial 000000000001')
    expect(text).toBe('dial 000000000001: PEER_NOT_FOUND (no peer in the ring has this id) — no peer 000000000001')
    expect(describeError(new Error('boom'), 'join')).toBe('join: boom')
  })

  it('serves the page and its scripts under its path, with relative URLs', async () => {
    const app = Fastify()
    registerDemo(app, { bundle: 'var WebRTCExplorer = {};\n//# sourceMappingURL=webrtc-explorer.min.js.map\n', path: '/tools/chat' })
    await app.listen({ port: 0, host: '127.0.0.1' })
    const base = `http://127.0.0.1:${(app.server.address() as AddressInfo).port}`
    const get = (path: string) => fetch(base + path)
    try {
      const page = await get('/tools/chat')
      expect(page.status).toBe(200)
      const html = await page.text()
      expect(html).toContain('<script src="chat/webrtc-explorer.min.js"></script>')
      expect(html).toContain('<script src="chat/app.js"></script>')
      expect(await (await get('/tools/chat/webrtc-explorer.min.js')).text()).toBe('var WebRTCExplorer = {};\n') // the unserved source map's comment is dropped
      expect(await (await get('/tools/chat/app.js')).text()).toContain('startDemo({"signalPath":"../ws"});')
      expect((await get('/demo')).status).toBe(404)
    } finally {
      await app.close()
    }
  })

  it('rejects misuse at once', () => {
    const app = Fastify()
    expect(() => registerDemo(app, { bundle: '' })).toThrow(TypeError)
    expect(() => registerDemo(app, { bundle: 'x', path: 'demo' })).toThrow(/path/)
    expect(() => registerDemo(app, { bundle: 'x', path: '/demo/' })).toThrow(/path/)
    void app.close()
  })
})
