import type { Diagnostics } from '../diagnostics'
import type { Identity } from '../identity'
import type { ClaimProver } from '../identity/claim-proof'
import type { SignalProver } from '../identity/signal-proof'
import type { AbusePolicy } from '../router/router'
import type { SchedulerLike } from 'rxjs'
import type { Transport } from '../transport/types'

export interface RingTimingOptions {
  /** Period of stabilize (and check-predecessor): one "round". */
  stabilizeMs: number
  /** Period of fix-fingers; each tick refreshes one row, round-robin. */
  fixFingersMs: number
  /** How long a ring RPC (lookup, stabilize) may take before it counts as failed. */
  rpcTimeoutMs: number
  /** How long setting up one channel through the overlay may take. */
  connectTimeoutMs: number
}

export interface RingOptions extends Partial<RingTimingOptions> {
  id: number
  transport: Transport
  /** Timers run here: virtual time in tests and simulation. Default: rxjs asyncScheduler. */
  scheduler?: SchedulerLike
  /** Seedable randomness for jitter and ids of requests. Default Math.random. */
  random?: () => number
  /** Finger channels kept at most (default 16: browsers are constrained). */
  maxFingers?: number
  /** Successor list length r (default 16 ≥ log2 of 65,536 peers). */
  successors?: number
  /** Direct channels kept at most; the least recently used ones we do not need go first. Default 256: the peers after the widest gaps are other peers' fingers that often (docs/architecture.md). */
  maxChannels?: number
  /** Channel set-ups in progress at most (ours and others'): bounds what strangers can make us hold. */
  maxSignalSessions?: number
  /** Of those, set-ups others start whose offers come through one neighbour (its channel proves who it is; an offer's claimed sender proves nothing until checked). */
  maxSignalSessionsPerNeighbour?: number
  /** Of those, set-ups one remote may hold with us at once, counted once its key proved its id (default 2); a newer one supersedes one older than half connectTimeoutMs. */
  maxSignalSessionsPerRemote?: number
  /**
   * Signs our channel set-up signals and checks others' (src/identity/signal-proof.ts):
   * identityProver in an explorer, the model in the simulator. Required: a ring
   * that cannot tell who it connects to is not one we build.
   */
  prover: SignalProver
  /** When a neighbour's malformed frames get its channel closed (default: 16 within 10 s; see docs/protocol.md). */
  abusePolicy?: Partial<AbusePolicy>
  /** Independent routes a lookup asks over (default 6, at most 16; docs/reliability.md, "Lookups under attack", has the measurements). */
  lookupRoutes?: number
  /** Routes fix-fingers' lookups ask over (default 1: the ring's own lookups are most of its traffic; docs/reliability.md, "Lookups under attack", says what one route risks). */
  fingerLookupRoutes?: number
  /** A lookup route silent this long is asked again from another first hop (default 1000 ms; the lookup's deadline stays rpcTimeoutMs). */
  lookupAttemptMs?: number
  /** Signs our answers to lookups and checks others' (the explorer: the identity's Ed25519 key). Default: a model of signatures, for the simulator. */
  claimProver?: ClaimProver
  /** Where background failures are reported (the explorer shares one with its own parts). Default: the node's own, ended by close(). */
  diagnostics?: Diagnostics
  /** Who this peer proves to be at the far end of a relayed link (and of signals it signs). None: no relayed links. */
  identity?: Identity
  /** False: never open or accept relayed links (a peer that cannot reach its successor directly then has none). Default true when there is an identity. */
  relayedLinks?: boolean
  /** A direct channel whose remote answered but that is not open after this long gets a relayed link beside it (docs/nat.md). Default 1500. */
  relayAfterMs?: number
  /** False: a direct channel whose path went down is not renewed by ICE restarts signalled through the overlay, only dropped and replaced (docs/nat.md). Default true. */
  iceRestarts?: boolean
}

export const RING_DEFAULTS = {
  maxFingers: 16,
  successors: 16,
  maxChannels: 256,
  maxSignalSessions: 64,
  maxSignalSessionsPerNeighbour: 32,
  maxSignalSessionsPerRemote: 2,
  stabilizeMs: 1000,
  fixFingersMs: 1000,
  rpcTimeoutMs: 4000,
  connectTimeoutMs: 15_000,
  lookupRoutes: 6,
  fingerLookupRoutes: 1,
  lookupAttemptMs: 1000,
  relayAfterMs: 1500,
} as const
