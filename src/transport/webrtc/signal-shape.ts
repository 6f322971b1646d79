/**
 * Signals come from a remote peer (through the server or the overlay), so they
 * are untrusted input. simple-peer throws on some malformed values (null), only
 * logs a warning for others (garbage candidates) and would act on
 * 'renegotiate'/'transceiverRequest' requests we never need. So only the three
 * shapes a data-channel handshake uses pass, and only in the right direction.
 */
export type Role = 'connector' | 'accepter'

// "candidate:<foundation> <component> <udp|tcp> <priority> <address> <port> typ <type> ..."
const CANDIDATE = /^(a=)?candidate:\S+ \d+ (udp|tcp) \d+ \S+ \d+ typ (host|srflx|prflx|relay)( |$)/i

/** Returns why the signal is unacceptable, or null when simple-peer may have it. */
export function rejectSignal(signal: unknown, role: Role): string | null {
  if (typeof signal !== 'object' || signal === null || Array.isArray(signal)) return 'signal is not an object'
  const s = signal as Record<string, unknown>
  if (s.type === 'candidate') return rejectCandidate(s.candidate)
  const expected = role === 'connector' ? 'answer' : 'offer'
  if (s.type !== expected) return `expected an ${expected} or a candidate, got type ${JSON.stringify(s.type)}`
  if (typeof s.sdp !== 'string' || s.sdp.length === 0) return `${expected} without sdp`
  return null
}

function rejectCandidate(c: unknown): string | null {
  if (typeof c !== 'object' || c === null) return 'candidate signal without candidate object'
  const { candidate, sdpMid, sdpMLineIndex } = c as Record<string, unknown>
  if (typeof candidate !== 'string') return 'candidate is not a string'
  // The empty candidate means end-of-candidates.
  if (candidate !== '' && !CANDIDATE.test(candidate)) return 'malformed ICE candidate'
  if (sdpMid != null && typeof sdpMid !== 'string') return 'sdpMid is not a string'
  if (sdpMLineIndex != null && !Number.isInteger(sdpMLineIndex)) return 'sdpMLineIndex is not an integer'
  if (sdpMid == null && sdpMLineIndex == null) return 'candidate without sdpMid or sdpMLineIndex'
  return null
}

/**
 * What an offer or answer binds the channel to (Transport.bindingOf): its
 * type and SDP, which carries the DTLS certificate fingerprint the
 * handshake enforces; a candidate binds nothing (null). Anything else is
 * bound whole, so nothing unproven can fix who the far end is.
 */
export function sdpBinding(signal: unknown): string | null {
  if (typeof signal === 'object' && signal !== null) {
    const s = signal as Record<string, unknown>
    if (s.type === 'candidate') return null
    if ((s.type === 'offer' || s.type === 'answer') && typeof s.sdp === 'string') return `${s.type}\n${s.sdp}`
  }
  return JSON.stringify(signal) ?? ''
}
