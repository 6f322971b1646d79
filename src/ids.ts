import { ExplorerError } from './errors'

/**
 * Peer ids and keys live on a ring of 2^48 points. On the wire and in the API
 * they are 12 lowercase hex characters; inside the ring core they are plain
 * numbers (exact below 2^53), so ring arithmetic stays cheap.
 */
export const ID_BITS = 48
export const RING_SIZE = 2 ** ID_BITS
export const ID_HEX_LENGTH = ID_BITS / 4

const ID_PATTERN = /^[0-9a-f]{12}$/

export const isIdString = (value: unknown): value is string =>
  typeof value === 'string' && ID_PATTERN.test(value)

/** Parses a 12-hex id; throws `BAD_ID` with the reason on anything else. */
export function parseId(value: unknown): number {
  if (typeof value !== 'string') {
    throw new ExplorerError('BAD_ID', `id must be a string of ${ID_HEX_LENGTH} lowercase hex characters, got ${typeof value}`)
  }
  if (!ID_PATTERN.test(value)) {
    throw new ExplorerError('BAD_ID', `id must be ${ID_HEX_LENGTH} lowercase hex characters, got ${JSON.stringify(value.slice(0, 32))}`)
  }
  return parseInt(value, 16)
}

export function formatId(n: number): string {
  if (!Number.isInteger(n) || n < 0 || n >= RING_SIZE) {
    throw new ExplorerError('BAD_ID', `id must be an integer in [0, 2^${ID_BITS}), got ${n}`)
  }
  return n.toString(16).padStart(ID_HEX_LENGTH, '0')
}

/** CSPRNG bytes drawn 256 ids at a time: one getRandomValues call per id was 2 % of a simulation (a lookup nonce each). */
const POOLED_IDS = 256
const pool = new Uint8Array(POOLED_IDS * 6)
let pooled = 0

/** A uniformly random id from the platform's CSPRNG (browsers and Node 20). */
export function randomIdNumber(): number {
  if (pooled === 0) {
    globalThis.crypto.getRandomValues(pool)
    pooled = POOLED_IDS
  }
  pooled--
  const id = bytesToId(pool, pooled * 6)
  // Each id is handed out once: its bytes go.
  pool.fill(0, pooled * 6, pooled * 6 + 6)
  return id
}

export const randomId = (): string => formatId(randomIdNumber())

export function bytesToId(bytes: Uint8Array, offset: number): number {
  return (
    bytes[offset] * 2 ** 40 +
    bytes[offset + 1] * 2 ** 32 +
    ((bytes[offset + 2] << 24) >>> 0) +
    (bytes[offset + 3] << 16) +
    (bytes[offset + 4] << 8) +
    bytes[offset + 5]
  )
}

export function writeId(bytes: Uint8Array, offset: number, id: number): void {
  const high = Math.floor(id / 2 ** 32)
  const low = id >>> 0
  bytes[offset] = (high >>> 8) & 0xff
  bytes[offset + 1] = high & 0xff
  bytes[offset + 2] = (low >>> 24) & 0xff
  bytes[offset + 3] = (low >>> 16) & 0xff
  bytes[offset + 4] = (low >>> 8) & 0xff
  bytes[offset + 5] = low & 0xff
}

/** Clockwise distance from a to b: how far b lies ahead of a on the ring. */
export const distance = (a: number, b: number): number => (b - a + RING_SIZE) % RING_SIZE

/**
 * Is x in the open interval (a, b), walking clockwise and wrapping at 2^48?
 * When a === b the interval is the whole ring but a itself (Chord's convention:
 * a lone peer is its own successor and every other key lies between).
 */
export function betweenOpen(x: number, a: number, b: number): boolean {
  if (a === b) return x !== a
  const dx = distance(a, x)
  return dx > 0 && dx < distance(a, b)
}

/** Is x in the half-open interval (a, b]? When a === b that is the whole ring. */
export function betweenRightInclusive(x: number, a: number, b: number): boolean {
  if (a === b) return true
  const dx = distance(a, x)
  return dx > 0 && dx <= distance(a, b)
}

/** Start of finger row i of peer n: (n + 2^i) mod 2^48. */
export function fingerStart(n: number, row: number): number {
  if (!Number.isInteger(row) || row < 0 || row >= ID_BITS) {
    throw new ExplorerError('BAD_ID', `finger row must be an integer in [0, ${ID_BITS}), got ${row}`)
  }
  return (n + 2 ** row) % RING_SIZE
}
