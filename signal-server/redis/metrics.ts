/** Upper bounds (seconds) of the Redis round-trip histogram. */
const BUCKETS = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5]

/** Per-instance figures of a clustered server, rendered after the server's own. */
export class ClusterMetrics {
  /** Signals handed to Redis for a peer at another instance. */
  forwarded = 0
  /** Of those, the ones published straight to the peer's instance by a cached route (no script). */
  direct = 0
  /** Signals that came from another instance and reached a peer here. */
  received = 0
  /** Signals from another instance for a peer no longer here, after it had been asked once more (or from an earlier version). */
  dropped = 0
  /** Signals from another instance for a peer not here, sent back to that instance to ask Redis again (a stale route). */
  bounced = 0
  /** Failed Redis commands (refused while disconnected, timed out, or answered with an error). */
  errors = 0
  /** Full re-registrations of this instance's ids (after an outage or a lapsed lease). */
  resyncs = 0
  /** Local peers whose id another instance owned after a re-registration. */
  evictions = 0
  /** The pub/sub connection came back after a loss (signals published meanwhile are lost). */
  resubscribes = 0
  private readonly counts = new Array<number>(BUCKETS.length + 1).fill(0)
  private sum = 0

  /** One Redis round trip took `seconds`. */
  observe(seconds: number): void {
    let i = 0
    while (i < BUCKETS.length && seconds > BUCKETS[i]) i++
    this.counts[i]++
    this.sum += seconds
  }

  render(state: { up: boolean; clusterPeers: number | null }): string {
    const lines: string[] = []
    const metric = (name: string, type: string, help: string, value: number) =>
      lines.push(`# HELP ${name} ${help}`, `# TYPE ${name} ${type}`, `${name} ${value}`)
    metric('signal_redis_up', 'gauge', 'Both Redis connections (commands, pub/sub) are ready.', state.up ? 1 : 0)
    if (state.clusterPeers !== null) metric('signal_cluster_peers', 'gauge', 'Peers joined at all instances, as last read from Redis.', state.clusterPeers)
    metric('signal_relays_forwarded_total', 'counter', 'Signals sent through Redis to a peer at another instance.', this.forwarded)
    metric('signal_relays_direct_total', 'counter', 'Of those, signals published straight to the instance of their peer, by a route learnt before.', this.direct)
    metric('signal_relays_received_total', 'counter', 'Signals from another instance delivered to a peer here.', this.received)
    metric('signal_relays_dropped_total', 'counter', 'Signals from another instance whose peer had left.', this.dropped)
    metric('signal_relays_bounced_total', 'counter', 'Signals from another instance whose peer was not here, sent back to be routed again.', this.bounced)
    metric('signal_redis_errors_total', 'counter', 'Redis commands that failed or timed out.', this.errors)
    metric('signal_registry_resyncs_total', 'counter', 'Re-registrations of this instance\'s ids in Redis.', this.resyncs)
    metric('signal_redis_resubscribes_total', 'counter', 'Reconnections of the pub/sub connection (each may have lost signals in flight; Redis drops a subscriber that lags past its client-output-buffer-limit).', this.resubscribes)
    metric('signal_registry_evictions_total', 'counter', 'Peers dropped because another instance owned their id after a re-registration.', this.evictions)
    const name = 'signal_redis_command_duration_seconds'
    lines.push(`# HELP ${name} Round trips of Redis commands and scripts.`, `# TYPE ${name} histogram`)
    let cumulative = 0
    BUCKETS.forEach((le, i) => {
      cumulative += this.counts[i]
      lines.push(`${name}_bucket{le="${le}"} ${cumulative}`)
    })
    cumulative += this.counts[BUCKETS.length]
    lines.push(`${name}_bucket{le="+Inf"} ${cumulative}`, `${name}_sum ${this.sum}`, `${name}_count ${cumulative}`)
    return lines.join('\n') + '\n'
  }
}
