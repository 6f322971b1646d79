import { parseId } from '../../src/ids'
import { LINK_CHUNK_BYTES, LinkKind, decodeLinkMessage, encodeLinkMessage, linkAad } from '../../src/links/link-wire'
import { RelayedChannel, type LinkHost, type LinkStats } from '../../src/links/relayed-channel'
import { MAX_FRAME_BYTES } from '../../src/wire/limits'
import { flipBit, party, runHandshake } from '../noise/helpers'

/** One box as a relay sees it: the header fields it forwards and the payload after the route. */
interface Box {
  conn: number
  seq: number
  payload: Uint8Array
}

const stats = (): LinkStats => ({ framesSent: 0, bytesSent: 0, framesReceived: 0, bytesReceived: 0, rejected: 0, stale: 0 })

function host(self: number, wire: Box[]): LinkHost {
  return {
    self, stats: stats(),
    send: (_route, conn, seq, payload) => (wire.push({ conn, seq, payload: payload.slice() }), true),
    hop: () => undefined, superseded: () => false, ended: () => undefined,
  }
}

/** Both ends of one link (a real Noise XX session between two identities), each end's outgoing boxes captured: the relay is the test. */
async function linkPair() {
  const [a, b] = await Promise.all([party(), party()])
  const { initiator, responder } = await runHandshake(a.credentials, b.credentials)
  const [idA, idB] = [parseId(a.identity.id), parseId(b.identity.id)]
  const toB: Box[] = []
  const toA: Box[] = []
  const hostA = host(idA, toB)
  const hostB = host(idB, toA)
  const atA = new RelayedChannel(hostA, idB, 7, [1, idB], initiator, null)
  const atB = new RelayedChannel(hostB, idA, 7, [1, idA], responder, null)
  const received: Uint8Array[] = []
  atB.frames$.subscribe((frame) => received.push(frame))
  /** The relay hands a box to B as it is (or as the test changed it). */
  const deliver = (box: Box) => {
    const message = decodeLinkMessage(box.payload)
    if (message?.kind === LinkKind.Data) atB.receive(message.kindByte, box.seq, message.sealed)
    else if (message?.kind === LinkKind.Close) atB.receive(LinkKind.Close, box.seq, message.sealed)
  }
  return { atA, atB, toB, toA, received, deliver, statsB: hostB.stats, idA, idB }
}

const bytesOf = (text: string) => new TextEncoder().encode(text)
const textOf = (bytes: Uint8Array) => new TextDecoder().decode(bytes)

describe('a relayed link: the relay can only drop', () => {
  it('frames arrive whole and in order, and the relay sees none of their bytes', async () => {
    const p = await linkPair()
    for (const text of ['first', 'second', 'third']) p.atA.send(bytesOf(text))
    expect(p.toB).toHaveLength(3)
    for (const box of p.toB) expect(textOf(box.payload)).not.toMatch(/first|second|third/)
    p.toB.forEach(p.deliver)
    expect(p.received.map(textOf)).toEqual(['first', 'second', 'third'])
  })

  it('a box with one bit flipped anywhere (kind byte, ciphertext, tag) is dropped; the link carries on', async () => {
    const p = await linkPair()
    p.atA.send(bytesOf('to be altered'))
    p.atA.send(bytesOf('after'))
    const [altered, after] = p.toB
    // Bits 6 and 7 of the kind byte make a part of it (Continues, More): still a Data box, but not the one sealed.
    for (const bit of [6, 7, 8 * 5, 8 * (altered.payload.byteLength - 1)]) p.deliver({ ...altered, payload: flipBit(altered.payload, bit) })
    expect(p.received).toEqual([])
    expect(p.statsB.rejected).toBe(4)
    p.deliver(after)
    expect(p.received.map(textOf)).toEqual(['after'])
  })

  it('a box moved to another position (its seq changed) or to another link (conn) fails its tag', async () => {
    const p = await linkPair()
    p.atA.send(bytesOf('zero'))
    const [box] = p.toB
    p.deliver({ ...box, seq: 1 })
    const message = decodeLinkMessage(box.payload)!
    if (message.kind !== LinkKind.Data) throw new Error('expected a Data box')
    // The box as another link's: B's opener checks the aad of link 7, so a box sealed for conn 8 fails.
    expect(() => p.atA['session'].opener.open(0, linkAad(message.kindByte, p.idA, p.idB, 8, 0), message.sealed)).toThrow(/authentication/)
    expect(p.received).toEqual([])
    expect(p.statsB.rejected).toBe(1)
  })

  it('a replayed box, and one that was overtaken, are dropped: never delivered twice, never out of order', async () => {
    const p = await linkPair()
    for (const text of ['a', 'b', 'c']) p.atA.send(bytesOf(text))
    const [a, b, c] = p.toB
    p.deliver(a)
    p.deliver(a)
    p.deliver(c)
    p.deliver(b)
    expect(p.received.map(textOf)).toEqual(['a', 'c'])
    expect(p.statsB.stale).toBe(2)
  })

  it('a frame too big for one box goes in two parts; a lost part loses that frame only', async () => {
    const p = await linkPair()
    const big = new Uint8Array(MAX_FRAME_BYTES).map((_, i) => i % 251)
    p.atA.send(big)
    p.atA.send(big)
    p.atA.send(bytesOf('small'))
    expect(p.toB).toHaveLength(5)
    expect(LINK_CHUNK_BYTES).toBeLessThan(MAX_FRAME_BYTES)
    const [head1, tail1, head2, tail2, small] = p.toB
    p.deliver(head1)
    p.deliver(tail1)
    // The second frame's head is lost: its tail alone is nothing.
    p.deliver(tail2)
    p.deliver(small)
    expect(p.received).toHaveLength(2)
    expect(p.received[0]).toEqual(big)
    expect(textOf(p.received[1])).toBe('small')
    void head2
  })

  it('only the far end can close the link: a Close box from anyone else fails its tag', async () => {
    const p = await linkPair()
    p.atA.send(bytesOf('x'))
    const forged = encodeLinkMessage({ kind: LinkKind.Close, sealed: new Uint8Array(16) })
    p.deliver({ conn: 7, seq: 1, payload: forged })
    expect(p.atB.isOpen).toBe(true)
    p.atA.close()
    const close = p.toB[p.toB.length - 1]
    p.deliver(p.toB[0])
    p.deliver(close)
    expect(p.atB.isOpen).toBe(false)
  })
})
