import type { IceServer, JoinedReply } from '../src/protocol/signal-server'
import type { RingView } from './peer-registry'

/** How far past a peer the registry is searched for the first one in the ring. */
export const HINT_SEARCH = 16
/** How far past a joiner the registry is searched for peers already in the ring. */
export const JOIN_SEARCH = 256

/** The registry's ids clockwise after an id: a SortedRegistry, or the part of a shared one fetched around that id. */
export interface Neighbours {
  /** Up to `count` ids clockwise after `id` (wrapping), never `id` itself. */
  successors(id: string, count: number): string[]
}

/** True when x lies strictly between a and b going clockwise (a === b: the whole ring but a). */
function betweenOpen(x: string, a: string, b: string): boolean {
  if (a < b) return a < x && x < b
  return x !== a && (x > a || x < b)
}

/**
 * The server's one piece of ring repair. Channel losses can split a ring into
 * two that are each consistent, and Chord's stabilization never merges them:
 * no peer of one knows any peer of the other. The server knows both: the
 * registry is sorted, and a peer that reports its ring state is in a ring. When
 * the first reporting peer after `id` sits between `id` and the successor `id`
 * reported, that peer is the better successor, and `id` is told so.
 *
 * Returns the successor to hint, or null when the report agrees with the registry.
 */
export function successorHint(
  registry: Neighbours,
  inRing: (id: string) => boolean,
  id: string,
  reportedSuccessor: string | undefined,
): string | null {
  for (const candidate of registry.successors(id, HINT_SEARCH)) {
    if (!inRing(candidate)) continue
    if (reportedSuccessor === undefined || reportedSuccessor === id) return candidate
    return betweenOpen(candidate, id, reportedSuccessor) ? candidate : null
  }
  return null
}

/** Up to `count` peers clockwise after `id` that are in a ring (they report), closest first: the best ways in for a joiner. */
export function ringSuccessors(registry: Neighbours, inRing: (id: string) => boolean, id: string, count: number): string[] {
  return registry.successors(id, JOIN_SEARCH).filter(inRing).slice(0, count)
}

/** The `joined` reply: the registry's ids around the joiner, and the ICE servers handed to it. */
export function joinedReply(id: string, view: RingView, count: number, iceServers: IceServer[]): JoinedReply {
  const inRing = (peer: string) => view.inRing(peer)
  return {
    type: 'joined',
    id,
    successors: view.successors(id, count),
    ring: ringSuccessors(view, inRing, id, count),
    predecessor: view.predecessor(id),
    peers: view.size,
    iceServers,
  }
}
