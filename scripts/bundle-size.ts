/**
 * Size of our browser bundle next to PeerJS's, measured the same way in the same
 * run: the minified script a page loads with one <script> tag, raw, gzip -9 and
 * brotli (q 11). Ours is built fresh (scripts/build-browser.ts); PeerJS's is the
 * dist/peerjs.min.js of the `peerjs` npm package (the PeerJS client, with its
 * dependencies inside), from node_modules if installed, else fetched once with
 * `npm pack` into .bench-out/ (not a dependency of this project).
 *
 *   npm run bundle-size [-- --json] [-- --entry path/to/entry.ts]
 */
import { execFileSync } from 'node:child_process'
import { existsSync, mkdirSync, readFileSync, readdirSync } from 'node:fs'
import { join, relative, resolve } from 'node:path'
import { parseArgs } from 'node:util'
import { brotliCompressSync, constants, gzipSync } from 'node:zlib'
import { buildBrowser, ROOT } from './build-browser'

const PEERJS_RANGE = '1'

interface Size {
  name: string
  file: string
  bytes: number
  gzip: number
  brotli: number
}

function measure(name: string, file: string): Size {
  const data = readFileSync(file)
  return {
    name,
    file: relative(ROOT, file),
    bytes: data.length,
    gzip: gzipSync(data, { level: 9 }).length,
    brotli: brotliCompressSync(data, { params: { [constants.BROTLI_PARAM_QUALITY]: 11, [constants.BROTLI_PARAM_SIZE_HINT]: data.length } }).length,
  }
}

/** PeerJS's browser bundle and its version, or why there is none. */
function peerJsBundle(): { file: string; version: string } | { error: string } {
  const installed = join(ROOT, 'node_modules', 'peerjs')
  if (existsSync(join(installed, 'dist', 'peerjs.min.js'))) {
    return { file: join(installed, 'dist', 'peerjs.min.js'), version: JSON.parse(readFileSync(join(installed, 'package.json'), 'utf8')).version }
  }
  const cache = join(ROOT, '.bench-out', 'peerjs')
  const cached = (): { file: string; version: string } | null => {
    if (!existsSync(cache)) return null
    const dir = readdirSync(cache).filter((d) => d.startsWith('peerjs-') && !d.endsWith('.tgz')).sort().pop()
    if (!dir) return null
    const file = join(cache, dir, 'package', 'dist', 'peerjs.min.js')
    return existsSync(file) ? { file, version: dir.slice('peerjs-'.length) } : null
  }
  const hit = cached()
  if (hit) return hit
  try {
    mkdirSync(cache, { recursive: true })
    process.stderr.write(`fetching peerjs@${PEERJS_RANGE} with npm pack into ${relative(ROOT, cache)}/ (once)...\n`)
    const tgz = execFileSync('npm', ['pack', `peerjs@${PEERJS_RANGE}`, '--silent', '--pack-destination', cache], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] })
      .trim()
      .split('\n')
      .pop()!
    const dir = join(cache, tgz.replace(/\.tgz$/, ''))
    mkdirSync(dir, { recursive: true })
    execFileSync('tar', ['xzf', join(cache, tgz), '-C', dir])
    return cached() ?? { error: `npm pack gave ${tgz}, but it has no dist/peerjs.min.js` }
  } catch (err) {
    return {
      error:
        `PeerJS's bundle is not installed (node_modules/peerjs: the \`peer\` devDependency is the PeerJS server, not the client) ` +
        `and \`npm pack peerjs@${PEERJS_RANGE}\` failed: ${(err as Error).message.split('\n')[0]}`,
    }
  }
}

const kib = (n: number): string => `${(n / 1024).toFixed(1)} KiB`

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { json: { type: 'boolean' }, entry: { type: 'string' } } })
  const built = await buildBrowser(values.entry ? resolve(process.cwd(), values.entry) : undefined)
  const ours = measure('webrtc-explorer (IIFE)', built.iife)
  const oursEsm = measure('webrtc-explorer (ESM)', built.esm)
  const peer = peerJsBundle()
  const theirs = 'file' in peer ? measure(`PeerJS ${peer.version}`, peer.file) : null

  if (values.json) {
    process.stdout.write(
      JSON.stringify({ ours, oursEsm, oursBySource: built.bytesBySource, peerjs: theirs, peerjsError: 'error' in peer ? peer.error : undefined, ratio: theirs ? { bytes: ours.bytes / theirs.bytes, gzip: ours.gzip / theirs.gzip, brotli: ours.brotli / theirs.brotli } : undefined }, null, 2) + '\n',
    )
    return
  }
  const rows = [ours, oursEsm, ...(theirs ? [theirs] : [])]
  const w = Math.max(...rows.map((r) => r.name.length))
  process.stdout.write(`${'bundle'.padEnd(w)}  ${'minified'.padStart(10)}  ${'gzip -9'.padStart(10)}  ${'brotli'.padStart(10)}  file\n`)
  for (const r of rows) process.stdout.write(`${r.name.padEnd(w)}  ${kib(r.bytes).padStart(10)}  ${kib(r.gzip).padStart(10)}  ${kib(r.brotli).padStart(10)}  ${r.file}\n`)
  if (theirs) {
    process.stdout.write(`ours / PeerJS: ${(ours.bytes / theirs.bytes).toFixed(2)}× minified, ${(ours.gzip / theirs.gzip).toFixed(2)}× gzipped, ${(ours.brotli / theirs.brotli).toFixed(2)}× brotli\n`)
  } else {
    process.stdout.write(`PeerJS: not measured. ${(peer as { error: string }).error}\n`)
  }
  const parts = Object.entries(built.bytesBySource).sort((a, b) => b[1] - a[1])
  process.stdout.write(`ours by source (minified): ${parts.map(([k, v]) => `${k} ${kib(v)}`).join(', ')}\n`)
  if (!theirs) process.exitCode = 1
}

main().catch((err: unknown) => {
  process.stderr.write(`bundle-size: ${(err as Error).message}\n`)
  process.exit(1)
})
