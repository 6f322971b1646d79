/**
 * How every browser build of the library treats simple-peer and the Node-only
 * packages (scripts/build.ts for dist/browser.mjs and the IIFE,
 * scripts/build-browser.ts for the demo, the bundle-size report). simple-peer
 * is bundled from its source (its prebuilt simplepeer.min.js carries the whole
 * readable-stream, buffer and process shims: 96 KiB minified) with only the
 * shims it needs: the `events` package for its EventEmitter, and the few
 * lines of stream, Buffer, randombytes and debug it calls (scripts/shims/).
 * `ws` and `@roamhq/wrtc` become empty modules: a browser has its own
 * WebSocket and RTCPeerConnection.
 */
import { join, resolve } from 'node:path'
import type { BuildOptions, Plugin } from 'esbuild'

const SHIMS = resolve(__dirname, 'shims')

/** Module → shim file, applied to every import in the bundle (simple-peer's own included). */
export const BROWSER_ALIASES: Record<string, string> = {
  'readable-stream': join(SHIMS, 'readable-stream.ts'),
  buffer: join(SHIMS, 'buffer.ts'),
  randombytes: join(SHIMS, 'randombytes.ts'),
  debug: join(SHIMS, 'debug.ts'),
}

/** Packages a browser never loads: resolved to an empty module. */
export const NODE_ONLY = ['ws', '@roamhq/wrtc']

const emptyNodeOnly: Plugin = {
  name: 'empty-node-only',
  setup(build) {
    const filter = new RegExp(`^(${NODE_ONLY.map((n) => n.replace(/[/@]/g, '\\$&')).join('|')})$`)
    build.onResolve({ filter }, (args) => ({ path: args.path, namespace: 'node-only' }))
    build.onLoad({ filter: /.*/, namespace: 'node-only' }, () => ({ contents: 'module.exports = undefined', loader: 'js' }))
  },
}

export const browserShims: Pick<BuildOptions, 'alias' | 'plugins' | 'platform' | 'define'> = {
  platform: 'browser',
  alias: BROWSER_ALIASES,
  plugins: [emptyNodeOnly],
  define: { global: 'globalThis' },
}
