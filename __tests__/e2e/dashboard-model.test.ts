/** The dashboard's pure parts (they also run in the page): ring geometry, link analysis, label spreading. */
import { analyseRing, ringFraction, ringPoint, spreadLabels } from '../../signal-server/dashboard/client'
import { convergedReports, fixtureIds } from './ring-fixture'

const toJson = (ids: string[], reports: ReturnType<typeof convergedReports>) => ({
  peers: ids.slice().sort(),
  reports: Object.fromEntries([...reports].map(([id, r]) => [id, { successors: r.successors, predecessor: r.predecessor, fingers: r.fingers, at: 0 }])),
})

describe('dashboard model', () => {
  it('places ids clockwise from the top: angle = id / 2^48', () => {
    expect(ringFraction('000000000000')).toBe(0)
    expect(ringFraction('800000000000')).toBe(0.5)
    expect(ringFraction('ffffffffffff')).toBeLessThan(1)
    const right = ringPoint(ringFraction('400000000000'), 500, 500, 100)
    expect(right.x).toBeCloseTo(600)
    expect(right.y).toBeCloseTo(500)
    const bottom = ringPoint(0.5, 500, 500, 100)
    expect(bottom.y).toBeCloseTo(600)
  })

  it('a converged ring has one good successor link per peer and no stale link', () => {
    const ids = fixtureIds(20)
    const model = analyseRing(toJson(ids, convergedReports(ids)))
    expect(model.reported).toBe(20)
    expect(model.successorLinks).toBe(20)
    expect(model.stale).toBe(0)
    expect(model.links.every((l) => l.from !== l.to)).toBe(true)
  })

  it('flags links to a departed peer and successors that skip a live peer', () => {
    const ids = fixtureIds(10).sort()
    const reports = convergedReports(ids)
    // ids[3] left: its predecessor's successor points at nobody.
    const gone = analyseRing(toJson(ids.filter((id) => id !== ids[3]), reports))
    const fromPred = gone.links.find((l) => l.from === ids[2] && l.kind === 'successor')!
    expect(fromPred.ok).toBe(false)
    // A newcomer between ids[5] and ids[6] that nobody knows about yet: ids[5]'s successor skips it.
    const newcomer = ((parseInt(ids[5]!, 16) + parseInt(ids[6]!, 16)) / 2).toString(16).split('.')[0]!.padStart(12, '0')
    const skipped = analyseRing(toJson(ids.concat(newcomer), reports))
    expect(skipped.reported).toBe(10)
    expect(skipped.links.filter((l) => !l.ok).map((l) => l.from)).toEqual([ids[5]])
  })

  it('marks reports that the named successor or predecessor contradicts (reports are claims)', () => {
    const ids = fixtureIds(10).sort()
    const reports = convergedReports(ids)
    expect(analyseRing(toJson(ids, reports)).disputed).toEqual([])
    // ids[4] claims ids[7] as its successor (a Sybil steering joiners, say): ids[7] names ids[6] as its predecessor,
    // and ids[5], whose predecessor ids[4] is, is contradicted in turn. Both ends are marked: the page cannot know who lies.
    const lying = new Map(reports)
    lying.set(ids[4]!, { ...reports.get(ids[4]!)!, successors: [ids[7]!, ...reports.get(ids[4]!)!.successors.slice(1)] })
    expect(analyseRing(toJson(ids, lying)).disputed).toEqual([ids[4], ids[5]])
    // ids[2] claims a predecessor whose own report names someone else as its successor (ids[1] is contradicted too).
    lying.set(ids[2]!, { ...reports.get(ids[2]!)!, predecessor: ids[8]! })
    expect(analyseRing(toJson(ids, lying)).disputed).toEqual([ids[1], ids[2], ids[4], ids[5]])
  })

  it('spreads crowded labels apart, keeping their order round the ring', () => {
    const r = 400
    const crowd = [0.49, 0.495, 0.5, 0.5005, 0.501, 0.51, 0.74, 0.745, 0.75]
    const out = spreadLabels(crowd, r)
    let total = 0
    for (let i = 0; i < out.length; i++) {
      const j = (i + 1) % out.length
      const gap = (out[j]! - out[i]! + 1) % 1
      total += gap
      const mid = ((out[i]! + gap / 2) % 1) * 2 * Math.PI
      expect(gap * 2 * Math.PI * r).toBeGreaterThanOrEqual(18 + 46 * Math.abs(Math.cos(mid)) - 1)
    }
    // Gaps going once round the circle: no label overtook another.
    expect(total).toBeCloseTo(1, 9)
    // Far from any crowd, a label stays at its peer.
    const alone = spreadLabels([0.1, 0.6], r)
    expect(alone[0]).toBeCloseTo(0.1, 12)
    expect(alone[1]).toBeCloseTo(0.6, 12)
  })
})
