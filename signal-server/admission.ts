import { isIPv4, isIPv6 } from 'node:net'
import { TokenBucket } from '../src/token-bucket'

/** Joins per client address: a campus NAT (hundreds of people, one address) can live with it; one flooding host cannot take the ring. */
export interface AdmissionOptions {
  /** Ids one address may hold at once; the next join gets TOO_MANY_PEERS. Default 128. */
  maxPeersPerAddress: number
  /** Join attempts per address per second, sustained (a token bucket); over it, RATE_LIMITED. Default 4. */
  joinsPerSecond: number
  /** ...and in one burst. Default 64. */
  joinBurst: number
}

export const DEFAULT_ADMISSION: AdmissionOptions = { maxPeersPerAddress: 128, joinsPerSecond: 4, joinBurst: 64 }

interface AddressState {
  live: number
  joins: TokenBucket
}

/** Entries kept before a sweep drops the idle ones (no live id, bucket full again). */
const SWEEP_ABOVE = 4096

/**
 * Per-address admission. Keys: an IPv4 address as is (also when written as
 * IPv4-mapped IPv6), an IPv6 address by its /64 — one subscriber usually gets
 * a whole /64, so counting single IPv6 addresses would count nothing.
 */
export class Admission {
  private readonly addresses = new Map<string, AddressState>()

  constructor(
    private readonly options: AdmissionOptions,
    private readonly now: () => number = Date.now,
  ) {}

  /** The key a client address is counted under. */
  static keyOf(ip: string): string {
    const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(ip)
    if (mapped) return mapped[1]
    if (isIPv4(ip) || !isIPv6(ip)) return ip
    return `${expandIPv6(ip).slice(0, 4).join(':')}::/64`
  }

  /** A join attempt from `key`: takes a token (RATE_LIMITED when there is none), then checks the live cap. */
  attempt(key: string): 'ok' | 'RATE_LIMITED' | 'TOO_MANY_PEERS' {
    const state = this.stateOf(key)
    const { joinBurst, joinsPerSecond } = this.options
    if (!state.joins.take(this.now(), joinBurst, joinsPerSecond)) return 'RATE_LIMITED'
    return state.live >= this.options.maxPeersPerAddress ? 'TOO_MANY_PEERS' : 'ok'
  }

  joined(key: string): void {
    this.stateOf(key).live++
  }

  left(key: string): void {
    const state = this.addresses.get(key)
    if (state !== undefined && state.live > 0) state.live--
  }

  /** Addresses currently tracked (for tests and metrics). */
  get size(): number {
    return this.addresses.size
  }

  private stateOf(key: string): AddressState {
    let state = this.addresses.get(key)
    if (state === undefined) {
      const now = this.now()
      if (this.addresses.size >= SWEEP_ABOVE) this.sweep(now)
      state = { live: 0, joins: new TokenBucket(this.options.joinBurst, now) }
      this.addresses.set(key, state)
    }
    return state
  }

  private sweep(now: number): void {
    const { joinBurst, joinsPerSecond } = this.options
    for (const [key, state] of this.addresses) {
      if (state.live === 0 && state.joins.level(now, joinBurst, joinsPerSecond) >= joinBurst) this.addresses.delete(key)
    }
  }
}

/** The eight 16-bit groups of an IPv6 address, as lowercase hex without leading zeros. */
function expandIPv6(ip: string): string[] {
  const [head, tail] = ip.split('::') as [string, string | undefined]
  const parts = (s: string | undefined) => (s === undefined || s === '' ? [] : s.split(':'))
  const left = parts(head)
  const right = parts(tail)
  const groups = tail === undefined ? left : [...left, ...Array(8 - left.length - right.length).fill('0'), ...right]
  return groups.map((g) => (g.includes('.') ? g : parseInt(g, 16).toString(16)))
}
