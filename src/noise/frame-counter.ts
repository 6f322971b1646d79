import { MAX_NONCE } from './aead'

const WIRE_SPAN = 2 ** 32
const HALF_SPAN = 2 ** 31

/**
 * The frame counter (the nonce) for a frame whose header carries only the low
 * 32 bits of it (the overlay's u32 `seq`, which wraps): of the counters with
 * those low bits, the one nearest to `expected`, the next counter the
 * receiver expects (RFC 9000, appendix A.3). Exact while frames arrive within
 * 2^31 of where the receiver is; a frame further off decodes to another
 * counter and fails its tag, so a wrap never makes a nonce repeat.
 */
export function counterFromWireSeq(wireSeq: number, expected: number): number {
  const candidate = expected - (expected % WIRE_SPAN) + wireSeq
  if (candidate <= expected - HALF_SPAN && candidate + WIRE_SPAN <= MAX_NONCE) return candidate + WIRE_SPAN
  if (candidate > expected + HALF_SPAN && candidate >= WIRE_SPAN) return candidate - WIRE_SPAN
  return candidate
}
