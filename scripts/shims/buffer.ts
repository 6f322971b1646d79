/**
 * simple-peer 9's one use of Buffer in a browser: turning a received
 * ArrayBuffer into bytes (its own message handler, which the transport
 * replaces). Plain Uint8Arrays do; the `buffer` package is ~25 KiB minified.
 */
export const Buffer = {
  from: (data: ArrayBuffer): Uint8Array => new Uint8Array(data),
}

export default { Buffer }
