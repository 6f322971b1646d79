import { createHash } from 'node:crypto'
/**
 * The browser bundles (scripts/build-browser.ts) in Chromium: built from
 * src/index.ts into a temporary folder, loaded as a classic script (global
 * WebRTCExplorer) and as an ES module, with no error and the public API there.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { Browser } from 'playwright-core'
import { buildBrowser, type BrowserBuild } from '../../scripts/build-browser'
import { launchChromium } from './browser'

let browser: Browser
let out: string
let built: BrowserBuild

beforeAll(async () => {
  out = mkdtempSync(join(tmpdir(), 'webrtc-explorer-bundle-'))
  built = await buildBrowser(undefined, out)
  browser = await launchChromium()
})

afterAll(async () => {
  await browser?.close()
  if (out) rmSync(out, { recursive: true, force: true })
})

describe('browser bundle', () => {
  it('carries no Node-only package: simple-peer from source with its few shims, ws and @roamhq/wrtc not at all', () => {
    const sources = Object.keys(built.bytesBySource)
    expect(sources).toEqual(expect.arrayContaining(['src', 'rxjs', 'simple-peer', 'shims', 'events']))
    for (const nodeOnly of ['ws', '@roamhq/wrtc', 'readable-stream', 'buffer', 'debug', 'fastify']) expect(sources).not.toContain(nodeOnly)
  })

  it('loads in Chromium as a script tag (global WebRTCExplorer) and as an ES module', async () => {
    const page = await browser.newPage()
    const errors: string[] = []
    page.on('pageerror', (e) => errors.push(e.message))
    try {
      await page.setContent('<!doctype html><title>bundle</title>')
      await page.addScriptTag({ content: readFileSync(built.iife, 'utf8') })
      const api = await page.evaluate(async () => {
        const w = (window as unknown as { WebRTCExplorer: Record<string, unknown> }).WebRTCExplorer
        const identity = await (w.createIdentity as () => Promise<{ id: string; publicKey: Uint8Array; export(): Uint8Array }>)()
        const again = await (w.importIdentity as (seed: Uint8Array) => Promise<{ id: string }>)(identity.export())
        // A page set with setContent is not a secure context: no crypto.subtle, the noble fallback makes the key.
        return { createExplorer: typeof w.createExplorer, id: identity.id, again: again.id, key: [...identity.publicKey], subtle: typeof crypto.subtle }
      })
      expect(api.createExplorer).toBe('function')
      expect(api.subtle).toBe('undefined')
      expect(api.again).toBe(api.id)
      expect(api.id).toBe(createHash('sha256').update(Uint8Array.from(api.key)).digest('hex').slice(0, 12))

      // The ES module, imported from a blob URL.
      const esm = readFileSync(built.esm, 'utf8')
      // A string, not a function: compiled to CommonJS, a function's import() would become require().
      const exported = (await page.evaluate(`(async () => {
        const url = URL.createObjectURL(new Blob([${JSON.stringify(esm)}], { type: 'text/javascript' }))
        return Object.keys(await import(url)).sort()
      })()`)) as string[]
      expect(exported).toEqual(expect.arrayContaining(['createExplorer', 'createIdentity', 'importIdentity']))
      expect(errors).toEqual([])
    } finally {
      await page.close()
    }
  })
})
