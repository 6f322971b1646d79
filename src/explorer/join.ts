import {
  EMPTY, NEVER, Observable, SchedulerLike, Subscription, catchError, defer, filter, finalize, map, merge, of, retry, switchMap, take, tap,
  throwError, timer,
} from 'rxjs'
import type { DiagnosticCode, Diagnostics } from '../diagnostics'
import { ExplorerError, isExplorerError } from '../errors'
import { formatId, parseId } from '../ids'
import { withTimeout } from '../operators'
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
  /** listen() fails with JOIN_FAILED when not in the ring by then, whatever is still being tried. */
  timeoutMs: number
  /** How long to wait for a listed peer that is still joining itself. */
  graceMs: number
  /** A candidate whose channel has not opened by then gets the next one dialled beside it. */
  staggerMs: number
  /** A candidate's channel not open by then is given up (the WebRTC handshake's own limit, for any transport). */
  connectTimeoutMs: number
  /** First pause between rounds (doubling, jittered), and the cap. */
  backoffMs: number
  maxBackoffMs: number
}

/**
 * listen()'s join. Register with the server; an empty registry means we are
 * the first peer: a ring of one. Otherwise dial the listed successors through
 * the server, those the server knows are in a ring first, closest first,
 * staggered (one we cannot reach, or that vanished, costs `staggerMs`, not a
 * whole handshake timeout), and join through the first channel that opens to
 * a peer in the ring (the registry also lists peers still joining: those say
 * so in their first Hello, and we move on unless they finish within a grace
 * period). Any peer in the ring will do: the ring then reaches our true
 * successor, over a relayed link if we have no direct path to it. When none
 * could take us in, ask again for a fresh list after a jittered, growing
 * pause; after `timeoutMs` in all, fail.
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
      // The registry's closest peer after us: no peer the server knows of sits between us (ring.join$ may take it as successor).
      return joinThroughAny$(ctx, candidates, others(ctx, reply.successors)[0])
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
    return round$.pipe(
      retry({ count: ctx.attempts - 1, delay }),
      withTimeout(ctx.timeoutMs, ctx.scheduler, () => new ExplorerError('JOIN_FAILED', `not in the ring after ${ctx.timeoutMs} ms (diagnostics$ says what failed)`)),
    )
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
      const attach$ = (c: number) => openTo$(ctx, c).pipe(map((channel) => void ctx.ring.channels.add(channel, ctx.ring.id)))
      return firstOf$(ctx, candidates, attach$, 'REATTACH_FAILED', 'no listed peer could be reached').pipe(map(() => undefined))
    }),
  )
  return round$.pipe(retry({ delay: (error, n) => (ctx.ring.channels.size > 0 ? EMPTY : pause$(ctx, error, n, 'REATTACH_FAILED')) }))
}

/** Joins through the first candidate whose channel opens and who takes us in; each one that cannot is reported and left out. */
function joinThroughAny$(ctx: JoinContext, candidates: number[], nextRegistered: number | undefined): Observable<void> {
  const left = [...candidates]
  const drop = (peer: number) => left.includes(peer) && left.splice(left.indexOf(peer), 1)
  const next$ = (): Observable<void> =>
    defer(() => firstOf$(ctx, [...left], (c) => openTo$(ctx, c).pipe(tap({ error: () => drop(c) })), 'JOIN_CANDIDATE_FAILED', 'no listed peer could take us into the ring')).pipe(
      switchMap(({ peer, value: channel }) => {
        drop(peer)
        return joinThrough$(ctx, peer, channel, peer === nextRegistered).pipe(
          catchError((error) => {
            if (isExplorerError(error, 'CLOSED')) throw error
            ctx.diagnostics.report('JOIN_CANDIDATE_FAILED', error, { peer })
            return next$()
          }),
        )
      }),
    )
  return next$()
}

/** A channel to `peer` signalled through the server, given up after connectTimeoutMs. */
function openTo$(ctx: JoinContext, peer: number): Observable<Channel> {
  return ctx.signalling.connect$(peer).pipe(
    take(1),
    withTimeout(ctx.connectTimeoutMs, ctx.scheduler, () => new ExplorerError('SIGNAL_FAILED', `no channel to ${formatId(peer)} within ${ctx.connectTimeoutMs} ms`)),
  )
}

function joinThrough$(ctx: JoinContext, candidate: number, channel: Channel, isNext: boolean): Observable<void> {
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
  // notInRing$ first: the candidate's Hello may be handed over as soon as the ring adopts the channel.
  return merge(notInRing$, ring.join$(channel, isNext)).pipe(
    take(1),
    finalize(() => {
      if (!ring.joined) ring.channels.close(candidate)
    }),
  )
}

/**
 * Tries `attempt` on the candidates, staggered: the first at once, each next
 * one when the last started has not succeeded within `staggerMs` or when an
 * attempt fails (each failure reported as `code`). The first success wins:
 * it is emitted with its candidate, the other attempts are abandoned.
 * Errors JOIN_FAILED (`failure`) once every attempt failed.
 */
function firstOf$<T>(ctx: JoinContext, candidates: number[], attempt: (c: number) => Observable<T>, code: DiagnosticCode, failure: string): Observable<{ peer: number; value: T }> {
  return new Observable<{ peer: number; value: T }>((subscriber) => {
    const queue = [...candidates]
    const running = new Subscription()
    let active = 0
    let stagger: Subscription | undefined
    const startNext = (): void => {
      if (subscriber.closed) return
      stagger?.unsubscribe()
      const peer = queue.shift()
      if (peer === undefined) {
        if (active === 0) subscriber.error(new ExplorerError('JOIN_FAILED', failure))
        return
      }
      active++
      running.add((stagger = timer(ctx.staggerMs, ctx.scheduler).subscribe(startNext)))
      const failed = (error: unknown): void => {
        if (subscriber.closed) return
        active--
        if (isExplorerError(error, 'CLOSED')) return subscriber.error(error)
        ctx.diagnostics.report(code, error, { peer })
        startNext()
      }
      running.add(
        defer(() => attempt(peer)).subscribe({
          next: (value) => {
            subscriber.next({ peer, value })
            subscriber.complete()
          },
          error: failed,
          complete: () => failed(new ExplorerError('JOIN_FAILED', `${formatId(peer)}: the attempt ended without a channel`)),
        }),
      )
    }
    startNext()
    return running
  })
}

/** The pause after a failed round (reported as `code`), jittered and growing; none after CLOSED. */
function pause$(ctx: JoinContext, error: unknown, attempt: number, code: DiagnosticCode): Observable<unknown> {
  if (isExplorerError(error, 'CLOSED')) return throwError(() => error)
  ctx.diagnostics.report(code, error)
  const ceiling = Math.min(ctx.maxBackoffMs, ctx.backoffMs * 2 ** (attempt - 1))
  return timer(Math.round(ceiling * (0.5 + 0.5 * ctx.random())), ctx.scheduler)
}

const others = (ctx: JoinContext, ids: string[]): number[] => ids.map(parseId).filter((id) => id !== ctx.ring.id)

