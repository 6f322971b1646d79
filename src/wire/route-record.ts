import { ExplorerError } from '../errors'
import { bytesToId, writeId } from '../ids'
import { allocBytes } from './bytes'
import { HEADER_BYTES } from './frame'

/**
 * A list of peer ids carried at the start of a payload: [count u8][count × 6-byte ids].
 * Traced frames record the peers that forwarded them; source-routed frames
 * carry the hops still to take. Replies go back along the recorded path over
 * channels that just carried the request, so they do not depend on the ring
 * being consistent yet.
 */
export const MAX_ROUTE_HOPS = 48

export interface RouteRecord {
  ids: number[]
  rest: Uint8Array
}

export function writeRoute(ids: readonly number[], rest: Uint8Array): Uint8Array {
  if (ids.length > MAX_ROUTE_HOPS) throw new ExplorerError('BAD_FRAME', `route of ${ids.length} hops exceeds ${MAX_ROUTE_HOPS}`)
  const out = allocBytes(1 + 6 * ids.length + rest.byteLength)
  out[0] = ids.length
  for (let i = 0; i < ids.length; i++) writeId(out, 1 + 6 * i, ids[i])
  out.set(rest, 1 + 6 * ids.length)
  return out
}

/**
 * The traced frame `frame` (whole, header included, its payload starting
 * with a route record) with `self` appended to the record and the header's
 * ttl and flags set: one new buffer, the ids copied as bytes, not decoded.
 * The record must have been checked (routeProblem) and hold under MAX_ROUTE_HOPS ids.
 */
export function withHop(frame: Uint8Array, self: number, ttl: number, flags: number): Uint8Array {
  const count = frame[HEADER_BYTES]
  const recordEnd = HEADER_BYTES + 1 + 6 * count
  const out = allocBytes(frame.byteLength + 6)
  out.set(frame.subarray(0, recordEnd))
  out[2] = ttl
  out[3] = flags
  out[HEADER_BYTES] = count + 1
  writeId(out, recordEnd, self)
  out.set(frame.subarray(recordEnd), recordEnd + 6)
  return out
}

/** Why `payload` does not start with a route record, or null when it does. Never throws. */
export function routeProblem(payload: Uint8Array): string | null {
  if (payload.byteLength < 1) return 'route record missing'
  const count = payload[0]
  if (count > MAX_ROUTE_HOPS) return `route record of ${count} hops exceeds ${MAX_ROUTE_HOPS}`
  if (payload.byteLength < 1 + 6 * count) return `route record claims ${count} hops but only ${payload.byteLength} bytes follow`
  return null
}

export function readRoute(payload: Uint8Array): RouteRecord {
  const problem = routeProblem(payload)
  if (problem !== null) throw new ExplorerError('BAD_FRAME', `route record truncated or too long: ${problem}`)
  const count = payload[0]
  const ids: number[] = []
  for (let i = 0; i < count; i++) ids.push(bytesToId(payload, 1 + 6 * i))
  return { ids, rest: payload.subarray(1 + 6 * count) }
}

/**
 * A source route: [count u8][next u8][count × ids][rest]. The whole route
 * stays in the frame (each hop only advances `next`, in place), so the
 * receiver learns the path it came by and can answer along its reverse.
 */
export interface SourceRoute {
  ids: number[]
  next: number
  rest: Uint8Array
}

export function writeSourceRoute(ids: readonly number[], rest: Uint8Array): Uint8Array {
  if (ids.length === 0 || ids.length > MAX_ROUTE_HOPS) throw new ExplorerError('BAD_FRAME', `source route of ${ids.length} hops is outside 1..${MAX_ROUTE_HOPS}`)
  const out = allocBytes(2 + 6 * ids.length + rest.byteLength)
  out[0] = ids.length
  out[1] = 0
  for (let i = 0; i < ids.length; i++) writeId(out, 2 + 6 * i, ids[i])
  out.set(rest, 2 + 6 * ids.length)
  return out
}

/** Why `payload` does not start with a source route, or null when it does. Never throws. */
export function sourceRouteProblem(payload: Uint8Array): string | null {
  if (payload.byteLength < 2) return 'source route missing'
  const count = payload[0]
  const next = payload[1]
  if (count === 0 || count > MAX_ROUTE_HOPS) return `source route of ${count} hops is outside 1..${MAX_ROUTE_HOPS}`
  if (next > count) return `source route cursor ${next} is past its ${count} hops`
  if (payload.byteLength < 2 + 6 * count) return `source route claims ${count} hops but only ${payload.byteLength} bytes follow`
  return null
}

export function readSourceRoute(payload: Uint8Array): SourceRoute {
  const problem = sourceRouteProblem(payload)
  if (problem !== null) throw new ExplorerError('BAD_FRAME', `source route truncated or malformed: ${problem}`)
  const count = payload[0]
  const next = payload[1]
  const ids: number[] = []
  for (let i = 0; i < count; i++) ids.push(bytesToId(payload, 2 + 6 * i))
  return { ids, next, rest: payload.subarray(2 + 6 * count) }
}
