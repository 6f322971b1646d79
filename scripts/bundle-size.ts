/**
 * What the library costs a browser app, next to PeerJS, measured the same way
 * in the same run: a one-line app that imports the package by name, bundled by
 * esbuild for the browser (default conditions, as an app bundler resolves
 * them; minified), then gzip -9 and brotli (q 11).
 *
 *   webrtc-explorer  the package as built (dist/, `browser` condition), with the app's rxjs
 *   PeerJS           the `peerjs` package (devDependency), the same way; and its prebuilt
 *                    dist/peerjs.min.js (what a <script> tag loads)
 *
 * Then what each part of ours costs: minified bytes per package and per src/
 * folder, and per package the gzipped bytes the app would save without it (the
 * bundle with that package left out). @noble/* and any other dependency show
 * up here as soon as the client imports them.
 *
 *   npm run bundle-size [-- --json]
 */
import { mkdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs'
import { join, relative } from 'node:path'
import { parseArgs } from 'node:util'
import { brotliCompressSync, constants, gzipSync } from 'node:zlib'
import { build, type BuildOptions, type Metafile } from 'esbuild'
import { browserShims } from './browser-shims'
import { buildClient, ROOT } from './build'

const OUT = join(ROOT, '.bench-out', 'bundle-size')

interface Size {
  name: string
  bytes: number
  gzip: number
  brotli: number
}

const gzip = (data: Uint8Array): number => gzipSync(data, { level: 9 }).length

function measure(name: string, data: Uint8Array): Size {
  const brotli = brotliCompressSync(data, { params: { [constants.BROTLI_PARAM_QUALITY]: 11, [constants.BROTLI_PARAM_SIZE_HINT]: data.length } }).length
  return { name, bytes: data.length, gzip: gzip(data), brotli }
}

/** Uses each export, so nothing is shaken out that an app calling the API would keep. */
const APPS = {
  ours: "import { createExplorer } from 'webrtc-explorer'\nconst explorer = createExplorer({ signalUrl: 'wss://example.org/ws' })\nexplorer.listen().then(() => console.log(explorer.id))\n",
  peerjs: "import { Peer } from 'peerjs'\nconst peer = new Peer()\npeer.on('open', (id) => console.log(id))\n",
}

const appBuild = (entry: string, extra: BuildOptions = {}): BuildOptions => ({
  entryPoints: [entry],
  bundle: true,
  minify: true,
  write: false,
  format: 'esm',
  platform: 'browser',
  metafile: true,
  logLevel: 'error',
  ...extra,
})

/** An app folder whose node_modules/webrtc-explorer is this repository (so `exports` is read as from an install). */
function writeApps(): { ours: string; peerjs: string } {
  rmSync(OUT, { recursive: true, force: true })
  mkdirSync(join(OUT, 'node_modules'), { recursive: true })
  symlinkSync(ROOT, join(OUT, 'node_modules', 'webrtc-explorer'), 'dir')
  const ours = join(OUT, 'ours.mjs')
  const peerjs = join(OUT, 'peerjs.mjs')
  writeFileSync(ours, APPS.ours)
  writeFileSync(peerjs, APPS.peerjs)
  return { ours, peerjs }
}

/** Package name or src/ folder of a bundled input. */
function partOf(input: string): string {
  const m = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(input)
  if (m) return m[1]!
  if (input.startsWith('scripts/shims/')) return 'simple-peer shims'
  const src = /^src\/([^/]+)\//.exec(input)
  return src ? `src/${src[1]}` : input.startsWith('src/') ? 'src (top)' : input
}

function minifiedBytesByPart(metafile: Metafile): Map<string, number> {
  const parts = new Map<string, number>()
  for (const output of Object.values(metafile.outputs)) {
    for (const [input, { bytesInOutput }] of Object.entries(output.inputs)) {
      if (input.startsWith('node-only:') || input.startsWith('.bench-out/') || bytesInOutput === 0) continue
      parts.set(partOf(input), (parts.get(partOf(input)) ?? 0) + bytesInOutput)
    }
  }
  return parts
}

interface Part {
  part: string
  minified: number
  /** Gzipped bytes saved without this package (packages only). */
  gzipSaved?: number
}

/** The same app from src/ (the inputs esbuild sees are our files), to see what each part costs. */
async function breakdown(): Promise<{ total: Size; parts: Part[] }> {
  const entry = join(OUT, 'ours-from-source.ts')
  writeFileSync(entry, APPS.ours.replace("'webrtc-explorer'", `'${relative(OUT, join(ROOT, 'src', 'index')).replace(/\\/g, '/')}'`))
  const options = appBuild(entry, { ...browserShims, absWorkingDir: ROOT })
  const full = await build(options)
  const bytes = full.outputFiles![0]!.contents
  const parts: Part[] = [...minifiedBytesByPart(full.metafile!)].map(([part, minified]) => ({ part, minified }))
  for (const p of parts) {
    if (p.part.startsWith('src') || p.part.includes(' ')) continue
    const without = await build({ ...options, external: [p.part, `${p.part}/*`] })
    p.gzipSaved = gzip(bytes) - gzip(without.outputFiles![0]!.contents)
  }
  parts.sort((a, b) => b.minified - a.minified)
  return { total: measure('webrtc-explorer (app from src/)', bytes), parts }
}

const kib = (n: number): string => `${(n / 1024).toFixed(1)} KiB`

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { json: { type: 'boolean' } } })
  await buildClient()
  const apps = writeApps()
  const [ours, peerjs] = await Promise.all([build(appBuild(apps.ours, { absWorkingDir: OUT })), build(appBuild(apps.peerjs, { nodePaths: [join(ROOT, 'node_modules')] }))])
  const peerVersion = JSON.parse(readFileSync(join(ROOT, 'node_modules', 'peerjs', 'package.json'), 'utf8')).version as string
  const rows = [
    measure('webrtc-explorer (app)', ours.outputFiles![0]!.contents),
    measure(`PeerJS ${peerVersion} (app)`, peerjs.outputFiles![0]!.contents),
    measure(`PeerJS ${peerVersion} (peerjs.min.js)`, readFileSync(join(ROOT, 'node_modules', 'peerjs', 'dist', 'peerjs.min.js'))),
  ]
  const inputs = Object.keys(ours.metafile!.inputs)
  const rxjsBuilds = [...new Set(inputs.filter((i) => i.includes('node_modules/rxjs/')).map((i) => /rxjs\/dist\/[^/]+/.exec(i)?.[0]))]
  const parts = await breakdown()
  const ratio = { gzip: rows[0]!.gzip / rows[1]!.gzip, bytes: rows[0]!.bytes / rows[1]!.bytes }

  if (values.json) {
    process.stdout.write(JSON.stringify({ bundles: rows, ratioToPeerJsApp: ratio, rxjsBuilds, breakdown: parts }, null, 2) + '\n')
    return
  }
  const w = Math.max(...rows.map((r) => r.name.length))
  process.stdout.write(`${'bundle'.padEnd(w)}  ${'minified'.padStart(10)}  ${'gzip -9'.padStart(10)}  ${'brotli'.padStart(10)}\n`)
  for (const r of rows) process.stdout.write(`${r.name.padEnd(w)}  ${kib(r.bytes).padStart(10)}  ${kib(r.gzip).padStart(10)}  ${kib(r.brotli).padStart(10)}\n`)
  process.stdout.write(`ours / PeerJS (both as an app gets them): ${ratio.bytes.toFixed(2)}× minified, ${ratio.gzip.toFixed(2)}× gzipped; rxjs builds in our app: ${rxjsBuilds.join(', ')}\n\n`)
  process.stdout.write(`what each part costs (${parts.total.name}: ${kib(parts.total.bytes)} minified, ${kib(parts.total.gzip)} gzipped)\n`)
  const pw = Math.max(...parts.parts.map((p) => p.part.length))
  process.stdout.write(`${'part'.padEnd(pw)}  ${'minified'.padStart(10)}  ${'gzip saved without it'.padStart(22)}\n`)
  for (const p of parts.parts) process.stdout.write(`${p.part.padEnd(pw)}  ${kib(p.minified).padStart(10)}  ${(p.gzipSaved === undefined ? '' : kib(p.gzipSaved)).padStart(22)}\n`)
}

main().catch((err: unknown) => {
  process.stderr.write(`bundle-size: ${(err as Error).message}\n`)
  process.exit(1)
})
