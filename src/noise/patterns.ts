/**
 * The handshake patterns we run (Noise section 7), as token lists. Messages
 * alternate, the initiator's first. The pre-messages are keys a side knows
 * before the handshake (IK: the initiator already has the responder's static key).
 */
export type Token = 'e' | 's' | 'ee' | 'es' | 'se' | 'ss'

export interface HandshakePattern {
  readonly name: 'XX' | 'IK'
  readonly initiatorPreMessage: readonly Token[]
  readonly responderPreMessage: readonly Token[]
  readonly messages: readonly (readonly Token[])[]
}

/** -> e; <- e, ee, s, es; -> s, se. Each side learns the other's static key during the handshake. */
export const XX: HandshakePattern = {
  name: 'XX',
  initiatorPreMessage: [],
  responderPreMessage: [],
  messages: [['e'], ['e', 'ee', 's', 'es'], ['s', 'se']],
}

/** <- s; ...; -> e, es, s, ss; <- e, ee, se. The initiator must know the responder's static key. */
export const IK: HandshakePattern = {
  name: 'IK',
  initiatorPreMessage: [],
  responderPreMessage: ['s'],
  messages: [['e', 'es', 's', 'ss'], ['e', 'ee', 'se']],
}
