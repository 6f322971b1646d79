/**
 * The cost of end-to-end secure sockets (src/noise), in one run:
 *  - handshake: ms per Noise XX handshake, both sides in one thread: plain (no
 *    identities), and bound to Ed25519 identities, credentials made once (a
 *    verify per side) or per handshake (a signature per side too), with noble's
 *    and WebCrypto's Ed25519;
 *  - frame boxes: seal and open MB/s on 16 KiB frames, noble ChaCha20-Poly1305
 *    against Node's OpenSSL (same algorithm, same bytes), AES-256-GCM beside;
 *  - in Chromium: the same handshakes; noble ChaCha20-Poly1305 against
 *    WebCrypto AES-256-GCM (async per frame: awaited one by one, or 32 in flight);
 *  - bundle cost: min and gzip bytes src/noise adds to a browser bundle.
 * The machine is shared: figures are per CPU time of the process doing the
 * work (bench/noise/measure.ts), variants interleave over rounds, figures are
 * medians, and comparisons are ratios within one run.
 *
 *   npm run bench:noise -- [--json] [--ms 400] [--rounds 5] [--frame 16384] [--no-browser]
 */
import { resolve } from 'node:path'
import { parseArgs } from 'node:util'
import { build } from 'esbuild'
import { launchChromium } from '../__tests__/e2e/browser'
import { nobleChaChaPoly } from '../src/noise/aead-noble'
import { defaultAead, nodeAead } from '../src/noise/aead-node'
import { boxVariants } from './noise/aead-bench'
import type * as BrowserEntry from './noise/browser-entry'
import { measureBundleCost } from './noise/bundle-cost'
import { handshakeVariants, nobleSignatures, webCryptoSignatures } from './noise/handshake-bench'
import { interleave, runOps, type Variant } from './noise/measure'

const ROOT = resolve(__dirname, '..')
const { values } = parseArgs({
  options: {
    json: { type: 'boolean' },
    ms: { type: 'string', default: '400' },
    rounds: { type: 'string', default: '5' },
    frame: { type: 'string', default: '16384' },
    'no-browser': { type: 'boolean' },
  },
})
const MIN_MS = Number(values.ms)
const ROUNDS = Number(values.rounds)
const FRAME = Number(values.frame)
const log = (line: string) => {
  if (!values.json) console.log(line)
}

/** This process's CPU time in ms (every thread: OpenSSL's and WebCrypto's work included). */
function cpuMs(): number {
  const { user, system } = process.cpuUsage()
  return (user + system) / 1000
}

async function inNode(): Promise<Record<string, number>> {
  const webCrypto = await webCryptoSignatures()
  const variants: Variant[] = [
    ...(await handshakeVariants(webCrypto ? [nobleSignatures, webCrypto] : [nobleSignatures], defaultAead())),
    ...boxVariants('noble ChaChaPoly', nobleChaChaPoly, FRAME),
    ...boxVariants('node ChaChaPoly', nodeAead('ChaChaPoly')!, FRAME),
    ...boxVariants('node AESGCM', nodeAead('AESGCM')!, FRAME),
  ]
  return interleave(
    variants,
    async (index, count) => {
      const start = cpuMs()
      await runOps(variants[index].op, count)
      return cpuMs() - start
    },
    ROUNDS,
    MIN_MS,
  )
}

type PageBench = typeof BrowserEntry

async function inChromium(): Promise<{ userAgent: string; figures: Record<string, number> }> {
  const bundled = await build({
    entryPoints: [resolve(__dirname, 'noise/browser-entry.ts')],
    bundle: true,
    minify: true,
    write: false,
    format: 'iife',
    globalName: 'noiseBench',
    platform: 'browser',
    target: 'es2020',
    logLevel: 'error',
  })
  const browser = await launchChromium()
  try {
    const page = await browser.newPage()
    // WebCrypto's subtle needs a secure context: an https page, served by the route handler.
    await page.route('https://noise.bench/', (route) => route.fulfill({ contentType: 'text/html', body: '<!doctype html><title>noise bench</title>' }))
    await page.goto('https://noise.bench/')
    await page.addScriptTag({ content: bundled.outputFiles[0].text })
    const cdp = await page.context().newCDPSession(page)
    await cdp.send('Performance.enable')
    /** CPU ms of the page's main thread (ThreadTime), or of the whole renderer process (ProcessTime, 10 ms ticks). */
    const cpuMsOf = async (metric: 'ThreadTime' | 'ProcessTime') => 1000 * (await cdp.send('Performance.getMetrics')).metrics.find((m) => m.name === metric)!.value
    const setup = await page.evaluate((frame) => (globalThis as unknown as { noiseBench: PageBench }).noiseBench.prepare(frame), FRAME)
    const figures = await interleave(
      setup.variants,
      async (index, count) => {
        const metric = setup.variants[index].offThread ? 'ProcessTime' : 'ThreadTime'
        const start = await cpuMsOf(metric)
        await page.evaluate(([i, n]) => (globalThis as unknown as { noiseBench: PageBench }).noiseBench.run(i, n), [index, count] as const)
        return (await cpuMsOf(metric)) - start
      },
      ROUNDS,
      MIN_MS,
    )
    return { userAgent: setup.userAgent, figures }
  } finally {
    await browser.close()
  }
}

/** Each figure, and its ratio to the reference figure (same run). */
function print(figures: Record<string, number>, reference: string, only: RegExp): void {
  for (const [name, value] of Object.entries(figures)) {
    if (!only.test(name)) continue
    log(`  ${name.padEnd(58)} ${value.toFixed(2).padStart(9)}   ×${(value / figures[reference]).toFixed(2)} of ${reference.replace(/ (ms|MB\/s)$/, '')}`)
  }
}

async function main(): Promise<void> {
  log(`Node ${process.version}; frames of ${FRAME} bytes; per CPU time; medians of ${ROUNDS} interleaved rounds of ≥ ${MIN_MS} ms; MB = 10^6 bytes`)
  const node = await inNode()
  log('Node, handshake (both sides):')
  print(node, 'plain XX ms', / ms$/)
  log(`Node, frame boxes (defaultAead() here: ${defaultAead().implementation} ${defaultAead().cipher}):`)
  print(node, 'noble ChaChaPoly seal MB/s', /MB\/s$/)
  const chromium = values['no-browser'] ? null : await inChromium()
  if (chromium) {
    log(`Chromium ${/Chrome\/[\d.]+/.exec(chromium.userAgent)?.[0] ?? chromium.userAgent}, handshake (both sides):`)
    print(chromium.figures, 'plain XX ms', / ms$/)
    log('Chromium, frames:')
    print(chromium.figures, 'noble ChaChaPoly seal MB/s', /MB\/s$/)
  }
  const bundle = await measureBundleCost(ROOT)
  log('bundle cost (esbuild, minified ESM, gzip -9):')
  log(`  src/noise alone               ${bundle.alone.minBytes} B min, ${bundle.alone.gzipBytes} B gz   min bytes by source ${JSON.stringify(bundle.alone.minBytesBySource)}`)
  log(`  added to the library          +${bundle.overLibrary.minBytes} B min, +${bundle.overLibrary.gzipBytes} B gz`)
  log(
    `  added to library + ed25519    +${bundle.overLibraryWithEd25519.minBytes} B min, +${bundle.overLibraryWithEd25519.gzipBytes} B gz   ` +
      `min bytes added by source ${JSON.stringify(bundle.overLibraryWithEd25519.minBytesBySource)}`,
  )
  if (values.json) {
    console.log(JSON.stringify({ node: process.version, frameBytes: FRAME, minMs: MIN_MS, rounds: ROUNDS, inNode: node, chromium, bundle }, null, 2))
  }
}

main().catch((err) => {
  console.error(err)
  process.exit(1)
})
