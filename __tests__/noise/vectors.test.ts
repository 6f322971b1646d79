import { bytesToHex, hexToBytes } from '@noble/hashes/utils'
import type { Aead } from '../../src/noise/aead'
import { nobleChaChaPoly } from '../../src/noise/aead-noble'
import { nodeAead } from '../../src/noise/aead-node'
import { keyPairFromSecret } from '../../src/noise/dh'
import { FrameOpener, FrameSealer } from '../../src/noise/frame-box'
import { HandshakeState } from '../../src/noise/handshake-state'
import { IK, XX } from '../../src/noise/patterns'
import fixture from './fixtures/noise-vectors.json'

/**
 * Replays the published cacophony vectors byte for byte: every handshake
 * message each side writes must equal the vector's, the other side must read
 * the vector's payload back, and the transport messages after the handshake
 * must equal what our frame boxes seal with counters 0, 1, ... per direction
 * and empty associated data (Noise's implicit nonce, made explicit).
 */
interface Vector {
  name: string
  init_prologue: string
  init_static: string
  init_ephemeral: string
  init_remote_static?: string
  resp_prologue: string
  resp_static: string
  resp_ephemeral: string
  messages: { payload: string; ciphertext: string }[]
}

const vectors = fixture.vectors as Vector[]
const byName = (name: string): Vector => vectors.find((v) => v.name === name)!

function replay(vector: Vector, aead: Aead): void {
  const pattern = vector.name.startsWith('Noise_IK_') ? IK : XX
  const side = (role: 'init' | 'resp') =>
    new HandshakeState({
      pattern,
      initiator: role === 'init',
      aead,
      prologue: hexToBytes(vector[`${role}_prologue`]),
      staticKeyPair: keyPairFromSecret(hexToBytes(vector[`${role}_static`])),
      ephemeralKeyPair: keyPairFromSecret(hexToBytes(vector[`${role}_ephemeral`])),
      remoteStaticKey: role === 'init' && vector.init_remote_static ? hexToBytes(vector.init_remote_static) : undefined,
    })
  const initiator = side('init')
  const responder = side('resp')
  expect(initiator.protocolName).toBe(vector.name)
  const sides = [initiator, responder]
  let boxes: { sealer: FrameSealer; opener: FrameOpener }[] = []
  const counters = [0, 0]
  vector.messages.forEach(({ payload, ciphertext }, i) => {
    const from = i % 2
    const to = 1 - from
    if (!sides[from].isComplete) {
      expect(bytesToHex(sides[from].writeMessage(hexToBytes(payload)))).toBe(ciphertext)
      expect(bytesToHex(sides[to].readMessage(hexToBytes(ciphertext)))).toBe(payload)
      if (initiator.isComplete && responder.isComplete) {
        expect(bytesToHex(initiator.handshakeHash)).toBe(bytesToHex(responder.handshakeHash))
        boxes = sides.map((side) => {
          const keys = side.split()
          return { sealer: new FrameSealer(aead, keys.send), opener: new FrameOpener(aead, keys.receive) }
        })
      }
      return
    }
    const counter = counters[from]++
    const empty = new Uint8Array(0)
    expect(bytesToHex(boxes[from].sealer.seal(counter, empty, hexToBytes(payload)))).toBe(ciphertext)
    expect(bytesToHex(boxes[to].opener.open(counter, empty, hexToBytes(ciphertext)))).toBe(payload)
  })
  // Every vector carries transport messages after its handshake: none may have been skipped.
  expect(counters[0] + counters[1]).toBe(vector.messages.length - pattern.messages.length)
}

const aeads: Record<string, Aead> = {
  'noble ChaChaPoly': nobleChaChaPoly,
  'node ChaChaPoly': nodeAead('ChaChaPoly')!,
  'node AESGCM': nodeAead('AESGCM')!,
}

describe('Noise test vectors (cacophony)', () => {
  test.each([
    ['Noise_XX_25519_ChaChaPoly_SHA256', 'noble ChaChaPoly'],
    ['Noise_XX_25519_ChaChaPoly_SHA256', 'node ChaChaPoly'],
    ['Noise_IK_25519_ChaChaPoly_SHA256', 'noble ChaChaPoly'],
    ['Noise_IK_25519_ChaChaPoly_SHA256', 'node ChaChaPoly'],
    ['Noise_XX_25519_AESGCM_SHA256', 'node AESGCM'],
  ])('%s with %s', (name, aead) => {
    replay(byName(name), aeads[aead])
  })
})
