/**
 * How long a channel to a peer that died silently (SIGKILL: no SCTP ABORT,
 * no DTLS alert) keeps being used. Each trial opens a real WebRTC channel
 * (@roamhq/wrtc, loopback) to a child process, checks it echoes, kills the
 * child, and times, from the kill, when the channel turned unhealthy
 * (health$ false: the router routes around it) and when it closed, and why.
 * Two settings in the same run: keepalives off (what libwebrtc alone
 * notices: ICE consent, then failure) and the defaults (keepalive 1 s,
 * silence 4 s). Medians and worst over trials.
 *
 *   npm run bench:dead-peer [-- --json] [--trials 3]
 */
import { firstValueFrom } from 'rxjs'
import { createWebRtcTransport, type WebRtcChannel, type WebRtcTransportOptions, type WrtcImpl } from '../src/transport/webrtc'
import { spawnFarEnd } from './dead-peer/far-peer'

// eslint-disable-next-line @typescript-eslint/no-require-imports
const wrtc = require('@roamhq/wrtc') as WrtcImpl

interface Trial {
  unhealthyMs: number | null
  closedMs: number
  reason: string | null
}

async function trial(options: Omit<WebRtcTransportOptions, 'wrtc'>): Promise<Trial> {
  const far = spawnFarEnd(options)
  try {
    const channel = (await firstValueFrom(createWebRtcTransport({ ...options, wrtc }).connect(2, far.port))) as WebRtcChannel
    await far.open
    const echoed = new Promise<void>((resolve) => channel.frames$.subscribe(() => resolve()))
    channel.send(new Uint8Array([1, 2, 3]))
    await echoed
    let unhealthyAt: number | null = null
    channel.health$.subscribe((healthy) => {
      if (!healthy && unhealthyAt === null) unhealthyAt = performance.now()
    })
    const closed = new Promise<number>((resolve) => channel.frames$.subscribe({ complete: () => resolve(performance.now()) }))
    const killedAt = performance.now()
    await far.kill()
    const closedAt = await closed
    return { unhealthyMs: unhealthyAt === null ? null : Math.round(unhealthyAt - killedAt), closedMs: Math.round(closedAt - killedAt), reason: channel.closeReason }
  } finally {
    await far.kill()
  }
}

const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b)
  return s.length % 2 ? s[s.length >> 1] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2
}

async function main(): Promise<void> {
  const json = process.argv.includes('--json')
  const at = process.argv.indexOf('--trials')
  const trials = at >= 0 ? Number(process.argv[at + 1]) : 3
  const settings: Array<[string, Omit<WebRtcTransportOptions, 'wrtc'>]> = [
    ['keepalives off (libwebrtc alone)', { keepaliveMs: 0 }],
    ['defaults (keepalive 1 s, silence 4 s)', {}],
  ]
  const results = []
  for (const [name, options] of settings) {
    const runs: Trial[] = []
    for (let i = 0; i < trials; i++) runs.push(await trial(options))
    const unhealthy = runs.map((r) => r.unhealthyMs ?? r.closedMs)
    const closed = runs.map((r) => r.closedMs)
    results.push({
      setting: name, trials,
      unhealthyMs: { median: median(unhealthy), worst: Math.max(...unhealthy) },
      closedMs: { median: median(closed), worst: Math.max(...closed) },
      reasons: runs.map((r) => r.reason),
    })
  }
  const ratio = results[1].closedMs.median / results[0].closedMs.median
  if (json) console.log(JSON.stringify({ results, closedRatio: ratio }))
  else {
    for (const r of results) {
      console.log(`${r.setting}: unhealthy after ${r.unhealthyMs.median} ms (worst ${r.unhealthyMs.worst}), closed after ${r.closedMs.median} ms (worst ${r.closedMs.worst}); closed by ${r.reasons.join(', ')}`)
    }
    console.log(`closed in ${(ratio * 100).toFixed(0)} % of the time libwebrtc alone takes`)
  }
  process.exit(0)
}

void main()
