import type { Diagnostic } from '../../src/diagnostics'
import { formatId } from '../../src/ids'
import type { RingNode } from '../../src/ring/node'
import { createTestnet } from '../../src/testnet'
import { TIMING } from './helpers'

/** Background failures of ring upkeep go to diagnostics$, coded, with the peer and row concerned. */
describe('ring diagnostics', () => {
  it('a finger that went silent: FINGER_SILENT for its row, with the timeout that told', () => {
    // Short successor lists: many rows point past them, at fingers confirmed by a GetState each.
    // Failure detection is slow here, so the dead finger's channel stays open and the check goes out.
    const net = createTestnet(32, { seed: 7, ...TIMING, successors: 3, maxFingers: 4, failureDetectionMs: 60_000 })
    expect(net.converge()).toBeGreaterThanOrEqual(0)
    let found: { a: RingNode; row: number; finger: number } | null = null
    for (const a of net.nodes.values()) {
      for (const row of a.fingerTable.rows()) {
        const finger = a.fingerTable.get(row)!
        if (found === null && !a.successors.includes(finger) && finger !== a.predecessor) found = { a, row, finger }
      }
    }
    if (found === null) throw new Error('no finger outside a successor list')
    const { a, row, finger } = found
    const diagnostics: Diagnostic[] = []
    a.diagnostics$.subscribe((d) => diagnostics.push(d))
    net.crash([finger])
    const crashedAt = net.scheduler.now()
    a.updateFingerTable$().subscribe()
    net.scheduler.advanceBy(TIMING.rpcTimeoutMs)
    expect(diagnostics).toContainEqual({
      code: 'FINGER_SILENT', cause: 'LOOKUP_TIMEOUT', peer: formatId(finger), row, at: crashedAt + TIMING.rpcTimeoutMs,
      message: `finger check with ${formatId(finger)} got no answer within ${TIMING.rpcTimeoutMs} ms`,
    })
    net.close()
  })

  it('the stream ends when the node closes', () => {
    const net = createTestnet(4, { seed: 2, ...TIMING })
    expect(net.converge()).toBeGreaterThanOrEqual(0)
    const node = [...net.nodes.values()][0]
    let ended = false
    node.diagnostics$.subscribe({ complete: () => (ended = true) })
    node.close()
    expect(ended).toBe(true)
    net.close()
  })
})
