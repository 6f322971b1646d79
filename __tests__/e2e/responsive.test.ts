/**
 * The demo chat page and the ring dashboard at phone width (390 px) and on a
 * desktop (1280 px): nothing wider than the screen, nothing on top of
 * anything else, a chat pane that takes the room there is; and honest state
 * once the peers and then the server are gone (the page says it is alone and
 * that the server is unreachable, a message to a closed chat says it was not
 * sent, the dashboard says its ring is the last one seen). Saves
 * docs/images/{demo,dashboard}-{390,1280}.png.
 */
import { mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { AddressInfo } from 'node:net'
import type { FastifyInstance } from 'fastify'
import type { Browser, Page } from 'playwright-core'
import { buildBrowser } from '../../scripts/build-browser'
import { createSignalServer, registerDashboard, registerDemo } from '../../signal-server/index'
import { launchChromium } from './browser'
import { dialFromPage, nodeReply, say, sees, startNodePeer, until, type NodePeer } from './demo-peers'

const IMAGES = join(__dirname, '..', '..', 'docs', 'images')
const WIDTHS = [
  { width: 390, height: 844 },
  { width: 1280, height: 800 },
] as const

let app: FastifyInstance
let base: string
let browser: Browser
const nodes: NodePeer[] = []
const pageErrors: string[] = []

beforeAll(async () => {
  const out = mkdtempSync(join(tmpdir(), 'webrtc-explorer-responsive-'))
  try {
    const bundle = readFileSync((await buildBrowser(undefined, out)).iife, 'utf8')
    app = createSignalServer({ rateLimit: false, dashboard: (a) => registerDashboard(a, { pollMs: 250 }) })
    registerDemo(app, { bundle })
  } finally {
    rmSync(out, { recursive: true, force: true })
  }
  await app.listen({ port: 0, host: '127.0.0.1' })
  base = `http://127.0.0.1:${(app.server.address() as AddressInfo).port}`
  for (let i = 0; i < 2; i++) nodes.push(await startNodePeer(`${base.replace('http', 'ws')}/ws`))
  browser = await launchChromium()
  mkdirSync(IMAGES, { recursive: true })
}, 120_000)

afterAll(async () => {
  await browser?.close()
  await Promise.all(nodes.map((n) => n.explorer.close()))
  await app?.close()
})

async function open(path: string, size: { width: number; height: number }): Promise<Page> {
  const page = await (await browser.newContext({ viewport: size })).newPage()
  page.on('pageerror', (e) => pageErrors.push(`${path} ${size.width}: ${e.message}`))
  await page.goto(base + path)
  return page
}

type Box = { x: number; y: number; width: number; height: number }
const overlap = (a: Box, b: Box): boolean => a.x < b.x + b.width && b.x < a.x + a.width && a.y < b.y + b.height && b.y < a.y + a.height
const box = async (page: Page, selector: string): Promise<Box> => (await page.locator(selector).first().boundingBox())!
/** How far the page is wider than the viewport (0: no sideways scrolling). */
const overflow = (page: Page): Promise<number> => page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth)

describe.each(WIDTHS)('at $width px', (size) => {
  it('the demo page fits, its dial box and chat pane take the room, and a chat works', async () => {
    const page = await open('/demo', size)
    await page.locator('#status[data-state="joined"]').waitFor({ timeout: 40_000 })
    const node = nodes[0]!
    await dialFromPage(page, node.id)
    for (const text of ['hello', 'from a page this wide']) {
      await say(page, 'out', node.id, text)
      await sees(page, 'out', node.id, nodeReply(node.id, text))
    }
    await page.screenshot({ path: join(IMAGES, `demo-${size.width}.png`) })
    expect(await overflow(page)).toBe(0)
    const input = await box(page, '#dial-id')
    const dial = await box(page, '#dial')
    // The id fits in the box (12 characters), the button beside it, not under it.
    expect(input.width).toBeGreaterThan(150)
    expect(Math.abs(input.y - dial.y)).toBeLessThan(input.height)
    // The chat takes the room the viewport has left under the dial box: it ends near the bottom, inside the screen.
    const chat = await box(page, '.chat')
    expect(chat.y + chat.height).toBeLessThanOrEqual(size.height)
    expect(chat.y + chat.height).toBeGreaterThan(size.height * 0.85)
    expect(chat.width).toBeGreaterThan(size.width * (size.width < 600 ? 0.9 : 0.5))
    // At phone width the dial box and chat come first, the peer's tables after.
    if (size.width < 600) expect((await box(page, '.talk')).y).toBeLessThan((await box(page, '.side')).y)
    await page.context().close()
  })

  it('the dashboard fits: the ring and the cards side by side or stacked, never on top of each other', async () => {
    const page = await open('/', size)
    await page.locator('#status.ok').waitFor()
    await until(async () => (await page.locator('.peer').count()) >= 2, () => 'the peers drawn')
    expect(await overflow(page)).toBe(0)
    const ring = await box(page, '.stage')
    for (const card of await page.locator('aside .card').all()) expect(overlap(ring, (await card.boundingBox())!)).toBe(false)
    expect(ring.width).toBeGreaterThan(size.width * (size.width < 600 ? 0.85 : 0.4))
    await page.screenshot({ path: join(IMAGES, `dashboard-${size.width}.png`) })
    await page.context().close()
  })
})

describe('honest state once everyone is gone', () => {
  it('the page says it is alone, a message to a closed chat was not sent, and the server is unreachable; the dashboard shows its ring as last seen', async () => {
    const page = await open('/demo', { width: 390, height: 844 })
    await page.locator('#status[data-state="joined"]').waitFor({ timeout: 40_000 })
    const dashboard = await open('/', { width: 390, height: 844 })
    await dashboard.locator('#status.ok').waitFor()
    const node = nodes[1]!
    await dialFromPage(page, node.id)
    await say(page, 'out', node.id, 'still there?')
    await sees(page, 'out', node.id, nodeReply(node.id, 'still there?'))

    // The Node peers leave: their sockets close, their channels go.
    await Promise.all(nodes.splice(0).map((n) => n.explorer.close()))
    const chat = page.locator(`.chat[data-remote="${node.id}"]`)
    await chat.locator('.chat-status', { hasText: 'closed' }).waitFor({ timeout: 20_000 })
    await page.locator('#status[data-state="alone"]').waitFor({ timeout: 30_000 })
    expect(await page.locator('#status').innerText()).toMatch(/alone/)
    // The closed chat cannot take a message, and says so instead of swallowing it.
    await page.evaluate(() => {
      const input = document.querySelector<HTMLInputElement>('.chat .text')!
      input.disabled = false
      input.value = 'anyone?'
      input.form!.requestSubmit()
    })
    await chat.locator('.msg.note', { hasText: 'not sent' }).waitFor()

    // The server goes: the page and the dashboard say so.
    await app.close()
    await page.locator('#server[data-state="down"]').waitFor({ timeout: 20_000 })
    expect(await page.locator('#server').innerText()).toMatch(/unreachable/)
    await dashboard.locator('#status.down').waitFor({ timeout: 20_000 })
    expect(await dashboard.locator('#status').innerText()).toMatch(/last seen/)
    expect(await dashboard.evaluate(() => document.body.classList.contains('stale'))).toBe(true)
    expect(pageErrors).toEqual([])
  })
})
