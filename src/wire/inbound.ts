import { DEFAULT_TTL, Frame, FrameFlag, FrameRejection, KNOWN_FLAGS, tryDecodeFrame } from './frame'
import { routeProblem, sourceRouteProblem } from './route-record'

/**
 * Why a frame that arrived over a channel was rejected. The first four are the
 * codec's (the bytes are not a frame); the others are frames no honest peer of
 * this version sends:
 * - `BAD_TTL`: TTL 0 (a router never lets a frame leave with 0) or above
 *   DEFAULT_TTL (every frame starts at DEFAULT_TTL; more would let it travel,
 *   or bounce between peers, longer than any honest frame);
 * - `BAD_FLAGS`: a flag bit this version does not define, or Routed with Traced
 *   (the payload cannot start with both a source route and a route record);
 * - `BAD_ROUTE`: a Traced or Routed frame whose route is truncated, claims
 *   more ids than the bytes hold (a forged length), more than MAX_ROUTE_HOPS,
 *   or has its cursor past the end;
 * - `BAD_PAYLOAD`: reported by the layer the frame was for (ring, sockets)
 *   when its payload does not parse.
 */
export type MalformedReason = FrameRejection | 'BAD_TTL' | 'BAD_FLAGS' | 'BAD_ROUTE' | 'BAD_PAYLOAD'

export const MALFORMED_REASONS: readonly MalformedReason[] = [
  'TOO_SHORT', 'TOO_LONG', 'BAD_VERSION', 'BAD_TYPE', 'BAD_TTL', 'BAD_FLAGS', 'BAD_ROUTE', 'BAD_PAYLOAD',
]

export type InboundResult =
  | { ok: true; frame: Frame }
  | { ok: false; reason: MalformedReason; message: string }

/**
 * Everything a router checks about bytes from a channel before it routes
 * them: the codec, then the header and route rules above. Never throws.
 * What it accepts can be routed without any later parse failing: honest
 * routers check the same, so a malformed frame can only come from the
 * neighbour that sent it, never from a peer it forwards for.
 */
export function inspectInbound(bytes: Uint8Array): InboundResult {
  const decoded = tryDecodeFrame(bytes)
  if (!decoded.ok) return decoded
  const problem = frameProblem(decoded.frame)
  return problem === null ? decoded : { ok: false, reason: problem[0], message: problem[1] }
}

/** The header and route rules alone, for a decoded frame: null when it may be routed. */
export function frameProblem(frame: Frame): [MalformedReason, string] | null {
  if (frame.ttl === 0 || frame.ttl > DEFAULT_TTL) return ['BAD_TTL', `frame arrived with ttl ${frame.ttl}, outside 1..${DEFAULT_TTL}`]
  if (frame.flags & ~KNOWN_FLAGS) return ['BAD_FLAGS', `unknown flag bits 0x${(frame.flags & ~KNOWN_FLAGS).toString(16)}`]
  const routed = (frame.flags & FrameFlag.Routed) !== 0
  const traced = (frame.flags & FrameFlag.Traced) !== 0
  if (routed && traced) return ['BAD_FLAGS', 'a frame cannot be both Routed and Traced']
  const problem = routed ? sourceRouteProblem(frame.payload) : traced ? routeProblem(frame.payload) : null
  return problem === null ? null : ['BAD_ROUTE', problem]
}
