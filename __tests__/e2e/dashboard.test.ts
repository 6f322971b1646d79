/**
 * The live ring dashboard in Debian's Chromium (playwright-core): a real
 * signalling server, raw WebSocket peers that join and report ring state, and
 * the page at GET / drawing them. Saves docs/images/dashboard.png.
 */
import { mkdirSync } from 'node:fs'
import { join } from 'node:path'
import type { AddressInfo } from 'node:net'
import type { FastifyInstance } from 'fastify'
import type { Browser, Page } from 'playwright-core'
import WebSocket from 'ws'
import { createSignalServer } from '../../signal-server/server'
import { registerDashboard } from '../../signal-server/dashboard'
import { launchChromium } from './browser'
import { signAs, toBase64url } from '../../src/identity'
import { joinProofText } from '../../src/protocol/signal-server'
import { convergedReports, expectedFingerLinks, fixtureIdentities, fixtureIds, RING, type Report } from './ring-fixture'

const SCREENSHOT = join(__dirname, '..', '..', 'docs', 'images', 'dashboard.png')

let app: FastifyInstance
let base: string
let browser: Browser
const clients = new Map<string, WebSocket>()

/** Opens a socket and joins as `id` (proving its fixture identity's key); resolves once the server said `joined`. */
async function joinPeer(id: string): Promise<WebSocket> {
  const identity = fixtureIdentities.get(id)!
  const ws = new WebSocket(`${base.replace('http', 'ws')}/ws`)
  await new Promise<void>((resolve, reject) => {
    ws.once('error', reject)
    ws.on('message', (raw) => {
      const msg = JSON.parse(raw.toString()) as { type: string; code?: string; nonce?: string }
      if (msg.type === 'challenge') {
        void signAs(identity, new TextEncoder().encode(joinProofText(msg.nonce!, id))).then((sig) =>
          ws.send(JSON.stringify({ type: 'join', id, key: toBase64url(identity.publicKey), sig: toBase64url(sig) })),
        )
      } else if (msg.type === 'joined') resolve()
      else if (msg.type === 'error') reject(new Error(`join ${id}: ${msg.code}`))
    })
  })
  clients.set(id, ws)
  return ws
}

function report(id: string, r: Report): void {
  clients.get(id)!.send(JSON.stringify(r))
}

async function reportAll(reports: Map<string, Report>): Promise<void> {
  for (const [id, r] of reports) report(id, r)
  // The server handles one socket's frames in order; a /ring read after a round trip sees them all.
  await waitFor(async () => {
    const ring = (await (await fetch(`${base}/ring`)).json()) as { reports: Record<string, { successors: string[] }> }
    return [...reports].every(([id, r]) => ring.reports[id]?.successors.join() === r.successors.join())
  })
}

async function waitFor(check: () => Promise<boolean>): Promise<void> {
  while (!(await check())) await new Promise((r) => setTimeout(r, 20))
}

async function leave(id: string): Promise<void> {
  const ws = clients.get(id)!
  clients.delete(id)
  await new Promise<void>((resolve) => {
    ws.once('close', () => resolve())
    ws.close()
  })
}

const count = (page: Page, key: string): Promise<string> => page.locator(`[data-count="${key}"]`).innerText()

/** Waits until the side panel shows these counts (the page polls /ring). */
async function waitForCounts(page: Page, expected: Record<string, number>): Promise<void> {
  await page.waitForFunction(
    (exp) => Object.entries(exp).every(([k, v]) => document.querySelector(`[data-count="${k}"]`)?.textContent === String(v)),
    expected,
  )
}

beforeAll(async () => {
  app = createSignalServer({ dashboard: registerDashboard, heartbeatIntervalMs: 0, admission: false })
  await app.listen({ port: 0, host: '127.0.0.1' })
  base = `http://127.0.0.1:${(app.server.address() as AddressInfo).port}`
  browser = await launchChromium()
})

afterAll(async () => {
  await browser?.close()
  for (const ws of clients.values()) ws.terminate()
  await app?.close()
})

describe('ring dashboard (GET /)', () => {
  it('is one self-contained HTML page: inline script and style, nothing fetched from elsewhere', async () => {
    const res = await fetch(`${base}/`)
    expect(res.status).toBe(200)
    expect(res.headers.get('content-type')).toMatch(/^text\/html/)
    const csp = res.headers.get('content-security-policy')!
    expect(csp).toMatch(/default-src 'none'/)
    expect(csp).toMatch(/connect-src 'self'/)
    const html = await res.text()
    expect(html).not.toMatch(/<script[^>]*\ssrc=/i)
    expect(html).not.toMatch(/<link[^>]*\shref="(?!data:)/i)
    expect(html).not.toMatch(/https?:\/\/(?!www\.w3\.org\/2000\/svg)/)
  })

  it('draws every peer by id with its successor and finger links, and follows joins and leaves', async () => {
    const ids = fixtureIds(13)
    const context = await browser.newContext({ viewport: { width: 1480, height: 940 } })
    const page = await context.newPage()
    const pageErrors: string[] = []
    page.on('pageerror', (e) => pageErrors.push(e.message))
    page.on('console', (m) => {
      if (m.type() === 'error') pageErrors.push(m.text())
    })
    try {
      await page.goto(`${base}/?poll=150`)
      await waitForCounts(page, { peers: 0 })
      expect(await page.locator('#empty').isVisible()).toBe(true)

      // 1. Twelve peers join and report a converged ring.
      const first = ids.slice(0, 12)
      for (const id of first) await joinPeer(id)
      let reports = convergedReports(first)
      await reportAll(reports)
      await waitForCounts(page, { peers: 12, reported: 12, successors: 12, stale: 0 })
      expect(await page.locator('#ring .peer').count()).toBe(12)
      expect(await page.locator('#ring .peer.reported').count()).toBe(12)
      expect(await page.locator('#ring path.link.successor:not(.stale)').count()).toBe(12)
      expect(await page.locator('#ring path.link.finger').count()).toBe(expectedFingerLinks(reports))
      expect(Number(await count(page, 'fingers'))).toBe(expectedFingerLinks(reports))
      // Each successor link goes from a peer to the next one clockwise.
      const sorted = first.slice().sort()
      const succLinks = await page.locator('#ring path.link.successor').evaluateAll((els) => els.map((e) => [e.getAttribute('data-from'), e.getAttribute('data-to')]))
      expect(new Map(succLinks as Array<[string, string]>)).toEqual(new Map(sorted.map((id, i) => [id, sorted[(i + 1) % sorted.length]!])))

      // Peers sit on the ring circle at angle = id / 2^48, clockwise from the top, labelled by id prefix.
      const ring = await page.locator('#ring .ringline').evaluate((c) => ({ cx: Number(c.getAttribute('cx')), cy: Number(c.getAttribute('cy')), r: Number(c.getAttribute('r')) }))
      const drawn = await page.locator('#ring .peer').evaluateAll((gs) =>
        gs.map((g) => {
          const c = g.querySelector('circle')!
          return { id: g.getAttribute('data-id')!, x: Number(c.getAttribute('cx')), y: Number(c.getAttribute('cy')), label: g.querySelector('text')?.textContent }
        }),
      )
      expect(drawn.map((d) => d.id).sort()).toEqual(sorted)
      for (const d of drawn) {
        const a = (parseInt(d.id, 16) / RING) * 2 * Math.PI
        expect(d.x).toBeCloseTo(ring.cx + ring.r * Math.sin(a), 1)
        expect(d.y).toBeCloseTo(ring.cy - ring.r * Math.cos(a), 1)
        expect(d.label).toBe(d.id.slice(0, 6))
      }

      // 2. A peer leaves: it disappears, and the links that still point at it show as stale.
      const gone = sorted[5]!
      await leave(gone)
      const remaining = first.filter((id) => id !== gone)
      let staleExpected = 0
      for (const id of remaining) {
        const r = reports.get(id)!
        if (r.successors[0] === gone || r.fingers.some((f) => f.id === gone)) staleExpected++
      }
      expect(staleExpected).toBeGreaterThan(0)
      await waitForCounts(page, { peers: 11, reported: 11, stale: staleExpected })
      expect(await page.locator(`#ring .peer[data-id="${gone}"]`).count()).toBe(0)
      expect(await page.locator('#ring path.link.stale').count()).toBe(staleExpected)
      expect(await page.locator(`#ring path.link[data-to="${gone}"]`).count()).toBe(staleExpected)

      // 3. The ring repairs: fresh reports, no stale link left.
      reports = convergedReports(remaining)
      await reportAll(reports)
      await waitForCounts(page, { peers: 11, reported: 11, successors: 11, stale: 0, fingers: expectedFingerLinks(reports) })

      // 4. Two newcomers join; until they report, their predecessors' successor links skip them.
      const newcomers = ids.slice(12).concat(fixtureIds(20, 99).filter((id) => !ids.includes(id)).slice(0, 1))
      for (const id of newcomers) await joinPeer(id)
      await waitForCounts(page, { peers: 13, reported: 11 })
      expect(await page.locator('#ring .peer:not(.reported)').count()).toBe(2)
      expect(Number(await count(page, 'stale'))).toBeGreaterThan(0)

      // 5. Everyone reports the converged 13-peer ring.
      const all = remaining.concat(newcomers)
      reports = convergedReports(all)
      await reportAll(reports)
      await waitForCounts(page, { peers: 13, reported: 13, successors: 13, stale: 0, fingers: expectedFingerLinks(reports) })
      expect(await page.locator('#ring .peer').count()).toBe(13)
      expect(await page.locator('#peer-rows tr').count()).toBe(13)

      mkdirSync(join(SCREENSHOT, '..'), { recursive: true })
      await page.screenshot({ path: SCREENSHOT })
      expect(pageErrors).toEqual([])
    } finally {
      await context.close()
    }
  })
})
