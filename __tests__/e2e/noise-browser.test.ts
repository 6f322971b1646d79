/**
 * src/noise in Chromium, talking to Node: the browser bundle of the module
 * (esbuild, as the library's browser build makes it) has no Node built-in in
 * it and picks noble's ChaCha20-Poly1305; a Node initiator (OpenSSL's
 * ChaCha20-Poly1305) and a page responder complete an identity-bound XX
 * handshake, and 16 KiB frames sealed on either side open on the other.
 */
import { randomBytes } from 'node:crypto'
import { resolve } from 'node:path'
import type { ed25519 } from '@noble/curves/ed25519'
import { build } from 'esbuild'
import type { Browser, Page } from 'playwright-core'
import type * as Noise from '../../src/noise'
import { nodeAead } from '../../src/noise/aead-node'
import { idOfIdentityKey } from '../../src/noise/identity-binding'
import { SecureInitiator } from '../../src/noise/initiator'
import { failureCode, flipBit, party, verifyEd25519 } from '../noise/helpers'
import { launchChromium } from './browser'

/** What the page holds (the functions passed to page.evaluate run there and see only these). */
interface PageGlobals {
  NoiseUnderTest: typeof Noise & { ed25519: typeof ed25519 }
  pageCredentials: Noise.NoiseCredentials
  responder: Noise.SecureResponder
}

const ROOT = resolve(__dirname, '../..')
const ENTRY = `
export * from './src/noise'
export { ed25519 } from '@noble/curves/ed25519'
`

let browser: Browser
let page: Page
let bundleInputs: string[]

beforeAll(async () => {
  const built = await build({
    stdin: { contents: ENTRY, resolveDir: ROOT, loader: 'ts', sourcefile: 'noise-entry.ts' },
    absWorkingDir: ROOT,
    bundle: true,
    write: false,
    format: 'iife',
    globalName: 'NoiseUnderTest',
    platform: 'browser',
    target: 'es2020',
    metafile: true,
    logLevel: 'error',
  })
  bundleInputs = Object.keys(built.metafile.inputs)
  browser = await launchChromium()
  page = await browser.newPage()
  await page.setContent('<!doctype html><title>noise</title>')
  await page.addScriptTag({ content: built.outputFiles[0].text })
})

afterAll(async () => {
  await browser?.close()
})

const bytes = (array: number[]) => Uint8Array.from(array)

describe('src/noise in Chromium', () => {
  test('the bundle has no Node built-in, and the page’s default AEAD is noble ChaChaPoly', async () => {
    expect(bundleInputs.some((input) => input.includes('src/noise/handshake-state.ts'))).toBe(true)
    expect(bundleInputs.filter((input) => /^node:|^(crypto|buffer|process)$/.test(input))).toEqual([])
    const aead = await page.evaluate(() => {
      const { defaultAead } = (globalThis as unknown as PageGlobals).NoiseUnderTest
      return { cipher: defaultAead().cipher, implementation: defaultAead().implementation }
    })
    expect(aead).toEqual({ cipher: 'ChaChaPoly', implementation: 'noble' })
  })

  test('a Node initiator and a page responder prove their identities and exchange 16 KiB frames both ways', async () => {
    const node = await party()
    const pageKey = bytes(
      await page.evaluate(async () => {
        const g = globalThis as unknown as PageGlobals
        const { ed25519, createNoiseCredentials } = g.NoiseUnderTest
        const secret = ed25519.utils.randomSecretKey()
        const signer = { publicKey: ed25519.getPublicKey(secret), sign: async (m: Uint8Array) => ed25519.sign(m, secret) }
        g.pageCredentials = await createNoiseCredentials(signer)
        return Array.from(signer.publicKey)
      }),
    )
    const initiator = new SecureInitiator(node.credentials, {
      verify: verifyEd25519,
      expectedId: idOfIdentityKey(pageKey),
      expectedKey: pageKey,
      aead: nodeAead('ChaChaPoly')!,
    })
    const message2 = bytes(
      await page.evaluate((m1) => {
        const g = globalThis as unknown as PageGlobals
        const { ed25519, SecureResponder } = g.NoiseUnderTest
        const verify = async (key: Uint8Array, message: Uint8Array, signature: Uint8Array) => ed25519.verify(signature, message, key)
        g.responder = new SecureResponder(g.pageCredentials, Uint8Array.from(m1), { verify })
        return Array.from(g.responder.message2)
      }, Array.from(initiator.message1)),
    )
    const { message3, session } = await initiator.complete(message2)
    expect(session.remoteIdentityKey).toEqual(pageKey)

    const toPage = randomBytes(16 * 1024)
    const aad = Uint8Array.of(0, 0, 0, 7, 0, 0, 0, 0)
    const sealed = session.sealer.seal(0, aad, toPage)
    const tampered = flipBit(sealed, 8 * 1000 + 3)
    const fromPage = await page.evaluate(
      async ([m3, frame, badFrame, header]) => {
        const g = globalThis as unknown as PageGlobals
        const session = await g.responder.complete(Uint8Array.from(m3))
        const opened = session.opener.open(0, Uint8Array.from(header), Uint8Array.from(frame))
        let tamperedCode = 'opened'
        try {
          session.opener.open(0, Uint8Array.from(header), Uint8Array.from(badFrame))
        } catch (err) {
          tamperedCode = (err as { code: string }).code
        }
        const reply = Uint8Array.from(opened).reverse()
        return {
          remoteKey: Array.from(session.remoteIdentityKey),
          remoteId: session.remoteId,
          openedLength: opened.byteLength,
          tamperedCode,
          reply: Array.from(reply),
          replySealed: Array.from(session.sealer.seal(0, Uint8Array.from(header), reply)),
          idOfOwnKey: g.NoiseUnderTest.idOfIdentityKey(g.pageCredentials.identityKey),
        }
      },
      [Array.from(message3), Array.from(sealed), Array.from(tampered), Array.from(aad)] as const,
    )
    expect(fromPage.remoteKey).toEqual(Array.from(node.identity.publicKey))
    expect(fromPage.remoteId).toBe(node.identity.id)
    expect(fromPage.idOfOwnKey).toBe(idOfIdentityKey(pageKey))
    expect(fromPage.openedLength).toBe(toPage.byteLength)
    expect(fromPage.tamperedCode).toBe('AUTH_FAILED')
    expect(fromPage.reply).toEqual(Array.from(Uint8Array.from(toPage).reverse()))
    expect(session.opener.open(0, aad, bytes(fromPage.replySealed))).toEqual(Uint8Array.from(toPage).reverse())
    expect(await failureCode(() => session.opener.open(0, aad, flipBit(bytes(fromPage.replySealed), 5)))).toBe('AUTH_FAILED')
  })
})
