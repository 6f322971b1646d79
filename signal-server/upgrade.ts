import type { FastifyRequest } from 'fastify'
import type { ServerResponse } from 'node:http'
import type { WebSocket } from 'ws'

/**
 * Once upgraded, nothing should keep the HTTP request alive: @fastify/websocket's
 * error listener closes over the Fastify request and reply, and the ServerResponse
 * it created stays assigned to the TCP socket. Dropping both saves a few KiB per
 * connection (tens of MiB at 10,000 peers). `onError` replaces their error listener.
 */
export function releaseUpgradeRequest(socket: WebSocket, request: FastifyRequest, onError: (this: WebSocket, error: Error) => void): void {
  // Add ours before removing theirs: emptying a listener slot `delete`s it, which
  // turns the emitter's _events into a slow dictionary object (~200 bytes more).
  const theirs = socket.listeners('error') as Array<(...args: unknown[]) => void>
  socket.on('error', onError)
  for (const listener of theirs) socket.removeListener('error', listener)
  const tcp = request.raw.socket as (typeof request.raw.socket & { _httpMessage?: ServerResponse | null }) | null
  const response = tcp?._httpMessage
  if (tcp && response) response.detachSocket(tcp)
}
