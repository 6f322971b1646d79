import type { Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import type { FastifyBaseLogger } from 'fastify'
import type { IceServer, IceServersMessage } from '../src/protocol/signal-server'
import { iceServersFor, type ResolvedIceOptions } from './ice-servers'
import { StunResponder } from './stun'

/** What the service needs of a session: who it is, the name it reached us by, when it last got credentials. */
export interface IceSession {
  id: string | null
  host: string | null
  iceIssuedAt: number
  closing: boolean
}

/**
 * The server's ICE side: hands each joined peer its ICE servers, renews TURN
 * credentials at half their lifetime (an `ice-servers` message), and runs
 * the STUN responder, bound when the HTTP server starts listening (on its
 * address, by default on its port number). A responder that cannot bind
 * (the UDP port is taken) is logged and left out of what peers are handed.
 */
export class IceService {
  private readonly responder = new StunResponder()
  private stunPort: number | null = null
  private renewal: NodeJS.Timeout | null = null

  constructor(
    private readonly ice: ResolvedIceOptions,
    private readonly log: FastifyBaseLogger,
  ) {}

  /** STUN binding responses sent so far. */
  get stunAnswered(): number {
    return this.responder.answered
  }

  /** Binds the STUN responder once `server` listens. */
  attach(server: Server): void {
    const stun = this.ice.stun
    if (stun === null) return
    server.once('listening', () => {
      const { address, port } = server.address() as AddressInfo
      const wanted = stun.port ?? port
      // A known port is advertised at once (joins right after listen() get it too); a random one once bound.
      if (wanted !== 0) this.stunPort = wanted
      this.responder.listen(wanted, address).then(
        (bound) => {
          this.stunPort = bound
          this.log.info({ port: bound, address }, 'answering STUN binding requests')
        },
        (error: Error) => {
          this.stunPort = null
          this.log.warn({ err: error }, 'cannot answer STUN: peers are not handed our STUN server')
        },
      )
    })
  }

  /** The ICE servers for a peer that has just joined as `id`. */
  issue(session: IceSession, id: string): IceServer[] {
    session.iceIssuedAt = Date.now()
    return iceServersFor(this.ice, id, session.host, this.stunPort, session.iceIssuedAt)
  }

  /** From now on, sessions whose TURN credentials are half-way through their life get fresh ones through `send`. */
  startRenewals<S extends IceSession>(sessions: Iterable<S>, send: (session: S, text: string) => void): void {
    const turn = this.ice.turn
    if (turn === null) return
    const halfLife = (turn.ttlSeconds * 1000) / 2
    // Checked often enough to renew within a tenth of the lifetime of the due time.
    const every = Math.min(60_000, Math.max(100, turn.ttlSeconds * 100))
    this.renewal = setInterval(() => {
      const now = Date.now()
      for (const s of sessions) {
        if (s.id === null || s.closing || now - s.iceIssuedAt < halfLife) continue
        const message: IceServersMessage = { type: 'ice-servers', iceServers: this.issue(s, s.id) }
        send(s, JSON.stringify(message))
      }
    }, every)
    this.renewal.unref()
  }

  close(): void {
    if (this.renewal !== null) clearInterval(this.renewal)
    this.renewal = null
    this.responder.close()
  }
}
