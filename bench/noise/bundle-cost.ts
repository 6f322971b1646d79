import { join } from 'node:path'
import { gzipSync } from 'node:zlib'
import { build } from 'esbuild'

export interface BundleSize {
  minBytes: number
  gzipBytes: number
}

export interface BundleCost {
  /** src/noise alone, as an app that imports nothing else would ship it; and its min bytes per source. */
  alone: BundleSize & { minBytesBySource: Record<string, number> }
  /** What src/noise adds to the library's browser bundle (src/index.ts) as it is on this branch. */
  overLibrary: BundleSize
  /** What it adds once the bundle already has noble's Ed25519 (identities, issue 12) beside the library; and min bytes added per source. */
  overLibraryWithEd25519: BundleSize & { minBytesBySource: Record<string, number> }
}

/** Minified ESM bundle of `contents` (a TS module resolved from the repository root), as the browser build makes it. */
async function bundle(root: string, contents: string): Promise<BundleSize & { minBytesBySource: Record<string, number> }> {
  const result = await build({
    stdin: { contents, resolveDir: root, loader: 'ts', sourcefile: 'bench-entry.ts' },
    absWorkingDir: root,
    bundle: true,
    minify: true,
    write: false,
    format: 'esm',
    platform: 'browser',
    target: 'es2020',
    conditions: ['es2015'],
    define: { 'process.env.NODE_ENV': '"production"' },
    legalComments: 'none',
    metafile: true,
    logLevel: 'error',
  })
  const code = result.outputFiles[0].contents
  const minBytesBySource: Record<string, number> = {}
  for (const output of Object.values(result.metafile.outputs)) {
    for (const [input, { bytesInOutput }] of Object.entries(output.inputs)) {
      const pkg = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(input)
      const key = pkg ? pkg[1] : input.startsWith('src/noise/') ? 'src/noise' : 'src (rest)'
      minBytesBySource[key] = (minBytesBySource[key] ?? 0) + bytesInOutput
    }
  }
  return { minBytes: code.byteLength, gzipBytes: gzipSync(code, { level: 9 }).byteLength, minBytesBySource }
}

const diff = (a: BundleSize, b: BundleSize): BundleSize => ({ minBytes: a.minBytes - b.minBytes, gzipBytes: a.gzipBytes - b.gzipBytes })

function diffBySource(a: Record<string, number>, b: Record<string, number>): Record<string, number> {
  const out: Record<string, number> = {}
  for (const key of new Set([...Object.keys(a), ...Object.keys(b)])) {
    const added = (a[key] ?? 0) - (b[key] ?? 0)
    if (added !== 0) out[key] = added
  }
  return out
}

export async function measureBundleCost(root: string): Promise<BundleCost> {
  const noise = `export * from ${JSON.stringify(join(root, 'src/noise'))}\n`
  const library = `export * from ${JSON.stringify(join(root, 'src/index'))}\n`
  const ed25519 = `export { ed25519 } from '@noble/curves/ed25519'\n`
  const alone = await bundle(root, noise)
  const lib = await bundle(root, library)
  const libNoise = await bundle(root, library + noise)
  const libEd = await bundle(root, library + ed25519)
  const libEdNoise = await bundle(root, library + ed25519 + noise)
  return {
    alone,
    overLibrary: diff(libNoise, lib),
    overLibraryWithEd25519: { ...diff(libEdNoise, libEd), minBytesBySource: diffBySource(libEdNoise.minBytesBySource, libEd.minBytesBySource) },
  }
}
