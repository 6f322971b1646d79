import {
  EMPTY, NEVER, Observable, SchedulerLike, catchError, concat, defaultIfEmpty, defer, filter, finalize, map, merge, of, retry, switchMap, take,
  throwError, timer,
} from 'rxjs'
import { ExplorerError, isExplorerError } from '../errors'
import { formatId, parseId } from '../ids'
import { RingOp, decodeRingMessage } from '../ring/messages'
import type { RingNode } from '../ring/node'
import type { Channel } from '../transport/types'
import { FrameType } from '../wire/frame'
import type { ServerLink } from './server-link'
import type { ServerSignalling } from './server-signalling'

export interface JoinContext {
  ring: RingNode
  link: ServerLink
  signalling: ServerSignalling
  scheduler: SchedulerLike
  random: () => number
  /** Rounds of asking the server for candidates. */
  attempts: number
  /** How long to wait for a listed peer that is still joining itself. */
  graceMs: number
  /** First pause between rounds (doubling, jittered), and the cap. */
  backoffMs: number
  maxBackoffMs: number
}

/**
 * listen()'s join. Register with the server; an empty registry means we are
 * the first peer: a ring of one. Otherwise dial the listed successors through
 * the server, those the server knows are in a ring first, closest first, and
 * join through the first that is in the ring
 * (the registry also lists peers still joining: those say so in their first
 * Hello, and we move on unless they finish within a grace period). When none
 * could take us in, ask again for a fresh list after a jittered, growing pause.
 */
export function joinRing$(ctx: JoinContext): Observable<void> {
  const round$ = defer(() => ctx.link.register$()).pipe(
    switchMap((reply) => {
      // Peers already in a ring first: one still joining makes us wait for it.
      const candidates = others(ctx, [...new Set([...reply.ring, ...reply.successors])])
      if (candidates.length === 0) {
        ctx.ring.create()
        return of(undefined)
      }
      return firstOf$(candidates, (c) => joinThrough$(ctx, c), 'no listed peer could take us into the ring')
    }),
  )
  // A server that cannot be reached at all fails listen() at once (SIGNAL_FAILED): retrying only hides it.
  const delay = (error: unknown, n: number) => (isExplorerError(error, 'SIGNAL_FAILED') ? throwError(() => error) : pause$(ctx, error, n))
  return round$.pipe(retry({ count: ctx.attempts - 1, delay }))
}

/**
 * After losing every channel (the overlay cannot reach us, nor we it), attach
 * again through the server: open a channel to a listed peer; stabilize and
 * the self-check merge us back. Retries while we have no channel at all.
 */
export function reattach$(ctx: JoinContext): Observable<void> {
  const round$ = defer(() => ctx.link.register$()).pipe(
    switchMap((reply) => {
      const candidates = others(ctx, reply.successors)
      // Alone in the registry, or someone reached us meanwhile: nothing to do.
      if (candidates.length === 0 || ctx.ring.channels.size > 0) return of(undefined)
      const attach$ = (c: number) => ctx.signalling.connect$(c).pipe(map((channel) => void ctx.ring.channels.add(channel, ctx.ring.id)))
      return firstOf$(candidates, attach$, 'no listed peer could be reached')
    }),
  )
  return round$.pipe(retry({ delay: (error, n) => (ctx.ring.channels.size > 0 ? EMPTY : pause$(ctx, error, n)) }))
}

function joinThrough$(ctx: JoinContext, candidate: number): Observable<void> {
  const { ring } = ctx
  // A candidate still joining says so in its first Hello. It may finish soon
  // (its next Hello says joined, and ring.join$ goes on): give it a grace period, then move on.
  const notInRing$ = ring.router.frames$(FrameType.Ring).pipe(
    filter((f) => f.source === candidate && f.from === candidate),
    map((f) => helloJoined(f.payload)),
    filter((joined): joined is boolean => joined !== null),
    switchMap((joined) => (joined ? NEVER : timer(ctx.graceMs, ctx.scheduler))),
    map((): never => {
      throw new ExplorerError('JOIN_FAILED', `${formatId(candidate)} is not in the ring yet`)
    }),
  )
  return ctx.signalling.connect$(candidate).pipe(
    // notInRing$ first: the candidate's Hello may be handed over as soon as the ring adopts the channel.
    switchMap((channel: Channel) => merge(notInRing$, ring.join$(channel))),
    take(1),
    finalize(() => {
      if (!ring.joined) ring.channels.close(candidate)
    }),
  )
}

/** Tries `attempt` on each candidate in turn; completes after the first success. */
function firstOf$(candidates: number[], attempt: (c: number) => Observable<void>, failure: string): Observable<void> {
  return concat(...candidates.map((c) => defer(() => attempt(c)).pipe(map(() => true), catchError(() => EMPTY)))).pipe(
    take(1),
    defaultIfEmpty(false),
    map((ok) => {
      if (!ok) throw new ExplorerError('JOIN_FAILED', failure)
    }),
  )
}

function pause$(ctx: JoinContext, error: unknown, attempt: number): Observable<unknown> {
  if (isExplorerError(error, 'CLOSED')) return throwError(() => error)
  const ceiling = Math.min(ctx.maxBackoffMs, ctx.backoffMs * 2 ** (attempt - 1))
  return timer(Math.round(ceiling * (0.5 + 0.5 * ctx.random())), ctx.scheduler)
}

const others = (ctx: JoinContext, ids: string[]): number[] => ids.map(parseId).filter((id) => id !== ctx.ring.id)

/** The joined flag of a Hello; null for any other ring message. */
function helloJoined(payload: Uint8Array): boolean | null {
  try {
    const message = decodeRingMessage(payload)
    return message.op === RingOp.Hello ? message.joined : null
  } catch {
    return null
  }
}
