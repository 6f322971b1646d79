import { filter, firstValueFrom } from 'rxjs'
import type { Explorer } from '../../src'
import { signAs, verifySignature } from '../../src/identity'
import { formatId, parseId } from '../../src/ids'
import { LinkKind, decodeLinkMessage, encodeLinkMessage, linkPrologue } from '../../src/links/link-wire'
import { SecureInitiator, createNoiseCredentials } from '../../src/noise'
import { DEFAULT_TTL, FrameFlag, FrameType, encodeFrame } from '../../src/wire/frame'
import { writeSourceRoute } from '../../src/wire/route-record'
import { ringCorrect, ringOf } from '../explorer/helpers'
import { HOSTS, URL, natWorld } from '../ring/nat-world'

/**
 * The relay is a stranger: the public peer, which relays the link between
 * symmetric-1 and symmetric-2, tries to open a link to symmetric-2 in
 * symmetric-1's name (our own handshake code, with its own identity, and
 * the frames' source set to symmetric-1). It sees every message of the
 * handshake, but cannot prove symmetric-1's key.
 */
describe('relayed links: nobody can open one in another peer’s name', () => {
  let w = natWorld(4)
  let explorers: Explorer[] = []
  afterEach(async () => {
    await w.settle(Promise.all(explorers.map((e) => e.close())))
    explorers = []
  })

  it('the relay cannot impersonate one end to the other: the link stays the real one', async () => {
    w = natWorld(4)
    w.signal.serve(URL)
    explorers = HOSTS.map((_, i) => w.explorer(i))
    for (const explorer of explorers) await w.settle(explorer.listen(), 60_000)
    await w.until(() => ringCorrect(explorers), 30_000, 'the ring')
    const [relay, victim, target] = [0, 3, 4]
    const [m, a, b] = [relay, victim, target].map((i) => parseId(explorers[i].id))
    const real = w.channel(explorers, target, victim)
    expect(real?.relayed).toBe(true)
    const accepted = ringOf(explorers[target]).links.stats.accepted

    // The attacker's handshake: its own credentials, symmetric-1's id in the prologue and as the frames' source.
    const credentials = await createNoiseCredentials({ publicKey: w.identities[relay].publicKey, sign: (bytes) => signAs(w.identities[relay], bytes) })
    const conn = 4242
    const initiator = new SecureInitiator(credentials, { verify: verifySignature, expectedId: formatId(b), prologue: linkPrologue(a, b, conn) })
    const forge = (payload: Uint8Array) =>
      ringOf(explorers[relay]).channels.send(b, encodeFrame({
        type: FrameType.Link, ttl: DEFAULT_TTL, flags: FrameFlag.Exact | FrameFlag.Routed, source: a, dest: b, conn, seq: 0,
        // As if it came from symmetric-1 through us: the target answers through us.
        payload: Object.assign(writeSourceRoute([m, b], payload), { 1: 1 }),
      }))
    // Symmetric-2 answers towards symmetric-1 through the relay, which reads the answer on its way.
    const accept = firstValueFrom(ringOf(explorers[victim]).router.frames$(FrameType.Link).pipe(filter((f) => f.conn === conn)))
    forge(encodeLinkMessage({ kind: LinkKind.Open, neighbours: [m], message1: initiator.message1 }))
    const answer = decodeLinkMessage((await w.settle(accept)).payload)
    if (answer?.kind !== LinkKind.Accept) throw new Error('expected the target to answer the Open')
    // The target proved itself to the attacker (message 2 is the target's), but message 3 can only prove the attacker.
    const { message3 } = await initiator.complete(answer.message2)
    forge(encodeLinkMessage({ kind: LinkKind.Finish, message3 }))
    await w.until(() => false, 2000).catch(() => undefined)

    expect(ringOf(explorers[target]).links.stats.accepted).toBe(accepted)
    expect(w.channel(explorers, target, victim)).toBe(real)
    // And the real link still carries: symmetric-1 and symmetric-2 talk.
    for (const e of explorers) e.incoming$.subscribe((s) => s.data$.subscribe((d) => s.send(d)))
    expect(await w.echo(explorers, victim, target)).toBe(`ping ${victim}→${target}`)
  })
})
