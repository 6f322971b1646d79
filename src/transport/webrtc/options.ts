import { asyncScheduler, type SchedulerLike } from 'rxjs'
import { ExplorerError } from '../../errors'
import type { LivenessOptions } from '../liveness'
import { withSafeDescriptions } from './safe-descriptions'

/** The three constructors simple-peer needs: browser globals, or require('@roamhq/wrtc') in Node. */
export interface WrtcImpl {
  RTCPeerConnection: typeof RTCPeerConnection
  RTCSessionDescription: typeof RTCSessionDescription
  RTCIceCandidate: typeof RTCIceCandidate
}

export interface WebRtcTransportOptions {
  /** WebRTC implementation; defaults to the browser's globals. */
  wrtc?: WrtcImpl
  /**
   * STUN/TURN servers, or a function read at each new connection (the
   * explorer's: whatever the signalling server handed out last). Default
   * none: host candidates only, enough on a LAN or loopback; peers behind
   * NATs need at least a STUN server.
   */
  iceServers?: RTCIceServer[] | (() => RTCIceServer[])
  /** drained() fires once bufferedAmount is at or below this. Default 256 KiB. */
  lowWaterMark?: number
  /** Advisory: senders should await drained() once bufferedAmount reaches this. Default 1 MiB. */
  highWaterMark?: number
  /** A handshake not open by then fails with SIGNAL_FAILED. Default 30 s. */
  connectTimeoutMs?: number
  /**
   * Poll period for drained() where the data channel has no 'bufferedamountlow'
   * event (@roamhq/wrtc). Default 4 ms: there bufferedAmount only counts what
   * overflowed SCTP's send queue (megabytes, tens of ms of data), so the link
   * never idles meanwhile, and each read is a blocking native call (~0.1 ms).
   */
  drainPollMs?: number
  /**
   * An open channel that sent nothing for this long sends a keepalive (an
   * empty message), so that the remote hears it; 0: no keepalives and no
   * silence checks. Default 1 s.
   */
  keepaliveMs?: number
  /**
   * A channel that heard nothing (no frame, no keepalive) for this long
   * closes: its remote is gone. Default 4 s (libwebrtc alone takes ~17 s).
   * After 2 × keepaliveMs of silence it is already unhealthy (routed around).
   */
  silenceMs?: number
  /**
   * RTCPeerConnections this transport creates at most per minute (bursts of
   * half as many); over it a handshake fails at once with SIGNAL_FAILED.
   * Chrome allows about 500 per tab over its lifetime; a joining peer opens 20–40. Default 120.
   */
  maxPeersPerMinute?: number
  /** Timers (handshake timeouts, keepalives). Default: asyncScheduler. */
  scheduler?: SchedulerLike
}

export interface ResolvedOptions {
  wrtc: WrtcImpl
  iceServers: () => RTCIceServer[]
  lowWaterMark: number
  highWaterMark: number
  connectTimeoutMs: number
  drainPollMs: number
  /** Null: keepalives off. */
  liveness: LivenessOptions | null
  maxPeersPerMinute: number
  scheduler: SchedulerLike
}

const KiB = 1024

/** Fills defaults and rejects misuse at once (BAD_OPTIONS), not on the first handshake. */
export function resolveOptions(options: WebRtcTransportOptions = {}): ResolvedOptions {
  const given = options.wrtc ?? browserWrtc()
  if (given === undefined || typeof given.RTCPeerConnection !== 'function') {
    throw new ExplorerError('BAD_OPTIONS', 'no WebRTC implementation: pass options.wrtc (e.g. require("@roamhq/wrtc")) outside browsers')
  }
  // A browser's own implementation is thread-safe; a given one is typically @roamhq/wrtc.
  const wrtc = options.wrtc ? withSafeDescriptions(given) : given
  const lowWaterMark = options.lowWaterMark ?? 256 * KiB
  const highWaterMark = options.highWaterMark ?? 1024 * KiB
  const connectTimeoutMs = options.connectTimeoutMs ?? 30_000
  const drainPollMs = options.drainPollMs ?? 4
  const iceServers = options.iceServers ?? []
  const keepaliveMs = options.keepaliveMs ?? 1000
  const silenceMs = options.silenceMs ?? 4000
  nonNegative('keepaliveMs', keepaliveMs)
  if (keepaliveMs > 0 && !(silenceMs > keepaliveMs)) throw new ExplorerError('BAD_OPTIONS', `silenceMs (${silenceMs}) must exceed keepaliveMs (${keepaliveMs})`)
  const liveness = keepaliveMs > 0 ? { keepaliveMs, suspectMs: Math.min(2 * keepaliveMs, silenceMs), silenceMs } : null
  nonNegative('lowWaterMark', lowWaterMark)
  nonNegative('highWaterMark', highWaterMark)
  nonNegative('drainPollMs', drainPollMs)
  if (highWaterMark < lowWaterMark) {
    throw new ExplorerError('BAD_OPTIONS', `highWaterMark (${highWaterMark}) is below lowWaterMark (${lowWaterMark})`)
  }
  if (!(connectTimeoutMs > 0)) throw new ExplorerError('BAD_OPTIONS', `connectTimeoutMs must be > 0, got ${connectTimeoutMs}`)
  const maxPeersPerMinute = options.maxPeersPerMinute ?? 120
  if (!(Number.isInteger(maxPeersPerMinute) && maxPeersPerMinute >= 1)) throw new ExplorerError('BAD_OPTIONS', `maxPeersPerMinute must be an integer ≥ 1, got ${maxPeersPerMinute}`)
  if (!Array.isArray(iceServers) && typeof iceServers !== 'function') throw new ExplorerError('BAD_OPTIONS', 'iceServers must be an array of RTCIceServer (or a function returning one)')
  return {
    wrtc, iceServers: typeof iceServers === 'function' ? iceServers : () => iceServers, lowWaterMark, highWaterMark, connectTimeoutMs, drainPollMs,
    liveness, maxPeersPerMinute, scheduler: options.scheduler ?? asyncScheduler,
  }
}

function nonNegative(name: string, value: number): void {
  if (!(Number.isFinite(value) && value >= 0)) {
    throw new ExplorerError('BAD_OPTIONS', `${name} must be a finite number ≥ 0, got ${value}`)
  }
}

function browserWrtc(): WrtcImpl | undefined {
  const g = globalThis as Partial<WrtcImpl>
  if (typeof g.RTCPeerConnection !== 'function') return undefined
  return {
    RTCPeerConnection: g.RTCPeerConnection,
    RTCSessionDescription: g.RTCSessionDescription!,
    RTCIceCandidate: g.RTCIceCandidate!,
  }
}
