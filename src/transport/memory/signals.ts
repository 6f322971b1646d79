import { ExplorerError } from '../../errors'

/**
 * The memory transport's handshake, carried over a SignalPort exactly like
 * WebRTC's SDP would be: the connector sends an offer, the accepter answers
 * with the same token. JSON-serialisable, so it can travel through the overlay.
 */
export type MemorySignal = { mem: 'offer'; token: number } | { mem: 'answer'; token: number }

export function parseMemorySignal(value: unknown, expected: MemorySignal['mem']): MemorySignal {
  if (typeof value !== 'object' || value === null) {
    throw signalFailed(`expected a memory ${expected} signal, got ${describe(value)}`)
  }
  const { mem, token } = value as { mem?: unknown; token?: unknown }
  if (mem !== expected) throw signalFailed(`expected a memory ${expected} signal, got mem=${describe(mem)}`)
  if (typeof token !== 'number' || !Number.isSafeInteger(token) || token < 0) {
    throw signalFailed(`memory ${expected} signal has a bad token ${describe(token)}`)
  }
  return { mem: expected, token }
}

export const signalFailed = (message: string) => new ExplorerError('SIGNAL_FAILED', message)

const describe = (v: unknown): string => {
  try {
    return JSON.stringify(v)?.slice(0, 60) ?? String(v)
  } catch {
    return typeof v
  }
}
