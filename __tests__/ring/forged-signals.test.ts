import { NEVER, firstValueFrom, of, type Subscription } from 'rxjs'
import type { Diagnostic } from '../../src/diagnostics'
import { toBase64url } from '../../src/identity/base64url'
import { identityProver, type SignalProof } from '../../src/identity/signal-proof'
import { RING_SIZE } from '../../src/ids'
import type { RingNode } from '../../src/ring/node'
import { encodeEnvelope, parseEnvelope, signalEnvelope } from '../../src/ring/signal-envelope'
import { createTestnet, type Testnet } from '../../src/testnet'
import { DEFAULT_TTL, FrameFlag, FrameType, decodeFrame, encodeFrame } from '../../src/wire/frame'
import { isExplorerError } from '../../src/errors'

/**
 * The attacker is a peer of the ring running our own code; what it changes is
 * one thing: it writes another peer's id as the source of a Signal frame, or
 * answers a dial meant for an id it does not hold the key of. Real Ed25519
 * proofs (the testnet's 'ed25519' mode), memory transport modelling WebRTC:
 * whoever made an offer or answer is who the channel reaches.
 */
describe('forged channel set-up signals', () => {
  let net: Testnet
  /** Frames the attacker withholds (its code would send them; it does not). */
  let withhold: (from: number, bytes: Uint8Array) => boolean = () => false
  const subscriptions: Subscription[] = []

  beforeEach(() => {
    withhold = () => false
    net = createTestnet(8, { proofs: 'ed25519', seed: 3, ringCheckMs: 0, frameTap: (from, _to, bytes) => !withhold(from, bytes) })
    expect(net.converge()).toBeGreaterThanOrEqual(0)
  })

  afterEach(() => {
    subscriptions.splice(0).forEach((s) => s.unsubscribe())
    net.close()
  })

  const identityOf = (node: RingNode) => net.identities.get(node.id)!

  function diagnosticsOf(node: RingNode): Diagnostic[] {
    const seen: Diagnostic[] = []
    subscriptions.push(node.diagnostics$.subscribe((d) => seen.push(d)))
    return seen
  }

  /**
   * A real signal of the attacker's own transport (an offer to `to`, or its
   * answer to `offer`): the channel it makes reaches the attacker. `opened`
   * tells whether the victim took it (a channel pair was made).
   */
  function attackersSignal(attacker: RingNode, to: RingNode, offer?: unknown): { signal: unknown; opened: () => boolean } {
    const made: unknown[] = []
    let opened = false
    const port = { signals$: offer === undefined ? NEVER : of(offer), send: (signal: unknown) => made.push(signal) }
    const transport = net.network.transport(attacker.id)
    subscriptions.push((offer === undefined ? transport.connect(to.id, port) : transport.accept(to.id, port)).subscribe({ next: () => (opened = true), error: () => {} }))
    expect(made).toHaveLength(1)
    return { signal: made[0], opened: () => opened }
  }

  /** Sends `signal` from `attacker` straight to its neighbour `victim` in a Signal frame that names `claimed` as its source. */
  function sendForged(attacker: RingNode, victim: RingNode, claimed: number, conn: number, signal: unknown, proof: SignalProof): void {
    const payload = encodeEnvelope(signalEnvelope(signal, true, proof))
    const frame = encodeFrame({ type: FrameType.Signal, ttl: DEFAULT_TTL, flags: FrameFlag.Exact, source: claimed, dest: victim.id, conn, seq: 0, payload })
    expect(attacker.channels.send(victim.id, frame)).toBe(true)
  }

  type Forge = (attacker: RingNode, claimed: number, to: number, conn: number, binding: string) => Promise<SignalProof>
  /** Our own key, under the claimed id. */
  const ownKeyUnderClaimedId: Forge = (attacker, claimed, to, conn, binding) =>
    firstValueFrom(identityProver(identityOf(attacker), claimed, 'sync').prove$(to, conn, binding))
  /** The claimed peer's key, over our own signature. */
  const claimedKeyOverOwnSignature: Forge = async (attacker, claimed, to, conn, binding) => ({
    ...(await ownKeyUnderClaimedId(attacker, claimed, to, conn, binding)),
    k: toBase64url(net.identities.get(claimed)!.publicKey),
  })
  /** The two ways to sign in another's name without its key. */
  const forgeries: Array<[string, Forge]> = [
    ['signed with the attacker’s key', ownKeyUnderClaimedId],
    ['the victim’s key with the attacker’s signature', claimedKeyOverOwnSignature],
  ]

  it.each(forgeries)('an offer in a neighbour’s name (%s) leaves the channel to that neighbour as it was and makes none', async (_name, forge) => {
    const nodes = [...net.nodes.values()]
    const victim = nodes[0]
    const impersonated = nodes.find((n) => n !== victim && victim.channels.has(n.id))!
    const attacker = nodes.find((n) => n !== victim && n !== impersonated && victim.channels.has(n.id) && n.channels.has(victim.id))!
    const channelBefore = victim.channels.channel(impersonated.id)
    const diagnostics = diagnosticsOf(victim)

    const offer = attackersSignal(attacker, victim)
    const conn = 0x5eed
    sendForged(attacker, victim, impersonated.id, conn, offer.signal, await forge(attacker, impersonated.id, victim.id, conn, net.network.transport(attacker.id).bindingOf(offer.signal)!))
    // (Long enough for the set-up: one-way latency is 1 ms, proofs are checked in the same turn.)
    net.scheduler.advanceBy(10_000)

    // (Compared, not matched: a failing toBe would print two whole channel graphs.)
    expect(victim.channels.channel(impersonated.id) === channelBefore && channelBefore!.isOpen).toBe(true)
    // The offer was never accepted: no channel pair was made for it.
    expect(offer.opened()).toBe(false)
    expect(diagnostics).toContainEqual(expect.objectContaining({ code: 'SIGNAL_UNPROVEN', peer: expect.stringMatching(/^[0-9a-f]{12}$/) }))
  })

  it('a peer answering a dial to an id it does not hold (a hinted non-peer) gets AUTH_FAILED, no channel, never a successor', async () => {
    // (An id nobody holds has no key to borrow: the attacker signs with its own.)
    const forge = ownKeyUnderClaimedId
    // The victim's successor owns the ids between them: a dial to one of those reaches it first.
    const victim = [...net.nodes.values()].find((n) => (n.successor - n.id + RING_SIZE) % RING_SIZE > 2)!
    const attacker = net.nodes.get(victim.successor)!
    const hinted = (victim.id + 1) % RING_SIZE
    // Its code would say "nobody has that id"; it answers in that id's name instead.
    withhold = (from, bytes) => {
      if (from !== attacker.id) return false
      const frame = decodeFrame(bytes)
      return frame !== null && frame.type === FrameType.Signal && parseEnvelope(frame.payload)?.abort === 'unreachable'
    }
    subscriptions.push(
      attacker.router.frames$(FrameType.Signal).subscribe((frame) => {
        const offer = parseEnvelope(frame.payload)?.s
        if (frame.dest !== hinted || offer === undefined) return
        const answer = attackersSignal(attacker, victim, offer).signal
        void forge(attacker, hinted, victim.id, frame.conn, net.network.transport(attacker.id).bindingOf(answer)!).then((proof) =>
          sendForged(attacker, victim, hinted, frame.conn, answer, proof),
        )
      }),
    )

    const dial = firstValueFrom(victim.signalling.ensureChannel$(hinted)).then(() => 'open', (e: unknown) => (isExplorerError(e) ? e.code : String(e)))
    for (let i = 0; i < 20; i++) {
      await Promise.resolve()
      net.scheduler.advanceBy(100)
    }
    await expect(dial).resolves.toBe('AUTH_FAILED')
    net.scheduler.advanceBy(10_000)
    expect(victim.channels.has(hinted)).toBe(false)
    expect(victim.successors).not.toContain(hinted)
  })
})
