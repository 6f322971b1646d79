import { randomBytes } from 'node:crypto'
import type { Aead } from '../../src/noise/aead'
import { nobleChaChaPoly } from '../../src/noise/aead-noble'
import { nodeAead } from '../../src/noise/aead-node'
import { FrameOpener, FrameSealer } from '../../src/noise/frame-box'
import { CONTROL_COUNTER_BASE } from '../../src/noise/session'
import { VirtualScheduler } from '../../src/scheduler/virtual-scheduler'
import { SOCKET_DEFAULTS } from '../../src/sockets/options'
import { Receiver } from '../../src/sockets/receiver'
import { FrameType } from '../../src/wire/frame'
import { failureCode, flipBit, party, runHandshake } from './helpers'

/** The associated data a socket would pass: its connection id and the frame's seq. */
function header(conn: number, seq: number): Uint8Array {
  const bytes = new Uint8Array(8)
  new DataView(bytes.buffer).setUint32(0, conn)
  new DataView(bytes.buffer).setUint32(4, seq)
  return bytes
}

const aeads: [string, Aead][] = [
  ['noble', nobleChaChaPoly],
  ['node', nodeAead('ChaChaPoly')!],
]

function boxPair(aead: Aead): { sealer: FrameSealer; opener: FrameOpener } {
  const key = randomBytes(32)
  return { sealer: new FrameSealer(aead, key), opener: new FrameOpener(aead, key) }
}

describe.each(aeads)('frame boxes (%s ChaChaPoly)', (_, aead) => {
  test('frames open in any order, each under its own counter', () => {
    const { sealer, opener } = boxPair(aead)
    const messages = Array.from({ length: 16 }, (_, seq) => randomBytes(seq * 100))
    const sealed = messages.map((message, seq) => sealer.seal(seq, header(5, seq), message))
    for (const seq of [15, 3, 0, 9, 1, 14, 2, 4, 13, 5, 12, 6, 11, 7, 10, 8]) {
      expect(opener.open(seq, header(5, seq), sealed[seq])).toEqual(new Uint8Array(messages[seq]))
    }
  })

  test('flipping any single bit of the ciphertext, the tag or the aad fails with AUTH_FAILED', async () => {
    const { sealer, opener } = boxPair(aead)
    const aad = header(5, 0)
    const sealed = sealer.seal(0, aad, randomBytes(40))
    expect(sealed.byteLength).toBe(40 + 16)
    for (let bit = 0; bit < sealed.byteLength * 8; bit++) {
      expect(await failureCode(() => opener.open(0, aad, flipBit(sealed, bit)))).toBe('AUTH_FAILED')
    }
    for (let bit = 0; bit < aad.byteLength * 8; bit++) {
      expect(await failureCode(() => opener.open(0, flipBit(aad, bit), sealed))).toBe('AUTH_FAILED')
    }
    expect(await failureCode(() => opener.open(0, aad, sealed.subarray(0, 15)))).toBe('AUTH_FAILED')
  })

  test('a frame moved to another position, socket, or direction fails with AUTH_FAILED', async () => {
    const a = await party()
    const b = await party()
    const first = await runHandshake(a.credentials, b.credentials, { aead }, { aead })
    const second = await runHandshake(a.credentials, b.credentials, { aead }, { aead })
    const sealed = first.initiator.sealer.seal(3, header(5, 3), new TextEncoder().encode('secret'))
    expect(first.responder.opener.open(3, header(5, 3), sealed)).toEqual(new TextEncoder().encode('secret'))
    // Another seq, claimed in the header (aad) or used as the nonce:
    expect(await failureCode(() => first.responder.opener.open(4, header(5, 4), sealed))).toBe('AUTH_FAILED')
    expect(await failureCode(() => first.responder.opener.open(3, header(5, 4), sealed))).toBe('AUTH_FAILED')
    // Another connection id; another session between the same two peers; reflected back to its sender:
    expect(await failureCode(() => first.responder.opener.open(3, header(6, 3), sealed))).toBe('AUTH_FAILED')
    expect(await failureCode(() => second.responder.opener.open(3, header(5, 3), sealed))).toBe('AUTH_FAILED')
    expect(await failureCode(() => first.initiator.opener.open(3, header(5, 3), sealed))).toBe('AUTH_FAILED')
  })
})

describe('nonce discipline', () => {
  test('seal refuses a counter it already passed (NONCE_REUSED); a retransmission resends the sealed bytes', async () => {
    const { sealer, opener } = boxPair(nobleChaChaPoly)
    const first = sealer.seal(0, header(1, 0), new TextEncoder().encode('first'))
    // Same counter, other plaintext: the nonce reuse that would leak both plaintexts' XOR.
    expect(await failureCode(() => sealer.seal(0, header(1, 0), new TextEncoder().encode('other')))).toBe('NONCE_REUSED')
    sealer.seal(5, header(1, 5), new Uint8Array(3)) // gaps are allowed: a counter is used at most once
    expect(await failureCode(() => sealer.seal(4, header(1, 4), new Uint8Array(3)))).toBe('NONCE_REUSED')
    expect(sealer.nextCounter).toBe(6)
    expect(opener.open(0, header(1, 0), first)).toEqual(new TextEncoder().encode('first'))
  })

  test('a counter must be an integer in [0, 2^53): BAD_OPTIONS', async () => {
    const { sealer, opener } = boxPair(nobleChaChaPoly)
    for (const counter of [-1, 1.5, Number.NaN, 2 ** 53]) {
      expect(await failureCode(() => sealer.seal(counter, new Uint8Array(0), new Uint8Array(1)))).toBe('BAD_OPTIONS')
      expect(await failureCode(() => opener.open(counter, new Uint8Array(0), new Uint8Array(17)))).toBe('BAD_OPTIONS')
    }
  })

  test('the opener is stateless: duplicates and replays open again, and the socket receiver’s window delivers each message once', () => {
    const { sealer, opener } = boxPair(nobleChaChaPoly)
    const texts = ['zero', 'one', 'two', 'three']
    const sealed = texts.map((text, seq) => sealer.seal(seq, header(9, seq), new TextEncoder().encode(text)))
    expect(opener.open(1, header(9, 1), sealed[1])).toEqual(opener.open(1, header(9, 1), sealed[1]))

    const delivered: string[] = []
    const receiver = new Receiver(
      { ack: () => undefined, message: (m) => delivered.push(new TextDecoder().decode(m)), end: () => undefined, tooBig: () => undefined, unread: () => 0 },
      new VirtualScheduler(),
      SOCKET_DEFAULTS,
    )
    // Reordered, duplicated and replayed after delivery: every copy authenticates; the window keeps one.
    for (const seq of [1, 0, 0, 2, 1, 3, 2, 0, 3]) {
      receiver.receive(FrameType.Data, 0, seq, opener.open(seq, header(9, seq), sealed[seq]))
    }
    expect(delivered).toEqual(texts)
    receiver.stop()
  })
})

describe('AEAD implementations', () => {
  test('Node’s OpenSSL and noble give identical ChaCha20-Poly1305 bytes, and open each other’s', () => {
    const node = nodeAead('ChaChaPoly')!
    expect(node.implementation).toBe('node')
    for (const size of [0, 1, 63, 64, 65, 1000, 16 * 1024]) {
      for (const counter of [0, 1, 2 ** 32 - 1, 2 ** 32, 2 ** 40 + 12345]) {
        const key = randomBytes(32)
        const ad = randomBytes(size % 29)
        const plaintext = randomBytes(size)
        const viaNoble = nobleChaChaPoly.encrypt(key, counter, ad, plaintext)
        expect(node.encrypt(key, counter, ad, plaintext)).toEqual(viaNoble)
        expect(node.decrypt(key, counter, ad, viaNoble)).toEqual(new Uint8Array(plaintext))
        expect(nobleChaChaPoly.decrypt(key, counter, ad, viaNoble)).toEqual(new Uint8Array(plaintext))
        expect(node.decrypt(key, counter + 1, ad, viaNoble)).toBeNull()
        expect(nobleChaChaPoly.decrypt(key, counter + 1, ad, viaNoble)).toBeNull()
      }
    }
  })
})

describe('counter ranges: one key, two kinds of frame', () => {
  test('a session splits each key’s counters: stream frames below 2^52, control frames from 2^52; each box refuses the other’s', async () => {
    const a = await party()
    const b = await party()
    const { initiator, responder } = await runHandshake(a.credentials, b.credentials)
    const aad = header(1, 0)
    const stream = initiator.sealer.seal(0, aad, Uint8Array.of(1))
    const control = initiator.controlSealer.seal(CONTROL_COUNTER_BASE, aad, Uint8Array.of(2))
    expect(responder.opener.open(0, aad, stream)).toEqual(Uint8Array.of(1))
    expect(responder.controlOpener.open(CONTROL_COUNTER_BASE, aad, control)).toEqual(Uint8Array.of(2))
    // Sealing across the boundary would reuse a nonce of the other box: refused.
    expect(await failureCode(() => initiator.sealer.seal(CONTROL_COUNTER_BASE, aad, Uint8Array.of(3)))).toBe('NONCE_REUSED')
    expect(await failureCode(() => initiator.controlSealer.seal(5, aad, Uint8Array.of(3)))).toBe('NONCE_REUSED')
    // A remote that names a counter of the other range: refused unopened.
    expect(await failureCode(() => responder.opener.open(CONTROL_COUNTER_BASE, aad, control))).toBe('AUTH_FAILED')
    expect(await failureCode(() => responder.controlOpener.open(0, aad, stream))).toBe('AUTH_FAILED')
  })
})
