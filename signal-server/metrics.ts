import { ERROR_CODES, type SignalErrorCode } from './protocol'

export type CloseReason = 'flood' | 'heartbeat' | 'oversize' | 'stuck' | 'shutdown'
export type RejectReason = 'origin' | 'capacity'

/** Plain counters, rendered as Prometheus text exposition on demand. */
export class Metrics {
  connectionsTotal = 0
  messagesReceived = 0
  messagesRelayed = 0
  joinsTotal = 0
  hintsSent = 0
  readonly errors = Object.fromEntries(ERROR_CODES.map((c) => [c, 0])) as Record<SignalErrorCode, number>
  readonly closed: Record<CloseReason, number> = { flood: 0, heartbeat: 0, oversize: 0, stuck: 0, shutdown: 0 }
  readonly rejectedUpgrades: Record<RejectReason, number> = { origin: 0, capacity: 0 }

  render(peers: number, connections: number): string {
    const lines: string[] = []
    const metric = (name: string, type: string, help: string, samples: Array<[string, number]>) => {
      lines.push(`# HELP ${name} ${help}`, `# TYPE ${name} ${type}`)
      for (const [labels, value] of samples) lines.push(`${name}${labels} ${value}`)
    }
    metric('signal_peers', 'gauge', 'Peers currently joined.', [['', peers]])
    metric('signal_connections', 'gauge', 'WebSocket connections currently open.', [['', connections]])
    metric('signal_connections_total', 'counter', 'WebSocket connections accepted.', [['', this.connectionsTotal]])
    metric('signal_joins_total', 'counter', 'Successful joins.', [['', this.joinsTotal]])
    metric('signal_messages_received_total', 'counter', 'Client messages received.', [['', this.messagesReceived]])
    metric('signal_hints_total', 'counter', 'Successor hints sent to peers whose ring skipped a closer peer.', [['', this.hintsSent]])
    metric('signal_messages_relayed_total', 'counter', 'Signal messages relayed to their target.', [['', this.messagesRelayed]])
    metric('signal_errors_total', 'counter', 'Error replies sent, by code.',
      ERROR_CODES.map((c) => [`{code="${c}"}`, this.errors[c]]))
    metric('signal_sockets_closed_total', 'counter', 'Sockets closed by the server, by reason.',
      (Object.keys(this.closed) as CloseReason[]).map((r) => [`{reason="${r}"}`, this.closed[r]]))
    metric('signal_upgrades_rejected_total', 'counter', 'WebSocket upgrades refused, by reason.',
      (Object.keys(this.rejectedUpgrades) as RejectReason[]).map((r) => [`{reason="${r}"}`, this.rejectedUpgrades[r]]))
    metric('process_resident_memory_bytes', 'gauge', 'Resident set size in bytes.', [['', process.memoryUsage.rss()]])
    return lines.join('\n') + '\n'
  }
}
