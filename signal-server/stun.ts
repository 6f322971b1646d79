/**
 * A STUN binding responder (RFC 8489, formerly 5389): the one STUN service
 * a WebRTC peer needs to learn its server-reflexive address, so the
 * signalling server can hand out a STUN server of its own instead of
 * sending every user's address to someone else's. No authentication, no
 * TURN, no RFC 5780 NAT discovery: a Binding request gets a success
 * response carrying XOR-MAPPED-ADDRESS, a request with an unknown
 * comprehension-required attribute gets 420 (Unknown Attribute), and
 * anything else (malformed, an indication, a response, classic RFC 3489
 * STUN without the magic cookie) is ignored. A response is at most 12
 * bytes longer than the smallest request, so the responder amplifies
 * reflected traffic by less than 2x (a 20-byte request gets 32 bytes, 44
 * for IPv6).
 */
import { createSocket, type RemoteInfo, type Socket } from 'node:dgram'
import { isIPv4, isIPv6 } from 'node:net'

export const MAGIC_COOKIE = 0x2112a442
const HEADER = 20
const BINDING_REQUEST = 0x0001
const BINDING_SUCCESS = 0x0101
const BINDING_ERROR = 0x0111
const XOR_MAPPED_ADDRESS = 0x0020
const ERROR_CODE = 0x0009
const UNKNOWN_ATTRIBUTES = 0x000a

/** The reply to one datagram from `from`, or null when it deserves none. */
export function stunReply(packet: Uint8Array, from: { address: string; port: number }): Buffer | null {
  if (packet.byteLength < HEADER) return null
  const view = new DataView(packet.buffer, packet.byteOffset, packet.byteLength)
  const type = view.getUint16(0)
  const length = view.getUint16(2)
  if (type !== BINDING_REQUEST || view.getUint32(4) !== MAGIC_COOKIE) return null
  if (length % 4 !== 0 || length !== packet.byteLength - HEADER) return null
  const unknown = unknownRequiredAttributes(view, length)
  if (unknown === null) return null
  const transaction = packet.subarray(8, HEADER)
  if (unknown.length > 0) return unknownAttributeError(transaction, unknown)
  const address = xorMappedAddress(transaction, from.address, from.port)
  if (address === null) return null
  return message(BINDING_SUCCESS, transaction, [[XOR_MAPPED_ADDRESS, address]])
}

/** Comprehension-required types (below 0x8000) we do not know, or null if the attributes do not parse. */
function unknownRequiredAttributes(view: DataView, length: number): number[] | null {
  const unknown: number[] = []
  for (let at = HEADER; at < HEADER + length; ) {
    if (at + 4 > HEADER + length) return null
    const type = view.getUint16(at)
    const size = view.getUint16(at + 2)
    const next = at + 4 + Math.ceil(size / 4) * 4
    if (next > HEADER + length) return null
    if (type < 0x8000 && unknown.length < 16) unknown.push(type)
    at = next
  }
  return unknown
}

function xorMappedAddress(transaction: Uint8Array, address: string, port: number): Buffer | null {
  const ipv4 = isIPv4(address) ? address : /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(address)?.[1]
  const bytes = ipv4 !== undefined ? ipv4Bytes(ipv4) : isIPv6(address) ? ipv6Bytes(address) : null
  if (bytes === null) return null
  const value = Buffer.alloc(4 + bytes.length)
  value[1] = bytes.length === 4 ? 0x01 : 0x02
  value.writeUInt16BE(port ^ (MAGIC_COOKIE >>> 16), 2)
  // XOR with the cookie, then (IPv6) the transaction id.
  const key = Buffer.alloc(16)
  key.writeUInt32BE(MAGIC_COOKIE, 0)
  key.set(transaction, 4)
  for (let i = 0; i < bytes.length; i++) value[4 + i] = bytes[i] ^ key[i]
  return value
}

function unknownAttributeError(transaction: Uint8Array, types: number[]): Buffer {
  const reason = Buffer.from('Unknown Attribute')
  const code = Buffer.alloc(4 + reason.length)
  code[2] = 4
  code[3] = 20
  reason.copy(code, 4)
  const list = Buffer.alloc(types.length * 2)
  types.forEach((t, i) => list.writeUInt16BE(t, i * 2))
  return message(BINDING_ERROR, transaction, [[ERROR_CODE, code], [UNKNOWN_ATTRIBUTES, list]])
}

function message(type: number, transaction: Uint8Array, attributes: Array<[number, Buffer]>): Buffer {
  const padded = (n: number): number => Math.ceil(n / 4) * 4
  const length = attributes.reduce((sum, [, value]) => sum + 4 + padded(value.length), 0)
  const out = Buffer.alloc(HEADER + length)
  out.writeUInt16BE(type, 0)
  out.writeUInt16BE(length, 2)
  out.writeUInt32BE(MAGIC_COOKIE, 4)
  out.set(transaction, 8)
  let at = HEADER
  for (const [attribute, value] of attributes) {
    out.writeUInt16BE(attribute, at)
    out.writeUInt16BE(value.length, at + 2)
    value.copy(out, at + 4)
    at += 4 + padded(value.length)
  }
  return out
}

const ipv4Bytes = (address: string): number[] => address.split('.').map(Number)

function ipv6Bytes(address: string): number[] {
  const [head, tail = ''] = address.split('%')[0].split('::')
  const groups = (part: string): number[] => (part === '' ? [] : part.split(':').flatMap((g) => (g.includes('.') ? ipv4Groups(g) : [parseInt(g, 16)])))
  const left = groups(head)
  const right = address.includes('::') ? groups(tail) : []
  const all = [...left, ...Array(8 - left.length - right.length).fill(0), ...right]
  return all.flatMap((g) => [g >> 8, g & 0xff])
}

const ipv4Groups = (dotted: string): number[] => {
  const [a, b, c, d] = ipv4Bytes(dotted)
  return [(a << 8) | b, (c << 8) | d]
}

/** A UDP socket answering STUN binding requests; `answered` counts the replies. */
export class StunResponder {
  answered = 0
  private socket: Socket | null = null

  /** Binds; resolves with the port, rejects (e.g. EADDRINUSE) if the port cannot be had. */
  listen(port: number, host: string): Promise<number> {
    const socket = createSocket({ type: isIPv6(host) ? 'udp6' : 'udp4', reuseAddr: false })
    this.socket = socket
    socket.on('message', (packet: Buffer, from: RemoteInfo) => {
      const reply = stunReply(packet, from)
      if (reply === null) return
      this.answered++
      socket.send(reply, from.port, from.address)
    })
    return new Promise((resolve, reject) => {
      socket.once('error', (error) => {
        this.socket = null
        reject(error)
      })
      socket.bind(port, host, () => {
        // Later errors (an unreachable reply target) must not throw.
        socket.removeAllListeners('error')
        socket.on('error', () => undefined)
        resolve(socket.address().port)
      })
    })
  }

  close(): void {
    this.socket?.close()
    this.socket = null
  }
}
