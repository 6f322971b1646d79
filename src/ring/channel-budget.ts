import type { SchedulerLike } from 'rxjs'
import type { RelayedLinks } from '../links/relayed-links'
import type { ChannelSet } from '../router/channel-set'
import type { RingState } from './state'

export interface ChannelBudgetComponents {
  channels: ChannelSet
  state: RingState
  /** A channel that relays one of our links is needed as much as the link. */
  links: Pick<RelayedLinks, 'relaysThrough'>
  scheduler: SchedulerLike
}

export interface ChannelBudgetInit {
  /** Direct channels kept at most. */
  maxChannels: number
  connectTimeoutMs: number
}

/**
 * Over the channel budget, the least recently used channels we do not need
 * ourselves are closed. Channels are shared with the remote, which may route
 * through them, so they are reclaimed only under pressure, never eagerly
 * (browsers cap the RTCPeerConnections a tab may ever make).
 */
export class ChannelBudget {
  constructor(
    private readonly components: ChannelBudgetComponents,
    private readonly init: ChannelBudgetInit,
  ) {}

  /** A channel came up: close spare ones while over budget. */
  prune(): void {
    const { channels, state, links, scheduler } = this.components
    let excess = channels.size - this.init.maxChannels
    if (excess <= 0) return
    // A peer still joining through us holds a channel that is not routable
    // yet: leave it its join time, or a burst of joiners would starve each other.
    const graceUntil = scheduler.now() - 2 * this.init.connectTimeoutMs
    const spare = channels
      .remotes()
      .filter((id) => !state.isNeeded(id) && !links.relaysThrough(id) && (channels.isRoutable(id) || (channels.openedAt(id) ?? 0) < graceUntil))
      .sort((a, b) => (channels.lastUsed(a) ?? 0) - (channels.lastUsed(b) ?? 0))
    for (const id of spare) {
      if (excess-- <= 0) break
      channels.close(id)
    }
  }
}
