/**
 * A page served over plain http on a LAN address has no crypto.subtle: the
 * identity must still sign and verify (through @noble/curves), with the same
 * signatures WebCrypto gives.
 */
describe('identity without WebCrypto (insecure context)', () => {
  const realCrypto = globalThis.crypto

  afterEach(() => {
    Object.defineProperty(globalThis, 'crypto', { value: realCrypto, configurable: true, writable: true })
  })

  it('signs and verifies with noble, byte-identical to WebCrypto', async () => {
    const webcrypto = await import('../../src/identity')
    const withSubtle = await webcrypto.createIdentity()
    const message = new TextEncoder().encode('same bytes either way')
    const expected = await webcrypto.signAs(withSubtle, message)

    let subtleUsed = false
    const noSubtle = {
      getRandomValues: realCrypto.getRandomValues.bind(realCrypto),
      get subtle() {
        subtleUsed = true
        return undefined
      },
    }
    Object.defineProperty(globalThis, 'crypto', { value: noSubtle, configurable: true, writable: true })
    let signature!: Uint8Array
    let verified: boolean[] = []
    await jest.isolateModulesAsync(async () => {
      const noble = await import('../../src/identity')
      const same = await noble.importIdentity(withSubtle.export())
      signature = await noble.signAs(same, message)
      const tampered = message.slice()
      tampered[0] ^= 1
      verified = [await noble.verifySignature(same.publicKey, message, signature), await noble.verifySignature(same.publicKey, tampered, signature)]
    })
    expect(subtleUsed).toBe(true)
    expect(signature).toEqual(expected)
    expect(verified).toEqual([true, false])
  })
})
