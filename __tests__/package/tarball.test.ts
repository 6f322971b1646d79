/**
 * The package as users get it: both tarballs packed (prepack builds them),
 * installed into temporary apps, and run there. Node ESM and CommonJS apps
 * join a ring and echo through it; a TypeScript consumer type-checks without
 * skipLibCheck; a browser app bundled by esbuild runs in Chromium against a
 * Node peer, with one copy of RxJS; a browser-only install gets nothing of the
 * server; every file of examples/ runs against the installed packages.
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process'
import { cpSync, mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { Browser } from 'playwright-core'
import { launchChromium } from '../e2e/browser'
import { ROOT, installed, installedPackages, makeApp, packBoth, type Tarball } from './pack'

const SERVER_PACKAGES = ['fastify', '@fastify/websocket', 'ajv', 'ws', 'pino', 'webrtc-explorer-signal-server']

let packs: string
let client: Tarball
let server: Tarball
let app: string
const cleanup: string[] = []

/** Runs `node file` in the app; its last stdout line is JSON. */
function runNode(file: string): Record<string, unknown> {
  const out = execFileSync(process.execPath, [file], { cwd: app, encoding: 'utf8', timeout: 120_000 })
  return JSON.parse(out.trim().split('\n').pop()!)
}

/** tsc in the app; its output ('' when clean). */
function tsc(project: string): string {
  try {
    execFileSync(process.execPath, [join(app, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', project], { cwd: app, encoding: 'utf8' })
    return ''
  } catch (error) {
    return String((error as { stdout?: string }).stdout)
  }
}

beforeAll(() => {
  packs = mkdtempSync(join(tmpdir(), 'webrtc-explorer-packs-'))
  cleanup.push(packs)
  ;({ client, server } = packBoth(packs))
  app = makeApp([client.file, server.file, ...['rxjs', 'ws', '@roamhq/wrtc', 'typescript', 'esbuild', '@types/node'].map(installed)], true)
  cleanup.push(app)
}, 300_000)

afterAll(() => {
  for (const dir of cleanup) rmSync(dir, { recursive: true, force: true })
})

describe('the packed tarballs', () => {
  it('ship dist/, README, LICENSE, CHANGELOG and package.json, nothing else', () => {
    for (const { files } of [client, server]) {
      expect(files.filter((f) => !/^(dist\/|README\.md$|LICENSE$|CHANGELOG\.md$|package\.json$)/.test(f))).toEqual([])
      expect(files).toEqual(expect.arrayContaining(['README.md', 'LICENSE', 'CHANGELOG.md', 'package.json']))
    }
    expect(client.files).toEqual(expect.arrayContaining(['dist/index.mjs', 'dist/index.cjs', 'dist/browser.mjs', 'dist/index.d.mts', 'dist/index.d.cts']))
    expect(server.files).toEqual(expect.arrayContaining(['dist/index.mjs', 'dist/index.cjs', 'dist/cli.mjs', 'dist/index.d.mts']))
  })

  it('a Node ES module app joins a ring through the installed server and gets its echo', () => {
    const result = runNode('esm.mjs')
    expect(result).toMatchObject({ reply: 'hello from esm', peersIsObservable: true, deadServerCode: 'SIGNAL_FAILED' })
  })

  it('a Node CommonJS app does the same with require()', () => {
    expect(runNode('cjs.cjs')).toEqual({ reply: 'hello from cjs', peersIsObservable: true, misuse: 'BAD_OPTIONS' })
  })

  it('a TypeScript consumer type-checks without skipLibCheck (nodenext ESM and CommonJS, and bundler resolution)', () => {
    // One error, and the one wrong.mts makes on purpose: the types are real, not `any`.
    expect(tsc('tsconfig.json').trim().split('\n')).toEqual([expect.stringMatching(/^wrong\.mts\(4,14\): error TS2322: Type 'string' is not assignable to type 'number'/)])
    expect(tsc('tsconfig.bundler.json')).toBe('')
  })

  describe('a browser app bundled by esbuild', () => {
    let meta: { inputs: Record<string, unknown> }
    let host: ChildProcess | undefined
    let browser: Browser | undefined

    beforeAll(() => {
      execFileSync(process.execPath, ['bundle.mjs'], { cwd: app, encoding: 'utf8' })
      meta = JSON.parse(readFileSync(join(app, 'out', 'meta.json'), 'utf8'))
    })

    afterAll(async () => {
      await browser?.close()
      host?.kill('SIGTERM')
    })

    it('takes our browser build, one RxJS build, and nothing of Node or the server', () => {
      const inputs = Object.keys(meta.inputs)
      expect(inputs).toContain('node_modules/webrtc-explorer/dist/browser.mjs')
      const rxjsBuilds = new Set(inputs.filter((i) => i.startsWith('node_modules/rxjs/')).map((i) => i.split('/').slice(0, 4).join('/')))
      expect([...rxjsBuilds]).toEqual(['node_modules/rxjs/dist/esm5'])
      const foreign = inputs.filter((i) => /node_modules\/(simple-peer|readable-stream|buffer|ws|@roamhq|fastify)\//.test(i))
      expect(foreign).toEqual([])
    })

    it('runs in Chromium: joins, dials a Node peer, gets the echo, and its peers$ is the app\'s Observable', async () => {
      host = spawn(process.execPath, ['host.mjs'], { cwd: app, stdio: ['ignore', 'pipe', 'inherit'] })
      const line = await new Promise<string>((resolve, reject) => {
        let buffered = ''
        host!.stdout!.on('data', (chunk: Buffer) => {
          buffered += chunk.toString()
          if (buffered.includes('\n')) resolve(buffered.split('\n')[0]!)
        })
        host!.once('exit', (code) => reject(new Error(`host.mjs exited with ${code}`)))
      })
      const { page: url, signal, peer } = JSON.parse(line) as { page: string; signal: string; peer: string }
      browser = await launchChromium()
      const page = await browser.newPage()
      const errors: string[] = []
      page.on('pageerror', (e) => errors.push(e.message))
      await page.goto(`${url}?signal=${encodeURIComponent(signal)}&peer=${peer}`)
      const result = await page.evaluate(() => window.result)
      expect(result).toEqual({ reply: 'hello from the browser', peersIsObservable: true })
      expect(errors).toEqual([])
    })
  })

  describe('examples/, run against the installed packages', () => {
    const examples = readdirSync(join(ROOT, 'examples')).filter((f) => f.endsWith('.mjs'))
    // What each example says it prints (its `// ...` comments after a console.log).
    const promised = (file: string): string[] =>
      [...readFileSync(join(ROOT, 'examples', file), 'utf8').matchAll(/console\.log\(.*\/\/ (.+)$/gm)].map((m) => m[1]!.trim())

    beforeAll(() => cpSync(join(ROOT, 'examples'), join(app, 'examples'), { recursive: true }))

    it.each(examples)('%s runs and prints what its comments promise', (file) => {
      const out = execFileSync(process.execPath, [join('examples', file)], { cwd: app, encoding: 'utf8', timeout: 120_000 })
      const lines = out.trim().split('\n')
      const expected = promised(file)
      expect(expected.length).toBeGreaterThan(0)
      for (const line of expected) expect(lines).toContain(line)
    })

    it('docs/api.md\'s complete example is examples/complete.mjs, verbatim', () => {
      const api = readFileSync(join(ROOT, 'docs', 'api.md'), 'utf8')
      const block = /## A complete example[\s\S]*?```js\n([\s\S]*?)```/.exec(api)?.[1]
      expect(block).toBe(readFileSync(join(ROOT, 'examples', 'complete.mjs'), 'utf8'))
    })
  })

  it('a browser-only install (webrtc-explorer and rxjs) gets nothing of the server', () => {
    const browserApp = makeApp([client.file, installed('rxjs')], false)
    cleanup.push(browserApp)
    const packages = installedPackages(browserApp)
    expect(packages).toEqual(expect.arrayContaining(['webrtc-explorer', 'rxjs', 'simple-peer']))
    expect(packages.filter((p) => SERVER_PACKAGES.includes(p))).toEqual([])
  })
})

declare global {
  interface Window {
    result: Promise<unknown>
  }
}
