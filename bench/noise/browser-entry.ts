/**
 * What bench/noise.ts runs inside Chromium (bundled with esbuild, exposed as
 * the global `noiseBench`): the same runners as in Node, noble's
 * ChaCha20-Poly1305 (a page has no native one) beside WebCrypto AES-GCM.
 */
import { nobleChaChaPoly } from '../../src/noise/aead-noble'
import { boxVariants, webCryptoAesGcmVariants } from './aead-bench'
import { handshakeVariants, nobleSignatures, webCryptoSignatures } from './handshake-bench'
import { interleave } from './measure'

export async function run(frameBytes: number, minMs: number, rounds: number) {
  const webCrypto = await webCryptoSignatures()
  return {
    userAgent: navigator.userAgent,
    handshakes: await interleave(await handshakeVariants(webCrypto ? [nobleSignatures, webCrypto] : [nobleSignatures], nobleChaChaPoly, minMs), rounds),
    frames: await interleave([...boxVariants('noble ChaChaPoly', nobleChaChaPoly, frameBytes, minMs), ...(await webCryptoAesGcmVariants(frameBytes, minMs))], rounds),
  }
}
