/**
 * simple-peer 9 calls `randombytes(n).toString('hex')` for its debug id and
 * channel name. WebCrypto gives the bytes; the `randombytes` package would
 * bring `safe-buffer` and the whole `buffer` shim.
 */
function randomBytes(size: number): { toString(encoding: 'hex'): string } {
  const bytes = crypto.getRandomValues(new Uint8Array(size))
  const hex = Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('')
  return { toString: () => hex }
}

// CommonJS shape: simple-peer calls the module itself (`require('randombytes')(...)`).
export = randomBytes
