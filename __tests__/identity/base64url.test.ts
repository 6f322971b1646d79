import { randomBytes } from 'node:crypto'
import { fromBase64url, fromBase64urlOfLength, toBase64url } from '../../src/identity'

describe('base64url', () => {
  it('agrees with Node for every length 0–70', () => {
    for (let n = 0; n <= 70; n++) {
      const bytes = Uint8Array.from(randomBytes(n))
      const text = toBase64url(bytes)
      expect(text).toBe(Buffer.from(bytes).toString('base64url'))
      expect(fromBase64url(text)).toEqual(bytes)
    }
  })

  it.each([
    ['padding', 'AAA='],
    ['standard alphabet', 'ab+/'],
    ['a length of 4k+1', 'AAAAA'],
    ['non-zero spare bits (a second spelling of one byte)', 'AB'],
    ['non-ASCII', 'AAé'],
  ])('refuses %s', (_, text) => {
    expect(fromBase64url(text)).toBeNull()
  })

  it('fromBase64urlOfLength checks the decoded length and the type', () => {
    const key = toBase64url(new Uint8Array(32).fill(7))
    expect(fromBase64urlOfLength(key, 32)).toEqual(new Uint8Array(32).fill(7))
    expect(fromBase64urlOfLength(key, 64)).toBeNull()
    expect(fromBase64urlOfLength(key.slice(1), 32)).toBeNull()
    expect(fromBase64urlOfLength(32, 32)).toBeNull()
  })
})
