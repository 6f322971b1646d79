/**
 * Which of our ICE candidates are worth signalling. libwebrtc (in
 * @roamhq/wrtc) gathers host candidates on every interface, loopback
 * included (127.0.0.1 and ::1): signalled, they make the remote send
 * connectivity checks to its own loopback, useless for any peer on another
 * machine, and they tell every remote about our interfaces. Left out:
 * - loopback (127.0.0.0/8, ::1), unless this peer gathered no other host
 *   candidate: a machine with nothing but loopback (a sandbox, a CI
 *   container) still connects to peers on itself. Those are held until
 *   gathering completes and sent only then (libwebrtc gathers them last);
 * - addresses no remote can reach: unspecified (0.0.0.0, ::), link-local
 *   (169.254.0.0/16, fe80::/10), multicast (224.0.0.0/4, ff00::/8).
 * Private addresses (10/8, 172.16/12, 192.168/16, fc00::/7) stay: peers on
 * one LAN connect through them. mDNS names (browsers' `<uuid>.local`) stay.
 * The end-of-candidates signal (an empty candidate) is never filtered.
 */
export class CandidateFilter {
  private otherHost = false
  private held: unknown[] | null = []

  /** The signals to send for this one (none, it, or nothing yet). */
  pass(signal: unknown): unknown[] {
    const address = candidateAddress(signal)
    if (address === null) return [signal]
    if (isLoopback(address)) {
      if (this.otherHost) return []
      if (this.held !== null) {
        this.held.push(signal)
        return []
      }
      return [signal]
    }
    if (isUnroutable(address)) return []
    if (/ typ host( |$)/.test(candidateLine(signal)!)) {
      this.otherHost = true
      this.held = null
    }
    return [signal]
  }

  /** Gathering completed: the loopback candidates held, if no other host candidate came. */
  complete(): unknown[] {
    const held = this.held ?? []
    this.held = null
    return this.otherHost ? [] : held
  }
}

function candidateLine(signal: unknown): string | null {
  if (typeof signal !== 'object' || signal === null || (signal as { type?: unknown }).type !== 'candidate') return null
  const line = (signal as { candidate?: { candidate?: unknown } }).candidate?.candidate
  return typeof line === 'string' ? line : null
}

/** "candidate:<foundation> <component> <transport> <priority> <address> <port> typ ..." → the address. */
function candidateAddress(signal: unknown): string | null {
  const line = candidateLine(signal)
  if (line === null || line === '') return null
  return line.replace(/^a=/, '').split(' ')[4]?.toLowerCase() ?? null
}

export function isLoopback(address: string): boolean {
  return address.startsWith('127.') || address === '::1' || address.startsWith('::ffff:127.')
}

export function isUnroutable(address: string): boolean {
  if (address === '0.0.0.0' || address === '::') return true
  if (address.startsWith('169.254.')) return true
  const first = Number(address.split('.')[0])
  if (/^\d+\.\d+\.\d+\.\d+$/.test(address) && first >= 224 && first <= 239) return true
  return /^fe[89ab][0-9a-f]:/.test(address) || /^ff[0-9a-f]{2}:/.test(address)
}
