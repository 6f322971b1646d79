import type { FastifyInstance, FastifyReply } from 'fastify'
import { demoPage } from './page'
import { serveHtml } from '../html-route'

export interface DemoOptions {
  /**
   * The library's browser bundle as a classic script (the IIFE build of
   * scripts/build-browser.ts, global `WebRTCExplorer`): its JavaScript source.
   * The server does not build it; `npm start` builds it with esbuild at start.
   */
  bundle: string
  /** Where the page is served. Default `/demo`; its scripts are served under `<path>/`. */
  path?: string
}

/**
 * Serves the demo chat page: a browser peer that joins the overlay through
 * this server's `/ws`, shows its id, successor, predecessor, finger table and
 * direct channels live, dials any id and chats over routed sockets.
 *
 *   GET /demo                          the page (strict CSP: only its own scripts)
 *   GET /demo/webrtc-explorer.min.js   the library bundle given as `bundle`
 *   GET /demo/app.js                   the page's UI (signal-server/demo/client.ts)
 *
 * Register it on the app createSignalServer() returned, before listen():
 *
 *   const app = createSignalServer({ dashboard: registerDashboard })
 *   registerDemo(app, { bundle: readFileSync('dist/browser/webrtc-explorer.min.js', 'utf8') })
 */
export function registerDemo(app: FastifyInstance, options: DemoOptions): void {
  const path = options.path ?? '/demo'
  if (!/^\/[^?#]*[^/?#]$/.test(path)) throw new TypeError(`registerDemo: path must start with "/" and not end with one, got ${JSON.stringify(path)}`)
  if (typeof options.bundle !== 'string' || options.bundle.length === 0) throw new TypeError('registerDemo: bundle must be the browser bundle\'s JavaScript source')
  // Relative URLs: the page works at any path and behind a proxy prefix alike.
  const segments = path.split('/')
  const depth = segments.length - 2
  const signalPath = (depth > 0 ? '../'.repeat(depth) : './') + 'ws'
  const scriptPath = `${segments[segments.length - 1]}/`
  const { html, csp, app: appScript } = demoPage({ signalPath }, scriptPath)
  // The source map is not served: drop the comment that points at it.
  const bundle = options.bundle.replace(/\n\/\/# sourceMappingURL=\S+\s*$/, '\n')

  serveHtml(app, path, html, csp)
  const script = (source: string) => async (_request: unknown, reply: FastifyReply) => {
    void reply.type('text/javascript; charset=utf-8').header('x-content-type-options', 'nosniff').header('cache-control', 'no-cache')
    return source
  }
  app.get(`${path}/webrtc-explorer.min.js`, script(bundle))
  app.get(`${path}/app.js`, script(appScript))
}

export { demoPage, type DemoPage } from './page'
export { describeError, fingerStartOf, signalUrlOf, type DemoConfig } from './client'
