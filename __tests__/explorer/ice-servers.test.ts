import * as wrtc from '@roamhq/wrtc'
import { createExplorer, type Explorer } from '../../src'
import { parseIceServers } from '../../src/protocol/ice-servers'
import type { WrtcImpl } from '../../src/transport/webrtc'
import { FAST, startServer, waitFor, type Server } from './helpers'

/** A wrtc recording the configuration of every RTCPeerConnection made. */
function recordingWrtc(): { impl: WrtcImpl; configs: RTCConfiguration[] } {
  const configs: RTCConfiguration[] = []
  const Base = wrtc.RTCPeerConnection
  const Recording = function (config?: RTCConfiguration) {
    configs.push(config ?? {})
    return new Base(config)
  } as unknown as typeof RTCPeerConnection
  return { impl: { ...wrtc, RTCPeerConnection: Recording }, configs }
}

describe('the explorer uses the ICE servers the signalling server hands out', () => {
  let server: Server
  const explorers: Explorer[] = []
  afterEach(async () => {
    await Promise.all(explorers.splice(0).map((e) => e.close()))
    await server.app.close()
  })

  async function pair(extra: { iceServers?: RTCIceServer[] } = {}) {
    const recorded = recordingWrtc()
    const a = createExplorer({ signalUrl: server.url, wrtc: recorded.impl, ...FAST, ...extra })
    const b = createExplorer({ signalUrl: server.url, wrtc: recorded.impl, ...FAST, ...extra })
    explorers.push(a, b)
    await a.listen()
    const listened = Date.now()
    return { a, b, recorded, listened }
  }

  it('STUN (the server\'s own) and TURN with credentials of its own, renewed before they expire', async () => {
    server = await startServer({ turn: { urls: ['turn:127.0.0.1:9?transport=udp'], secret: 'lab-secret', ttlSeconds: 2 } })
    const { a, b, recorded, listened } = await pair()
    // a holds credentials issued at listen(); let two renewals (at half-life) pass, then b joins through a.
    await new Promise((resolve) => setTimeout(resolve, 2500))
    await b.listen()
    const ofA = recorded.configs.filter((c) => c.iceServers?.some((s) => s.username?.endsWith(`:${a.id}`)))
    expect(ofA.length).toBeGreaterThan(0)
    for (const config of ofA) {
      const [stun, turn] = config.iceServers!
      expect(stun).toEqual({ urls: `stun:127.0.0.1:${server.port}` })
      expect(turn.urls).toEqual(['turn:127.0.0.1:9?transport=udp'])
      // Issued at listen() the expiry would be at most this; renewals moved it on.
      expect(Number(turn.username!.split(':')[0])).toBeGreaterThan(Math.floor(listened / 1000) + 2)
    }
    expect(recorded.configs.some((c) => c.iceServers?.some((s) => s.username?.endsWith(`:${b.id}`)))).toBe(true)
  })

  it('an app\'s own iceServers win, even an empty list', async () => {
    server = await startServer({ turn: { urls: ['turn:127.0.0.1:9'], secret: 'x' } })
    const { b, recorded } = await pair({ iceServers: [] })
    await b.listen()
    await waitFor(() => recorded.configs.length >= 2)
    expect(recorded.configs.map((c) => c.iceServers)).toEqual(recorded.configs.map(() => []))
  })
})

describe('parseIceServers (what a server hands us is checked before RTCPeerConnection sees it)', () => {
  it('keeps well-formed STUN/TURN entries as they are', () => {
    const good = [{ urls: 'stun:a.example:3478' }, { urls: ['turn:b.example:3478?transport=udp', 'turns:b.example:5349'], username: '1:abc', credential: 'c' }]
    expect(parseIceServers(good)).toEqual(good)
  })

  it.each([
    ['not an array', { urls: 'stun:x' }],
    ['an entry that is not an object', ['stun:x']],
    ['a URL of another scheme', [{ urls: 'http://x' }]],
    ['a URL with spaces', [{ urls: 'stun:x y' }]],
    ['urls missing', [{ username: 'u' }]],
    ['a username that is not a string', [{ urls: 'turn:x', username: 5 }]],
    ['a credential over 1 KiB', [{ urls: 'turn:x', username: 'u', credential: 'c'.repeat(2000) }]],
  ])('drops %s', (_label, value) => {
    expect(parseIceServers(value)).toEqual([])
  })

  it('keeps at most 16 entries of at most 8 URLs', () => {
    const many = Array.from({ length: 40 }, () => ({ urls: Array.from({ length: 20 }, (_, i) => `stun:h${i}:1`) }))
    const parsed = parseIceServers(many)
    expect(parsed).toHaveLength(16)
    expect(parsed[0].urls).toHaveLength(8)
  })
})
