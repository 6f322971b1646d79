import { ringCorrect, virtualWorld } from './helpers'

/**
 * Two rings that never met, each consistent on its own: Chord's stabilization
 * alone never merges them. Once their peers are registered with the same
 * server, its successor hints do. In virtual time, against virtual servers.
 */
describe('rings that split apart', () => {
  it('merge into one ring through the server’s successor hints', async () => {
    const w = virtualWorld(3)
    const [url1, url2] = ['ws://first.test/ws', 'ws://second.test/ws']
    const first = w.signal.serve(url1, { ringCheckMs: 200 })
    const second = w.signal.serve(url2)
    const a = w.explorers(url1, 4)
    const b = w.explorers(url2, 4)
    const explorers = [...a, ...b]
    await w.settle(Promise.all(explorers.map((e) => e.listen())))
    await w.until(() => ringCorrect(a) && ringCorrect(b), 30_000, 'two separate rings')
    expect(ringCorrect(explorers)).toBe(false)

    // The second server goes; its address now leads to the first, where b's peers register again.
    second.close()
    w.signal.route(url2, first)
    await w.until(() => first.peers === 8, 30_000, 'every peer registered with one server')

    await w.until(() => ringCorrect(explorers), 30_000, 'one merged ring')
    expect(first.counts.hints).toBeGreaterThan(0)
    await w.settle(Promise.all(explorers.map((e) => e.close())))
  })
})
