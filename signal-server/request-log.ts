import { LogController, type FastifyReply, type FastifyRequest } from 'fastify'

/**
 * Fastify logs two lines per HTTP request at info; a dashboard tab polling
 * /ring every second would fill an info log. Requests are logged at debug;
 * a failed one still at error.
 */
export class DebugRequestLog extends LogController {
  override incomingRequest(request: FastifyRequest): void {
    request.log.debug({ method: request.method, url: request.url }, 'incoming request')
  }

  override requestCompleted(error: Error | null | undefined, request: FastifyRequest, reply: FastifyReply): void {
    if (error) super.requestCompleted(error, request, reply)
    else reply.log.debug({ method: request.method, url: request.url, statusCode: reply.statusCode, ms: Math.round(reply.elapsedTime) }, 'request completed')
  }
}
