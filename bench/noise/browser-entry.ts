/**
 * What bench/noise.ts runs inside Chromium (bundled with esbuild, exposed as
 * the global `noiseBench`): the same variants as in Node, noble's
 * ChaCha20-Poly1305 (a page has no native one) beside WebCrypto AES-GCM.
 * Node drives the rounds and reads the page's CPU time around each batch.
 */
import { nobleChaChaPoly } from '../../src/noise/aead-noble'
import { boxVariants, webCryptoAesGcmVariants } from './aead-bench'
import { handshakeVariants, nobleSignatures, webCryptoSignatures } from './handshake-bench'
import { runOps, type Variant } from './measure'

let variants: Variant[] = []

/** Sets the variants up; their names and bytes per op, in order. */
export async function prepare(frameBytes: number): Promise<{ userAgent: string; variants: Omit<Variant, 'op'>[] }> {
  const webCrypto = await webCryptoSignatures()
  variants = [
    ...(await handshakeVariants(webCrypto ? [nobleSignatures, webCrypto] : [nobleSignatures], nobleChaChaPoly)),
    ...boxVariants('noble ChaChaPoly', nobleChaChaPoly, frameBytes),
    ...(await webCryptoAesGcmVariants(frameBytes)),
  ]
  return { userAgent: navigator.userAgent, variants: variants.map(({ name, bytes, offThread }) => ({ name, bytes, offThread })) }
}

export const run = (index: number, count: number): Promise<void> => runOps(variants[index].op, count)
