import type { SignalProof } from '../identity/signal-proof'
import { ExplorerError } from '../errors'
import { formatId, isIdString } from '../ids'

/** What travels in a Signal frame's payload, and in a carried offer or its answer (JSON: SDP is text anyway). */
export interface Envelope {
  /** A transport signal (offer, answer, candidate). */
  s?: unknown
  /** With `s`: whether the sender is in the ring, what its Hello on the new channel would say (so neither end sends one). */
  j?: 0 | 1
  /** With an `s` that binds the channel (Transport.bindingOf): the sender's public key and signature (SignalProof). */
  k?: string
  p?: string
  /** The receiver gives up this session (glare lost, no such peer, overloaded). */
  abort?: 'glare' | 'unreachable' | 'busy' | 'unproven'
  /** With abort 'unreachable': the id that no peer has (the sender of the abort is its owner). */
  gone?: string
  /**
   * The session renews the channel the two ends hold (an ICE restart, src/ring/ice-restarts.ts), it
   * sets up no new one: 1 on every envelope of such a session. Any other value is refused (BAD_PAYLOAD).
   */
  r?: 1
}

const ABORTS = new Set(['glare', 'unreachable', 'busy', 'unproven'])

const encoder = new TextEncoder()
const decoder = new TextDecoder()

export const encodeEnvelope = (envelope: Envelope): Uint8Array => encoder.encode(JSON.stringify(envelope))

/** The envelope in `payload`, or null when it is not one (the router then holds it against the neighbour). */
export function parseEnvelope(payload: Uint8Array): Envelope | null {
  try {
    const value: unknown = JSON.parse(decoder.decode(payload))
    if (typeof value !== 'object' || value === null || Array.isArray(value)) return null
    const envelope = value as Envelope
    if (envelope.gone !== undefined && !isIdString(envelope.gone)) return null
    if (envelope.abort !== undefined && !ABORTS.has(envelope.abort)) return null
    if (envelope.j !== undefined && envelope.j !== 0 && envelope.j !== 1) return null
    if (envelope.r !== undefined && envelope.r !== 1) return null
    return envelope
  } catch {
    return null
  }
}

/** The proof fields of an envelope, as the signal gate checks them (anything missing or mistyped simply fails the check). */
export const proofOf = (envelope: Envelope): Partial<SignalProof> => ({ k: envelope.k, p: envelope.p })

/** An envelope carrying our signal, with its proof when it has one. */
export const signalEnvelope = (signal: unknown, joined: boolean, proof: SignalProof | undefined): Envelope =>
  proof === undefined ? { s: signal, j: joined ? 1 : 0 } : { s: signal, j: joined ? 1 : 0, k: proof.k, p: proof.p }

/** What the remote's abort means for our dial. */
export function abortError(abort: NonNullable<Envelope['abort']>, remote: number): ExplorerError {
  if (abort === 'unreachable') return new ExplorerError('PEER_NOT_FOUND', `peer ${formatId(remote)} does not exist`)
  if (abort === 'unproven') return new ExplorerError('AUTH_FAILED', `peer ${formatId(remote)} could not check our proof`)
  return new ExplorerError('SIGNAL_FAILED', `peer ${formatId(remote)} is busy`)
}
