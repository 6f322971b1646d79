/**
 * The demo chat page (signal-server/demo, GET /demo) end to end: a real
 * signalling server, 4 Node peers (@roamhq/wrtc) and 4 Chromium pages, each in
 * its own browser context, that load the page and join. The 8 form one ring
 * (the Node peers' state, every page's display, GET /ring and the dashboard
 * agree), and every ordered pair dials and chats, the browser side through
 * the page's UI. Saves docs/images/demo.png.
 */
import { mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { AddressInfo } from 'node:net'
import type { FastifyInstance } from 'fastify'
import type { Browser, BrowserContext, Page } from 'playwright-core'
import { buildBrowser } from '../../scripts/build-browser'
import { createSignalServer, registerDashboard, registerDemo } from '../../signal-server'
import { launchChromium } from './browser'
import { act, chat, dialFromPage, pane, panes, say, sees, startNodePeer, until, type BrowserPeer, type NodePeer, type Peer } from './demo-peers'

const SCREENSHOT = join(__dirname, '..', '..', 'docs', 'images', 'demo.png')
const PAGES = 4
const NODES = 4

let out: string
let app: FastifyInstance
let base: string
let browser: Browser
const contexts: BrowserContext[] = []
const nodes: NodePeer[] = []
const pages: BrowserPeer[] = []
const pageErrors: string[] = []

/** successor and predecessor of every id on the ring of `ids` (12-hex ids sort like the numbers). */
function expectedRing(ids: string[]): Map<string, { successor: string; predecessor: string }> {
  const sorted = ids.slice().sort()
  return new Map(sorted.map((id, i) => [id, { successor: sorted[(i + 1) % sorted.length]!, predecessor: sorted[(i - 1 + sorted.length) % sorted.length]! }]))
}

/** The peer responsible for `key` on the ring of `ids`: the first at or after it, wrapping. */
function ownerOf(ids: string[], key: string): string {
  const sorted = ids.slice().sort()
  return sorted.find((id) => id >= key) ?? sorted[0]!
}

/** What a page displays: its id, successor, predecessor, finger rows, direct channels. */
async function displayed(page: Page) {
  return page.evaluate(() => ({
    id: document.getElementById('my-id')!.textContent!,
    status: document.getElementById('status')!.dataset.state,
    successor: document.getElementById('successor')!.dataset.id ?? '',
    predecessor: document.getElementById('predecessor')!.dataset.id ?? '',
    fingers: Array.from(document.querySelectorAll('#fingers tr')).map((tr) => ({
      row: Number((tr as HTMLElement).dataset.row),
      start: tr.querySelector('.start')!.textContent!,
      peer: tr.querySelector('button.id')!.textContent!,
    })),
    peers: Array.from(document.querySelectorAll('#peers button.id')).map((b) => b.textContent!),
  }))
}

const allPeers = (): Peer[] => [...nodes, ...pages]
const allIds = (): string[] => allPeers().map((p) => p.id)

/** Every wrong successor/predecessor, as seen by the Node peers, the pages and GET /ring; empty when the ring is right. */
async function ringErrors(): Promise<string[]> {
  const want = expectedRing(allIds())
  const errors: string[] = []
  const check = (who: string, id: string, successor: string | null | undefined, predecessor: string | null | undefined) => {
    const w = want.get(id)!
    if (successor !== w.successor) errors.push(`${who} ${id}: successor ${successor} ≠ ${w.successor}`)
    if (predecessor !== w.predecessor) errors.push(`${who} ${id}: predecessor ${predecessor} ≠ ${w.predecessor}`)
  }
  for (const n of nodes) {
    const s = n.explorer.snapshot()
    check('node', n.id, s.successors[0], s.predecessor)
  }
  for (const p of pages) {
    const d = await displayed(p.page)
    check('page', p.id, d.successor, d.predecessor)
  }
  const ring = (await (await fetch(`${base}/ring`)).json()) as { peers: string[]; reports: Record<string, { successors: string[]; predecessor: string | null }> }
  if (ring.peers.slice().sort().join() !== [...want.keys()].join()) errors.push(`/ring peers ${ring.peers.join()}`)
  for (const id of want.keys()) check('/ring', id, ring.reports[id]?.successors[0], ring.reports[id]?.predecessor)
  return errors
}

beforeAll(async () => {
  out = mkdtempSync(join(tmpdir(), 'webrtc-explorer-demo-'))
  const bundle = readFileSync((await buildBrowser(undefined, out)).iife, 'utf8')
  app = createSignalServer({
    rateLimit: false,
    heartbeatIntervalMs: 0,
    dashboard: (a) => {
      registerDashboard(a)
      registerDemo(a, { bundle })
    },
  })
  await app.listen({ port: 0, host: '127.0.0.1' })
  base = `http://127.0.0.1:${(app.server.address() as AddressInfo).port}`
  browser = await launchChromium()
}, 60_000)

// Everything closes at once: one by one, each explorer may wait out its sockets' and server link's timeouts.
afterAll(async () => {
  await Promise.all([
    Promise.all(contexts.map((c) => c.close().catch(() => undefined))).then(() => browser?.close()),
    ...nodes.map((n) => {
      n.dialled.forEach((s) => s.close())
      return n.explorer.close()
    }),
  ])
  await app?.close()
  if (out) rmSync(out, { recursive: true, force: true })
}, 120_000)

describe('demo chat page (GET /demo)', () => {
  it('is served beside the dashboard with its own strict CSP: only its own scripts', async () => {
    const res = await fetch(`${base}/demo`)
    expect(res.status).toBe(200)
    expect(res.headers.get('content-type')).toMatch(/^text\/html/)
    const csp = res.headers.get('content-security-policy')!
    expect(csp).toMatch(/default-src 'none'/)
    expect(csp).toMatch(/script-src 'self'(;|$)/)
    const html = await res.text()
    const scripts = [...html.matchAll(/<script([^>]*)>([\s\S]*?)<\/script>/g)]
    expect(scripts.map((m) => /src="([^"]+)"/.exec(m[1]!)?.[1])).toEqual(['demo/webrtc-explorer.min.js', 'demo/app.js'])
    expect(scripts.every((m) => m[2] === '')).toBe(true) // no inline script
    for (const path of ['/demo/webrtc-explorer.min.js', '/demo/app.js']) {
      const js = await fetch(`${base}${path}`)
      expect(js.status).toBe(200)
      expect(js.headers.get('content-type')).toMatch(/^text\/javascript/)
    }
    expect(await (await fetch(`${base}/demo/app.js`)).text()).toMatch(/startDemo\(\{"signalPath":".\/ws"\}\);/)
    // The dashboard is still at /, with its own policy.
    const dash = await fetch(`${base}/`)
    expect(dash.status).toBe(200)
    expect(await dash.text()).toMatch(/live ring/)
  })

  it('4 Node peers and 4 Chromium pages join one ring; every page, the Node peers, /ring and the dashboard show it right', async () => {
    for (let i = 0; i < NODES; i++) nodes.push(await startNodePeer(`${base.replace('http', 'ws')}/ws`))
    await Promise.all(
      Array.from({ length: PAGES }, async (_, i) => {
        const context = await browser.newContext({ viewport: { width: 1360, height: 900 } })
        contexts.push(context)
        const page = await context.newPage()
        page.on('pageerror', (e) => pageErrors.push(`page ${i}: ${e.message}`))
        page.on('console', (m) => {
          if (m.type() === 'error') pageErrors.push(`page ${i}: ${m.text()}`)
        })
        await page.goto(`${base}/demo`)
        await page.locator('#status[data-state="joined"]').waitFor({ timeout: 40_000 })
        const id = await page.locator('#my-id').innerText()
        expect(id).toMatch(/^[0-9a-f]{12}$/)
        pages.push({ kind: 'browser', id, page })
      }),
    )
    expect(new Set(allIds()).size).toBe(NODES + PAGES)

    let last: string[] = []
    await until(
      async () => (last = await ringErrors()).length === 0,
      () => `one correct ring of ${NODES + PAGES}:\n  ${last.join('\n  ')}`,
      45_000,
    )

    // The dashboard draws the same ring: 8 peers reporting, 8 successor links, each to the next peer clockwise.
    const context = await browser.newContext({ viewport: { width: 1480, height: 940 } })
    contexts.push(context)
    const dash = await context.newPage()
    await dash.goto(`${base}/?poll=200`)
    const counts = { peers: 8, reported: 8, successors: 8, stale: 0 }
    await dash.waitForFunction(
      (exp) => Object.entries(exp).every(([k, v]) => document.querySelector(`[data-count="${k}"]`)?.textContent === String(v)),
      counts,
      { timeout: 20_000 },
    )
    const links = await dash.locator('#ring path.link.successor').evaluateAll((els) => els.map((e) => [e.getAttribute('data-from')!, e.getAttribute('data-to')!]))
    expect(new Map(links as Array<[string, string]>)).toEqual(new Map([...expectedRing(allIds())].map(([id, r]) => [id, r.successor])))
  }, 120_000)

  it('each page shows its finger table (row, start = id + 2^row, the peer responsible for the start) and its direct channels', async () => {
    const ids = allIds()
    let wrong: string[] = []
    await until(
      async () => {
        wrong = []
        for (const p of pages) {
          const d = await displayed(p.page)
          if (d.fingers.length === 0) wrong.push(`${p.id}: no finger rows`)
          for (const f of d.fingers) {
            const start = ((parseInt(p.id, 16) + 2 ** f.row) % 2 ** 48).toString(16).padStart(12, '0')
            if (f.start !== start) wrong.push(`${p.id} row ${f.row}: start ${f.start} ≠ ${start}`)
            if (f.peer !== ownerOf(ids, start)) wrong.push(`${p.id} row ${f.row}: ${f.peer} ≠ owner ${ownerOf(ids, start)}`)
          }
          if (d.peers.length === 0 || d.peers.some((id) => !ids.includes(id) || id === p.id)) wrong.push(`${p.id}: channels ${d.peers.join()}`)
        }
        return wrong.length === 0
      },
      () => `every page's finger table right:\n  ${wrong.join('\n  ')}`,
      40_000,
    )
    // Clicking an id in the finger table fills the dial box.
    const { page } = pages[0]!
    const cell = page.locator('#fingers button.id').first()
    const target = await cell.innerText()
    await page.locator('#dial-id').fill('')
    await cell.click()
    expect(await page.locator('#dial-id').inputValue()).toBe(target)
  }, 60_000)

  it('every ordered pair dials and chats: browser↔browser, browser↔Node, Node↔browser (and Node↔Node)', async () => {
    const peers = allPeers()
    const label = (p: Peer) => `${p.kind} ${p.id}`
    // Every peer dials everyone else, one after another; the 8 diallers run at once.
    await Promise.all(
      peers.map(async (from) => {
        for (const to of peers) {
          if (to === from) continue
          try {
            await chat(from, to, `hello ${to.id}, this is ${from.id}`)
          } catch (error) {
            const dump = async (p: Peer) => (p.kind === 'browser' ? `\n${label(p)} panes:\n${(await p.page.locator('#chats').innerText()).slice(0, 3000)}` : '')
            throw new Error(`chat ${label(from)} → ${label(to)}: ${(error as Error).message}${await dump(from)}${await dump(to)}`, { cause: error })
          }
        }
      }),
    )
    // Each page has one pane per socket: 7 it dialled, 7 dialled to it, each with one message each way.
    for (const p of pages) {
      expect(await p.page.locator('.chat[data-dir="out"]').count()).toBe(NODES + PAGES - 1)
      expect(await p.page.locator('.chat[data-dir="in"]').count()).toBe(NODES + PAGES - 1)
    }
    const bodies = await pane(pages[0]!.page, 'in', pages[1]!.id).locator('.msg .body').allTextContents()
    expect(bodies).toEqual([`hello ${pages[0]!.id}, this is ${pages[1]!.id}`, `re: hello ${pages[0]!.id}, this is ${pages[1]!.id}`])
  }, 120_000)

  it('shows coded errors (PEER_NOT_FOUND, BAD_ID), remote markup as plain text, and Close ends a chat on both sides', async () => {
    const { page } = pages[0]!
    const ids = allIds()
    let nobody = '000000000001'
    while (ids.includes(nobody)) nobody = (parseInt(nobody, 16) + 1).toString(16).padStart(12, '0')
    await page.locator('#dial-id').fill(nobody)
    await page.locator('#dial').click()
    await page.locator('#error', { hasText: 'PEER_NOT_FOUND' }).waitFor({ timeout: 20_000 })
    expect(await page.locator(`.chat[data-remote="${nobody}"]`).count()).toBe(0)

    await page.locator('#dial-id').fill('not-an-id')
    await page.locator('#dial').click()
    await page.locator('#error', { hasText: 'BAD_ID' }).waitFor()

    // A good dial afterwards clears the error and opens one more pane.
    const [a, b] = [pages[0]!, pages[1]!]
    expect(await panes(page, 'out', b.id).count()).toBe(1)
    await dialFromPage(page, b.id)
    await until(async () => (await panes(page, 'out', b.id).count()) === 2, () => `a second pane for ${b.id}`, 20_000)
    expect(await page.locator('#error').isHidden()).toBe(true)

    // Remote text is shown as text: markup in a message makes no element and runs nothing.
    const markup = `<img src=x onerror="document.title='pwned'"><b>bold?</b> & friends`
    await say(a.page, 'out', b.id, markup)
    await sees(b.page, 'in', a.id, markup)
    await say(b.page, 'in', a.id, 'Got it: plain text, nothing ran.')
    await sees(a.page, 'out', b.id, 'Got it: plain text, nothing ran.')
    for (const p of [a, b]) {
      expect(await p.page.locator('.messages img, .messages b').count()).toBe(0)
      expect(await p.page.title()).toBe(`webrtc-explorer · ${p.id}`)
    }

    // The screenshot for the docs: page 0: its ring state, finger table, channels and chats.
    mkdirSync(join(SCREENSHOT, '..'), { recursive: true })
    await page.evaluate(() => window.scrollTo(0, 0))
    await page.screenshot({ path: SCREENSHOT })

    // Close ends the chat on both sides.
    await act(a.page, () => pane(a.page, 'out', b.id).locator('button.close').click())
    await pane(b.page, 'in', a.id).and(b.page.locator('[data-state="closed"]')).waitFor({ timeout: 20_000 })
    expect(await pane(a.page, 'out', b.id).getAttribute('data-state')).toBe('closed')

    expect(pageErrors).toEqual([])
  }, 60_000)
})
