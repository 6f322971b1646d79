import {
  EMPTY, NEVER, Observable, SchedulerLike, catchError, concat, defaultIfEmpty, defer, filter, finalize, map, merge, of, retry, switchMap, take,
  throwError, timer,
} from 'rxjs'
import type { DiagnosticCode, Diagnostics } from '../diagnostics'
import { ExplorerError, isExplorerError } from '../errors'
import { formatId, parseId } from '../ids'
import type { RingNode } from '../ring/node'
import type { Channel } from '../transport/types'
import type { ServerLink } from './server-link'
import type { ServerSignalling } from './server-signalling'

export interface JoinContext {
  ring: RingNode
  link: ServerLink
  signalling: ServerSignalling
  scheduler: SchedulerLike
  random: () => number
  diagnostics: Diagnostics
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
      return firstOf$(ctx, candidates, (c) => joinThrough$(ctx, c), 'JOIN_CANDIDATE_FAILED', 'no listed peer could take us into the ring')
    }),
  )
  return defer(() => {
    // A server that cannot be reached at all fails listen() at once (SIGNAL_FAILED): retrying only hides it.
    // With several URLs each connection goes to the next one: it fails once none of them answered.
    let unreachable = 0
    const delay = (error: unknown, n: number) => {
      if (!isExplorerError(error, 'SIGNAL_FAILED')) {
        unreachable = 0
        return pause$(ctx, error, n, 'JOIN_ATTEMPT_FAILED')
      }
      return ++unreachable >= ctx.link.serverCount ? throwError(() => error) : of(undefined)
    }
    return round$.pipe(retry({ count: ctx.attempts - 1, delay }))
  })
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
      return firstOf$(ctx, candidates, attach$, 'REATTACH_FAILED', 'no listed peer could be reached')
    }),
  )
  return round$.pipe(retry({ delay: (error, n) => (ctx.ring.channels.size > 0 ? EMPTY : pause$(ctx, error, n, 'REATTACH_FAILED')) }))
}

function joinThrough$(ctx: JoinContext, candidate: number): Observable<void> {
  const { ring } = ctx
  // A candidate still joining says so in its first Hello. It may finish soon
  // (its next Hello says joined, and ring.join$ goes on): give it a grace period, then move on.
  const notInRing$ = ring.hellos$.pipe(
    filter((hello) => hello.peer === candidate),
    switchMap(({ joined }) => (joined ? NEVER : timer(ctx.graceMs, ctx.scheduler))),
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

/** Tries `attempt` on each candidate in turn (each failure reported as `code`); completes after the first success. */
function firstOf$(ctx: JoinContext, candidates: number[], attempt: (c: number) => Observable<void>, code: DiagnosticCode, failure: string): Observable<void> {
  const tried = (c: number) =>
    defer(() => attempt(c)).pipe(
      map(() => true),
      catchError((error) => {
        ctx.diagnostics.report(code, error, { peer: c })
        return EMPTY
      }),
    )
  return concat(...candidates.map(tried)).pipe(
    take(1),
    defaultIfEmpty(false),
    map((ok) => {
      if (!ok) throw new ExplorerError('JOIN_FAILED', failure)
    }),
  )
}

/** The pause after a failed round (reported as `code`), jittered and growing; none after CLOSED. */
function pause$(ctx: JoinContext, error: unknown, attempt: number, code: DiagnosticCode): Observable<unknown> {
  if (isExplorerError(error, 'CLOSED')) return throwError(() => error)
  ctx.diagnostics.report(code, error)
  const ceiling = Math.min(ctx.maxBackoffMs, ctx.backoffMs * 2 ** (attempt - 1))
  return timer(Math.round(ceiling * (0.5 + 0.5 * ctx.random())), ctx.scheduler)
}

const others = (ctx: JoinContext, ids: string[]): number[] => ids.map(parseId).filter((id) => id !== ctx.ring.id)

