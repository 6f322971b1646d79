import { EMPTY, Observable, catchError, concat, defer, filter, finalize, ignoreElements, map, merge, of, share, switchMap, take, throwError, timer, type SchedulerLike } from 'rxjs'
import { ExplorerError } from '../errors'
import { formatId } from '../ids'
import type { RelayedLinks } from '../links/relayed-links'
import type { ChannelSet } from '../router/channel-set'
import type { OverlaySignalling } from './overlay-signalling'
import type { PathWatch } from './path-watch'
import type { UnreachablePeers } from './unreachable-peers'

export interface ReachComponents {
  channels: ChannelSet
  signalling: OverlaySignalling
  links: RelayedLinks
  paths: PathWatch
  unreachable: UnreachablePeers
  scheduler: SchedulerLike
}

export interface ReachInit {
  /** A direct attempt whose remote answered but that opened nothing for this long gets a relayed link beside it. */
  relayAfterMs: number
}

/**
 * How the ring gets a channel to a peer (`RingRequests.reach$`): a direct
 * one, signalled through the overlay, when it can; a relayed link when it
 * cannot. A peer that answered our set-up but never connected (ICE found
 * no path) is remembered (UnreachablePeers) and not tried directly again
 * while it is backed off: the relayed link goes at once, or, with links
 * off, the attempt fails at once. While a direct attempt runs, a remote that
 * answered but is not connected after `relayAfterMs` gets a relayed link
 * too; a direct channel that opens later takes the link's place.
 * All-reachable rings (the simulation) never get that far: a direct channel
 * opens as soon as the answer comes.
 */
export class Reach {
  /** Relayed links being opened, shared by concurrent callers. */
  private readonly opening = new Map<number, Observable<void>>()

  constructor(
    private readonly components: ReachComponents,
    private readonly init: ReachInit,
  ) {}

  /** Emits `peer` once we have a channel to it (at once if we have); errors when none can be had. */
  reach$(peer: number, route: number[] | null = null): Observable<number> {
    return defer(() => {
      const { channels, signalling, links, paths, unreachable, scheduler } = this.components
      if (channels.has(peer)) return of(undefined)
      if (unreachable.backedOff(peer)) return links.enabled ? this.relayed$(peer, route) : throwError(() => this.noPath(peer))
      const direct$ = signalling.ensureChannel$(peer, route).pipe(
        // It answered yet never connected (the watch has just said so): no direct path.
        catchError((error) => (links.enabled && unreachable.backedOff(peer) ? this.relayed$(peer, route) : throwError(() => error))),
      )
      if (!links.enabled) return direct$
      const beside$ = timer(this.init.relayAfterMs, scheduler).pipe(
        filter(() => paths.heardFrom(peer) && !channels.has(peer)),
        // A link that fails here leaves the direct attempt to finish on its own.
        switchMap(() => this.relayed$(peer, route).pipe(catchError(() => EMPTY))),
      )
      return merge(direct$, beside$).pipe(take(1))
    }).pipe(map(() => peer))
  }

  private relayed$(peer: number, route: number[] | null): Observable<void> {
    let shared = this.opening.get(peer)
    if (shared === undefined) {
      shared = this.components.links.open$(peer, route).pipe(
        finalize(() => this.opening.delete(peer)),
        share(),
      )
      this.opening.set(peer, shared)
    }
    return concat(shared.pipe(ignoreElements()), of(undefined))
  }

  private noPath(peer: number): ExplorerError {
    const { unreachable, scheduler } = this.components
    const wait = Math.max(0, (unreachable.retryAt(peer) ?? scheduler.now()) - scheduler.now())
    return new ExplorerError('SIGNAL_FAILED', `no direct path to ${formatId(peer)} (${unreachable.failures(peer)} attempts failed; next in ${Math.ceil(wait / 1000)} s) and relayed links are off`)
  }
}
