import { spawnSync } from 'node:child_process'
import { startAgents, startSignalServer, type Agent } from '../../scripts/nat-lab/agents'
import { createNatLab, removeStaleLabs, type NatLab } from '../../scripts/nat-lab/lab'
import { mismatch } from '../../scripts/nat-lab/probe'
import { connectPairs, ringOrderedIdentities, runOverlay, type PairOutcome } from '../../scripts/nat-lab/scenarios'
import { namespaces, run } from '../../scripts/nat-lab/system'

/**
 * The NAT lab (scripts/nat-lab/): network namespaces, nftables NATs, coturn
 * and the signalling server on this machine, peers in their homes. Needs
 * root; when the lab cannot be built the suite fails with the reason
 * (NatLabError), it never skips. ~70 s.
 */
jest.setTimeout(180_000)

const pairKey = (p: PairOutcome) => `${p.from} ↔ ${p.to}`
/** Pairs no STUN hole punching can join: one side symmetric, the other symmetric or port-restricted (RFC 4787 mapping × filtering). */
const UNPUNCHABLE = ['port-restricted ↔ symmetric-1', 'port-restricted ↔ symmetric-2', 'symmetric-1 ↔ symmetric-2']
/** Fast ring rounds (as bench:nat), a 4 s dial timeout. */
const LAB_EXPLORER = { stabilizeMs: 200, fixFingersMs: 100, rpcTimeoutMs: 1500, connectTimeoutMs: 4000, reportMs: 200, reconnectMinMs: 200, reconnectMaxMs: 2000, dialTimeoutMs: 4000 }

describe('NAT lab', () => {
  let lab: NatLab
  beforeAll(async () => {
    lab = await createNatLab()
  })
  afterAll(async () => {
    await lab?.close()
    expect(namespaces().filter((ns) => ns.startsWith(`${lab?.tag}-`))).toEqual([])
  })

  it('every NAT behaves as named (mapping and filtering probed, RFC 4787 terms)', () => {
    const seen = Object.fromEntries(lab.checks.map((c) => [c.host, `${c.seen.translated ? 'NAT' : 'no NAT'}, ${c.seen.mapping} mapping, ${c.seen.filtering} filtering`]))
    expect(seen).toEqual({
      public: 'no NAT, endpoint-independent mapping, endpoint-independent filtering',
      'full-cone': 'NAT, endpoint-independent mapping, endpoint-independent filtering',
      'port-restricted': 'NAT, endpoint-independent mapping, address-and-port-dependent filtering',
      'symmetric-1': 'NAT, address-and-port-dependent mapping, address-and-port-dependent filtering',
      'symmetric-2': 'NAT, address-and-port-dependent mapping, address-and-port-dependent filtering',
    })
  })

  it('the check catches a NAT that is not what it is named', async () => {
    lab.setNat('full-cone', 'port-restricted')
    try {
      const [check] = await lab.checkNats(['full-cone'])
      expect(mismatch(check.host, check.seen, check.expected)).toBe('full-cone: filtering is address-and-port-dependent, expected endpoint-independent')
    } finally {
      lab.setNat('full-cone', 'full-cone')
    }
    const [again] = await lab.checkNats(['full-cone'])
    expect(mismatch(again.host, again.seen, again.expected)).toBeNull()
  })

  it('removes what a crashed run left behind, and nothing of a live lab', () => {
    const ours = namespaces().filter((ns) => ns.startsWith(`${lab.tag}-`))
    expect(ours).toHaveLength(13) // inet, sig, turn, probe, pub, and a router and a host per home
    const gone = spawnSync('true').pid!
    const stale = [`wxnat-${gone}-inet`, `wxnat-${gone}-home-fc`]
    for (const ns of stale) run('ip', ['netns', 'add', ns])
    expect(removeStaleLabs()).toEqual([`wxnat-${gone}`])
    expect(namespaces().filter((ns) => stale.includes(ns))).toEqual([])
    expect(namespaces().filter((ns) => ns.startsWith(`${lab.tag}-`))).toEqual(ours)
  })

  describe('with peers', () => {
    let agents: Agent[] = []
    afterEach(async () => {
      await Promise.all(agents.map((a) => a.stop()))
      agents = []
    })

    it('STUN only (the signalling server\'s own): every pair but the unpunchable ones hole-punches, none relayed; the overlay is right and all 20 dials echo, the unpunchable ones through the ring', async () => {
      const server = await startSignalServer(lab, [])
      try {
        agents = await startAgents(lab, lab.hosts)
        const pairs = await connectPairs(agents, server.url, 5000)
        expect(pairs.filter((p) => !p.ok).map(pairKey).sort()).toEqual(UNPUNCHABLE)
        expect(pairs.filter((p) => p.relayed)).toEqual([])
        // Two NATed peers met on their reflexive addresses: the server's STUN answered, the NATs were punched.
        const natted = pairs.filter((p) => p.ok && p.from !== 'public')
        expect(natted).toHaveLength(3)
        for (const p of natted) expect(`${pairKey(p)}: ${p.types}`).toMatch(/: (srflx|prflx)\/(srflx|prflx)$/)

        // The overlay on STUN alone: the pairs that cannot meet reach each other through the ring (relayed links
        // for ring neighbours, routed sockets for the rest): every peer listens, the ring is right, all 20 dials echo.
        await Promise.all(agents.map((a) => a.stop()))
        agents = await startAgents(lab, lab.hosts)
        const overlay = await runOverlay(agents, { signalUrl: server.url, identities: ringOrderedIdentities(5), explorerOptions: LAB_EXPLORER, listenTimeoutMs: 30_000, settleMs: 15_000, dialConcurrency: 4 })
        expect(overlay.listens.filter((l) => !l.ok)).toEqual([])
        expect(overlay.ringProblems).toEqual([])
        expect(overlay.dials.filter((d) => !d.ok)).toEqual([])
        expect(overlay.dials).toHaveLength(20)
        // Neither symmetric peer has a direct channel to the other: their dials went through the ring.
        expect(overlay.dials.filter((d) => d.from.startsWith('symmetric') && d.to.startsWith('symmetric')).map((d) => d.via)).toEqual(['ring', 'ring'])
      } finally {
        await server.stop()
      }
    })

    it('STUN + TURN (coturn, credentials minted by the signalling server): every pair connects, relayed exactly where it must be', async () => {
      const turn = await lab.startTurn()
      const server = await startSignalServer(lab, ['--turn', turn.urls[0], '--turn-secret', turn.secret])
      try {
        agents = await startAgents(lab, lab.hosts)
        const pairs = await connectPairs(agents, server.url, 8000)
        expect(pairs.filter((p) => !p.ok)).toEqual([])
        expect(pairs.filter((p) => p.relayed).map(pairKey).sort()).toEqual(UNPUNCHABLE)

        // The overlay on the same servers, ICE servers as the server hands them out: a right ring, every ordered pair dials and echoes.
        await Promise.all(agents.map((a) => a.stop()))
        agents = await startAgents(lab, lab.hosts)
        const overlay = await runOverlay(agents, {
          signalUrl: server.url,
          identities: ringOrderedIdentities(5),
          explorerOptions: LAB_EXPLORER,
          listenTimeoutMs: 30_000, settleMs: 15_000, dialConcurrency: 4,
        })
        expect(overlay.listens.filter((l) => !l.ok)).toEqual([])
        expect(overlay.ringProblems).toEqual([])
        expect(overlay.dials.filter((d) => !d.ok)).toEqual([])
        expect(overlay.dials).toHaveLength(20)
      } finally {
        await server.stop()
      }
    })
  })
})
