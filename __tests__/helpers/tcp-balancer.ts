import net from 'node:net'

/**
 * A round-robin TCP load balancer on loopback, as HAProxy in `mode tcp` would
 * be: each connection goes to the next backend, and to the one after it when a
 * backend refuses (the WebSocket upgrade passes through untouched). Peers see
 * one URL whatever instance serves them.
 */
export class TcpBalancer {
  private next = 0
  private readonly server: net.Server
  private readonly sockets = new Set<net.Socket>()

  private constructor(private readonly backends: number[]) {
    this.server = net.createServer((client) => {
      const first = this.next
      this.next = (this.next + 1) % this.backends.length
      this.route(client, first, 0)
    })
  }

  static async start(backends: number[]): Promise<TcpBalancer> {
    const balancer = new TcpBalancer(backends)
    await new Promise<void>((resolve) => balancer.server.listen(0, '127.0.0.1', resolve))
    return balancer
  }

  get port(): number {
    return (this.server.address() as net.AddressInfo).port
  }

  /** Tries the backends in turn from `first` (each connection its own turn: concurrent ones must not skip a live backend). */
  private route(client: net.Socket, first: number, tried: number): void {
    if (tried === this.backends.length) return void client.destroy()
    const port = this.backends[(first + tried) % this.backends.length]
    const upstream = net.connect({ port, host: '127.0.0.1' })
    client.pause()
    // Refused before connecting: that backend is down; try the next.
    upstream.once('error', () => this.route(client, first, tried + 1))
    upstream.once('connect', () => {
      upstream.removeAllListeners('error')
      this.sockets.add(client).add(upstream)
      const drop = () => {
        client.destroy()
        upstream.destroy()
        this.sockets.delete(client)
        this.sockets.delete(upstream)
      }
      client.on('error', drop).on('close', drop)
      upstream.on('error', drop).on('close', drop)
      client.pipe(upstream)
      upstream.pipe(client)
      client.resume()
    })
  }

  async close(): Promise<void> {
    for (const s of this.sockets) s.destroy()
    await new Promise((resolve) => this.server.close(resolve))
  }
}
