import type { FastifyInstance } from 'fastify'
import { dashboardPage } from './page'
import { serveHtml } from '../html-route'

export interface DashboardOptions {
  /** Where the page is served. Default `/`. */
  path?: string
  /** How often the page polls `GET /ring`, in ms (a `?poll=` query parameter overrides it). Default 1000. */
  pollMs?: number
}

/**
 * Serves the live ring dashboard: one self-contained HTML page (inline CSS and
 * JS, nothing fetched from elsewhere) that polls `GET /ring` and draws the
 * peers on a circle by id with their successor and finger links.
 *
 *   createSignalServer({ dashboard: registerDashboard })
 *   createSignalServer({ dashboard: (app) => registerDashboard(app, { pollMs: 500 }) })
 */
export function registerDashboard(app: FastifyInstance, options: DashboardOptions = {}): void {
  const path = options.path ?? '/'
  const pollMs = options.pollMs ?? 1000
  if (!path.startsWith('/')) throw new TypeError(`registerDashboard: path must start with "/", got ${JSON.stringify(path)}`)
  if (!(Number.isFinite(pollMs) && pollMs >= 100)) throw new TypeError(`registerDashboard: pollMs must be a number >= 100, got ${String(pollMs)}`)
  // The page finds /ring relative to itself: works at / and behind a proxy prefix alike.
  const depth = path.split('/').length - 2
  const ringUrl = (depth > 0 ? '../'.repeat(depth) : './') + 'ring'
  const { html, csp } = dashboardPage({ ringUrl, pollMs })
  serveHtml(app, path, html, csp)
}

export { analyseRing, ringFraction, ringPoint, type RingJson, type RingModel, type Link } from './client'
