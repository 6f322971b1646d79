import type { FastifyInstance } from 'fastify'

/** Serves one generated HTML page at `path` with its own Content-Security-Policy, never cached. */
export function serveHtml(app: FastifyInstance, path: string, html: string, csp: string): void {
  app.get(path, async (_request, reply) => {
    void reply
      .type('text/html; charset=utf-8')
      .header('content-security-policy', csp)
      .header('x-content-type-options', 'nosniff')
      .header('cache-control', 'no-cache')
    return html
  })
}
