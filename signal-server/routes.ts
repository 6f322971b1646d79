import type { FastifyInstance } from 'fastify'
import type { Metrics } from './metrics'
import type { PeerRegistry, RingSnapshot } from './peer-registry'

/** `GET /health`, `/metrics` and `/ring`. Clustered, they speak for the whole ring and for this instance. */
export function registerRoutes(app: FastifyInstance, registry: PeerRegistry, metrics: Metrics, connections: () => number): void {
  app.get('/health', async () => {
    const health = registry.health()
    if (!registry.clustered) return { status: 'ok', peers: health.peers }
    return {
      status: health.available ? 'ok' : 'degraded',
      peers: health.peers,
      instancePeers: health.instancePeers,
      redis: health.available ? 'up' : 'down',
    }
  })

  app.get('/metrics', async (_request, reply) => {
    void reply.type('text/plain; version=0.0.4; charset=utf-8')
    return metrics.render(registry.localSize, connections()) + registry.metrics()
  })

  app.get('/ring', async (_request, reply): Promise<RingSnapshot | { error: string; message: string }> => {
    try {
      return await registry.snapshot()
    } catch {
      void reply.code(503)
      return { error: 'REGISTRY_UNAVAILABLE', message: 'the shared registry is unreachable; retry later' }
    }
  })
}
