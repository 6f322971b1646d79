import { Observable, defer, from, map, of } from 'rxjs'
import { formatId } from '../ids'
import { fromBase64urlOfLength, toBase64url } from './base64url'
import { PUBLIC_KEY_BYTES, SIGNATURE_BYTES, verifySignature, verifySignatureSync } from './ed25519'
import { idFromPublicKey, signAs, signAsSync, type Identity } from './identity'

/**
 * Proofs on channel set-up signals. The signal that fixes who the far end of
 * a channel is (a WebRTC offer or answer: its SDP carries the DTLS
 * certificate's fingerprint, which the handshake then enforces) is signed by
 * its originator's identity key, bound to both ends' ids and the session. A
 * relay, the signalling server included, can then neither answer for a peer
 * nor swap the fingerprint: whoever completes the channel holds the key.
 */
export interface SignalProof {
  /** The signer's raw Ed25519 public key, base64url. */
  k: string
  /** Its signature of signalProofText(...), base64url. */
  p: string
}

/** Who proves our signals and checks others': real Ed25519, or a model of it (simulation). */
export interface SignalProver {
  /** Our proof for a signal `binding` we send to `to` in `session` (`to` null: an open offer, for whoever owns a key). */
  prove$(to: number | null, session: number, binding: string): Observable<SignalProof>
  /**
   * Whether `proof` shows that `from` (the id the signal claims) sent `binding`
   * to us (or, `open`, to anyone) in `session`; on success, the signer's key.
   */
  check$(proof: unknown, from: number, session: number, binding: string, open?: boolean): Observable<Uint8Array | null>
}

const encoder = new TextEncoder()

/** What a signal proof signs (UTF-8): a fixed prefix, both ids (`*` for anyone), the session and the transport's binding. */
export const signalProofText = (from: number, to: number | null, session: number, binding: string): Uint8Array =>
  encoder.encode(`webrtc-explorer signal v1\n${formatId(from)}\n${to === null ? '*' : formatId(to)}\n${session >>> 0}\n${binding}`)

/**
 * Real proofs with this peer's identity: WebCrypto where it has Ed25519
 * (asynchronous), or, `sync`, @noble/curves in the same call (the testnet's
 * real keys in virtual time, where nothing may wait on the event loop).
 */
export function identityProver(identity: Identity, self: number, mode: 'async' | 'sync' = 'async'): SignalProver {
  const key = toBase64url(identity.publicKey)
  const sign$ = (text: Uint8Array): Observable<Uint8Array> => (mode === 'sync' ? defer(() => of(signAsSync(identity, text))) : defer(() => from(signAs(identity, text))))
  const verify$ = (publicKey: Uint8Array, text: Uint8Array, signature: Uint8Array): Observable<boolean> =>
    mode === 'sync' ? defer(() => of(verifySignatureSync(publicKey, text, signature))) : defer(() => from(verifySignature(publicKey, text, signature)))
  return {
    prove$: (to, session, binding) => sign$(signalProofText(self, to, session, binding)).pipe(map((sig) => ({ k: key, p: toBase64url(sig) }))),
    check$: (proof, sender, session, binding, open = false) =>
      defer(() => {
        const parsed = parseProof(proof)
        if (parsed === null || idFromPublicKey(parsed.key) !== sender) return of(null)
        const text = signalProofText(sender, open ? null : self, session, binding)
        return verify$(parsed.key, text, parsed.signature).pipe(map((ok) => (ok ? parsed.key : null)))
      }),
  }
}

/**
 * The simulator's model of a proof (16,384 peers set up hundreds of
 * thousands of channels; real Ed25519 would be most of the run): the proof
 * names its signer and the binding, and checking compares them. It stands
 * for an unforgeable signature; the attack tests use real proofs.
 */
/** The "key" a modelled proof proves: one shared, never written (a new one per check was an allocation per channel set-up). */
const MODEL_KEY = new Uint8Array(PUBLIC_KEY_BYTES)

export function modelledProver(self: number): SignalProver {
  return {
    // (Ids as decimal numbers: formatting them as hex was 1 % of a simulation.)
    prove$: (to, session, binding) => of({ k: 'model', p: `${self}>${to === null ? '*' : to}#${session >>> 0}:${binding}` }),
    check$: (proof, sender, session, binding, open = false) => {
      const parsed = proof as Partial<SignalProof> | null
      const expected = `${sender}>${open ? '*' : self}#${session >>> 0}:${binding}`
      return of(parsed !== null && typeof parsed === 'object' && parsed.k === 'model' && parsed.p === expected ? MODEL_KEY : null)
    },
  }
}

function parseProof(proof: unknown): { key: Uint8Array; signature: Uint8Array } | null {
  if (typeof proof !== 'object' || proof === null) return null
  const { k, p } = proof as Partial<SignalProof>
  const key = fromBase64urlOfLength(k, PUBLIC_KEY_BYTES)
  const signature = fromBase64urlOfLength(p, SIGNATURE_BYTES)
  return key === null || signature === null ? null : { key, signature }
}
