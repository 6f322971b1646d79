/**
 * `npm run build` (and `prepack`): the two packages' dist/ from the sources, as
 * bundles, so the sources keep their extensionless relative imports.
 *
 * webrtc-explorer (dist/):
 *   index.mjs        ES module for Node (the default `import`)
 *   index.cjs        CommonJS for `require`
 *   browser.mjs      ES module for browsers and app bundlers (`browser` condition):
 *                    simple-peer bundled from source with only the shims it needs
 *                    (scripts/browser-shims.ts), rxjs left to the app (peer dependency)
 *   webrtc-explorer.min.js  IIFE, global `WebRTCExplorer`, every dependency inside (script tag)
 *   index.d.mts / index.d.cts  one declaration file, for import and require
 *   signal-server.*  `webrtc-explorer/signal-server`: re-exports webrtc-explorer-signal-server
 * webrtc-explorer-signal-server (signal-server/dist/): index.mjs, index.cjs, cli.mjs, types.
 *
 *   tsx scripts/build.ts [client|server]...   (default both)
 */
import { chmodSync, copyFileSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { join, relative, resolve } from 'node:path'
import { build, type BuildOptions } from 'esbuild'
import { generateDtsBundle } from 'dts-bundle-generator'
import { NODE_ONLY, browserShims } from './browser-shims'

export const ROOT = resolve(__dirname, '..')
export const SERVER_DIR = join(ROOT, 'signal-server')
export const CLIENT_DIST = join(ROOT, 'dist')
export const SERVER_DIST = join(SERVER_DIR, 'dist')
export const GLOBAL_NAME = 'WebRTCExplorer'

const readJson = (file: string): Record<string, Record<string, string> | undefined> => JSON.parse(readFileSync(file, 'utf8'))
const dependenciesOf = (file: string): string[] => {
  const pkg = readJson(file)
  return [...Object.keys(pkg.dependencies ?? {}), ...Object.keys(pkg.peerDependencies ?? {})]
}

/** Node 20 ESM has no `require`: esbuild's require() shim (the `ws` fallback of node-websocket.ts) gets a real one. */
const NODE_ESM_REQUIRE = "import { createRequire as __createRequire } from 'node:module'; const require = __createRequire(import.meta.url);"

const node = (entry: string, outfile: string, external: string[], format: 'esm' | 'cjs'): BuildOptions => ({
  entryPoints: [entry],
  outfile,
  bundle: true,
  platform: 'node',
  target: 'node20',
  format,
  external,
  banner: format === 'esm' ? { js: NODE_ESM_REQUIRE } : undefined,
  logLevel: 'warning',
})

export async function buildClient(): Promise<void> {
  rmSync(CLIENT_DIST, { recursive: true, force: true })
  const entry = join(ROOT, 'src', 'index.ts')
  const external = [...dependenciesOf(join(ROOT, 'package.json')), '@roamhq/wrtc']
  const browser: BuildOptions = { ...browserShims, entryPoints: [entry], bundle: true, target: 'es2020', logLevel: 'warning' }
  await Promise.all([
    build(node(entry, join(CLIENT_DIST, 'index.mjs'), external, 'esm')),
    build(node(entry, join(CLIENT_DIST, 'index.cjs'), external, 'cjs')),
    // For app bundlers: readable, not minified (the app minifies). simple-peer goes inside (with its
    // shims); every other dependency (rxjs, the @noble/* crypto to come) stays the app's one copy.
    build({ ...browser, format: 'esm', outfile: join(CLIENT_DIST, 'browser.mjs'), external: external.filter((d) => d !== 'simple-peer' && !NODE_ONLY.includes(d)) }),
    build({ ...browser, format: 'iife', globalName: GLOBAL_NAME, minify: true, outfile: join(CLIENT_DIST, 'webrtc-explorer.min.js'), legalComments: 'eof' }),
  ])
  // `webrtc-explorer/signal-server`: the server is its own package (an optional peer dependency).
  writeFileSync(join(CLIENT_DIST, 'signal-server.mjs'), "export * from 'webrtc-explorer-signal-server'\n")
  writeFileSync(join(CLIENT_DIST, 'signal-server.cjs'), "module.exports = require('webrtc-explorer-signal-server')\n")
  for (const ext of ['d.mts', 'd.cts']) writeFileSync(join(CLIENT_DIST, `signal-server.${ext}`), "export * from 'webrtc-explorer-signal-server'\n")
}

export async function buildServer(): Promise<void> {
  rmSync(SERVER_DIST, { recursive: true, force: true })
  const external = dependenciesOf(join(SERVER_DIR, 'package.json'))
  const cli = join(SERVER_DIST, 'cli.mjs')
  await Promise.all([
    build(node(join(SERVER_DIR, 'index.ts'), join(SERVER_DIST, 'index.mjs'), external, 'esm')),
    build(node(join(SERVER_DIR, 'index.ts'), join(SERVER_DIST, 'index.cjs'), external, 'cjs')),
    build(node(join(SERVER_DIR, 'cli.ts'), cli, external, 'esm')),
  ])
  chmodSync(cli, 0o755)
}

/** One declaration file per package (no relative imports left, nothing of simple-peer's types), as .d.mts and .d.cts. */
export function buildTypes(targets: Array<'client' | 'server'>): void {
  const entries = targets.map((t) => (t === 'client' ? { file: join(ROOT, 'src', 'index.ts'), dist: CLIENT_DIST } : { file: join(SERVER_DIR, 'index.ts'), dist: SERVER_DIST }))
  const outputs = generateDtsBundle(
    entries.map(({ file }) => ({
      filePath: file,
      // Only the packages a consumer installs with ours: no @types reference (simple-peer's would need @types/node).
      libraries: { allowedTypesLibraries: file.startsWith(SERVER_DIR) ? ['node'] : [] },
      output: { noBanner: true, exportReferencedTypes: false },
    })),
    { preferredConfigPath: join(ROOT, 'tsconfig.build.json') },
  )
  entries.forEach(({ file, dist }, i) => {
    // The client's API names WebRTC types (RTCIceServer): a Node app's `lib` may lack DOM.
    const text = (file.startsWith(SERVER_DIR) ? '' : '/// <reference lib="dom" />\n') + outputs[i]!
    mkdirSync(dist, { recursive: true })
    writeFileSync(join(dist, 'index.d.mts'), text)
    copyFileSync(join(dist, 'index.d.mts'), join(dist, 'index.d.cts'))
  })
}

async function main(args: string[]): Promise<void> {
  const targets = (args.length ? args : ['client', 'server']) as Array<'client' | 'server'>
  for (const t of targets) if (t !== 'client' && t !== 'server') throw new Error(`unknown target ${t}: client or server`)
  if (targets.includes('client')) await buildClient()
  if (targets.includes('server')) await buildServer()
  buildTypes(targets)
  process.stdout.write(`built ${targets.map((t) => relative(process.cwd(), t === 'client' ? CLIENT_DIST : SERVER_DIST) || '.').join(', ')}\n`)
}

if (require.main === module) {
  main(process.argv.slice(2)).catch((err: unknown) => {
    process.stderr.write(`build: ${(err as Error).message}\n`)
    process.exit(1)
  })
}
