import type { RingState } from '../../src/ring/state'
import { ChannelBudget } from '../../src/ring/channel-budget'
import { ChannelSet } from '../../src/router/channel-set'
import { FakeChannel } from '../router/fake-channel'

/** Over budget, the least recently used channel goes: never one that carries a relayed link of ours (the link would die with it). */
describe('ChannelBudget', () => {
  it('closes the least recently used spare channel, passing over one that relays a link', () => {
    let now = 0
    const channels = new ChannelSet(1, () => now)
    const RELAY = 10
    const OTHERS = [20, 30]
    for (const id of [RELAY, ...OTHERS]) {
      now++
      channels.add(new FakeChannel(id), 1)
      channels.setRoutable(id, true)
    }
    // Used in the order added: the relay is the least recently used.
    const state = { isNeeded: () => false } as unknown as RingState
    const budget = new ChannelBudget({ channels, state, links: { relaysThrough: (peer) => peer === RELAY }, scheduler: { now: () => now } as never }, { maxChannels: 2, connectTimeoutMs: 1000 })
    budget.prune()
    expect(channels.remotes().sort((a, b) => a - b)).toEqual([RELAY, 30])
  })
})
