/**
 * Runs a bench entry point compiled the way a production build compiles the
 * library (esbuild, one bundle, no `keepNames`), instead of through tsx:
 *   tsx scripts/run-compiled.ts [--node-flag F ...] <entry.ts> [args...]
 * tsx names every function it compiles (`Object.defineProperty(fn, 'name')`),
 * which gives each closure a property array: for a simulation holding
 * millions of closures that is a quarter of the heap and a cost at every
 * closure created. Node flags (e.g. `--max-old-space-size=2048`) go to the
 * child process that runs the bundle.
 */
import { spawnSync } from 'node:child_process'
import { mkdirSync } from 'node:fs'
import { basename, join, resolve } from 'node:path'
import { buildSync } from 'esbuild'

const ROOT = resolve(__dirname, '..')

function main(argv: string[]): number {
  const nodeFlags: string[] = []
  while (argv[0] === '--node-flag' && argv.length > 1) {
    nodeFlags.push(argv[1])
    argv = argv.slice(2)
  }
  const [entry, ...args] = argv
  if (entry === undefined) {
    console.error('usage: tsx scripts/run-compiled.ts [--node-flag F ...] <entry.ts> [args...]')
    return 2
  }
  const outdir = join(ROOT, 'node_modules', '.cache', 'webrtc-explorer')
  mkdirSync(outdir, { recursive: true })
  const outfile = join(outdir, `${basename(entry, '.ts')}.cjs`)
  buildSync({ entryPoints: [resolve(entry)], bundle: true, platform: 'node', format: 'cjs', target: 'node20', outfile, logLevel: 'warning' })
  const result = spawnSync(process.execPath, [...nodeFlags, outfile, ...args], { stdio: 'inherit' })
  return result.status ?? 1
}

process.exit(main(process.argv.slice(2)))
