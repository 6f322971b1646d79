import { mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { buildSync } from 'esbuild'
import { BROWSER_ALIASES } from '../../scripts/browser-shims'

/**
 * simple-peer as the browser builds carry it (scripts/browser-shims.ts: its
 * source with our stream, Buffer, randombytes and debug shims and the `events`
 * package), compiled for Node so the transport compliance suite can run on it
 * with @roamhq/wrtc. Returns the path of the CommonJS bundle.
 */
export function buildShimmedSimplePeer(): string {
  const outfile = join(mkdtempSync(join(tmpdir(), 'webrtc-explorer-shimmed-')), 'simple-peer.cjs')
  buildSync({
    entryPoints: [require.resolve('simple-peer')],
    outfile,
    bundle: true,
    format: 'cjs',
    platform: 'node',
    // The npm `events` package, as in a browser, not Node's built-in.
    alias: { ...BROWSER_ALIASES, events: require.resolve('events/') },
    logLevel: 'warning',
  })
  return outfile
}
