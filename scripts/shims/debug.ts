/**
 * simple-peer 9 logs through `debug`; the library never enables it. A logger
 * that is always off keeps `debug` and `ms` (~6 KiB minified) out of browsers.
 */
function createDebug(_namespace: string): ((...args: unknown[]) => void) & { enabled: boolean } {
  return Object.assign(() => undefined, { enabled: false })
}

// CommonJS shape: simple-peer calls the module itself (`require('debug')(...)`).
export = createDebug
