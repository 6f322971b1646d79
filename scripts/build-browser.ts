/**
 * Minified browser bundles of src/index.ts (esbuild), for `npm start`'s demo page and
 * the browser tests (the published package's are built by scripts/build.ts):
 *   <outdir>/webrtc-explorer.min.js      IIFE, global `WebRTCExplorer` (script tag)
 *   <outdir>/webrtc-explorer.esm.min.js  ES module (import from a page or a CDN)
 * Both carry every dependency (rxjs, simple-peer) and no Node-only code: simple-peer is
 * bundled from its source with only the shims it needs, `ws` / `@roamhq/wrtc` become
 * nothing (scripts/browser-shims.ts); the build then checks from esbuild's metafile that
 * nothing Node-only got in.
 *
 *   tsx scripts/build-browser.ts [--entry src/index.ts] [--outdir .bench-out/browser]
 */
import { existsSync } from 'node:fs'
import { isAbsolute, join, relative, resolve } from 'node:path'
import { parseArgs } from 'node:util'
import { build, type Metafile } from 'esbuild'
import { browserShims } from './browser-shims'

export const ROOT = resolve(__dirname, '..')
export const GLOBAL_NAME = 'WebRTCExplorer'

export interface BrowserBuild {
  iife: string
  esm: string
  /** Bytes in the IIFE bundle per source: `src`, or the npm package name. */
  bytesBySource: Record<string, number>
}

/** Inputs that must never reach a browser bundle. */
const FORBIDDEN: Array<[RegExp, string]> = [
  [/(^|\/)node_modules\/ws\//, 'ws (Node WebSocket)'],
  [/(^|\/)node_modules\/@roamhq\/wrtc\//, '@roamhq/wrtc (native WebRTC for Node)'],
  [/(^|\/)node_modules\/(readable-stream|buffer|safe-buffer|debug)\//, 'a Node shim simple-peer does not need (scripts/shims/)'],
  [/(^|\/)node_modules\/(fastify|ajv|pino)\//, 'a Node-only package'],
  [/(^|\/)signal-server\//, 'the signalling server'],
  [/^node:|^(fs|net|tls|http|https|crypto|stream|child_process|worker_threads)$/, 'a Node built-in module'],
]

function checkInputs(metafile: Metafile): void {
  const bad: string[] = []
  for (const input of Object.keys(metafile.inputs)) {
    // "node-only:…" is a package a browser never loads: an empty stub.
    if (input.startsWith('node-only:')) continue
    for (const [pattern, what] of FORBIDDEN) if (pattern.test(input)) bad.push(`${input}: ${what}`)
  }
  for (const output of Object.values(metafile.outputs)) {
    for (const imp of output.imports) if (imp.external) bad.push(`external import left in the bundle: ${imp.path}`)
  }
  if (bad.length) throw new Error(`browser bundle contains Node-only code:\n  ${bad.join('\n  ')}`)
}

function bySource(metafile: Metafile, outfile: string): Record<string, number> {
  const out = Object.entries(metafile.outputs).find(([path]) => resolve(ROOT, path) === outfile)
  const sizes: Record<string, number> = {}
  for (const [input, { bytesInOutput }] of Object.entries(out?.[1].inputs ?? {})) {
    if (input.startsWith('node-only:')) continue
    const m = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(input)
    const key = m ? m[1]! : input.startsWith('scripts/shims/') ? 'shims' : 'src'
    sizes[key] = (sizes[key] ?? 0) + bytesInOutput
  }
  return sizes
}

export async function buildBrowser(entry = join(ROOT, 'src', 'index.ts'), outdir = join(ROOT, '.bench-out', 'browser')): Promise<BrowserBuild> {
  if (!existsSync(entry)) {
    throw new Error(`${relative(ROOT, entry) || entry} does not exist: the browser bundle is built from the library's public entry (src/index.ts)`)
  }
  const common = {
    ...browserShims,
    entryPoints: [entry],
    absWorkingDir: ROOT,
    bundle: true,
    minify: true,
    sourcemap: true,
    // ES2020: every current browser with RTCDataChannel.
    target: 'es2020',
    // rxjs's ES2015 build: smaller than its ES5 default, and no tslib helpers.
    conditions: ['es2015'],
    define: { ...browserShims.define, 'process.env.NODE_ENV': '"production"' },
    legalComments: 'eof' as const,
    metafile: true,
    logLevel: 'warning' as const,
  }
  const iife = join(outdir, 'webrtc-explorer.min.js')
  const esm = join(outdir, 'webrtc-explorer.esm.min.js')
  const [a, b] = await Promise.all([
    build({ ...common, format: 'iife', globalName: GLOBAL_NAME, outfile: iife }),
    build({ ...common, format: 'esm', outfile: esm }),
  ])
  checkInputs(a.metafile!)
  checkInputs(b.metafile!)
  return { iife, esm, bytesBySource: bySource(a.metafile!, iife) }
}

if (require.main === module) {
  const { values } = parseArgs({ options: { entry: { type: 'string' }, outdir: { type: 'string' } } })
  const abs = (p: string | undefined): string | undefined => (p === undefined ? undefined : isAbsolute(p) ? p : resolve(process.cwd(), p))
  buildBrowser(abs(values.entry), abs(values.outdir)).then(
    (r) => {
      process.stdout.write(`browser bundles: ${relative(process.cwd(), r.iife)} (global ${GLOBAL_NAME}), ${relative(process.cwd(), r.esm)}\n`)
    },
    (err: unknown) => {
      process.stderr.write(`build-browser: ${(err as Error).message}\n`)
      process.exit(1)
    },
  )
}
