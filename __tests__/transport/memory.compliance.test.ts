import { MemoryNetwork, type MemoryNetworkOptions } from '../../src/transport/memory'
import { describeTransportCompliance } from './compliance'

function memoryHarness(options: MemoryNetworkOptions) {
  return async () => {
    const net = new MemoryNetwork(options)
    return {
      a: net.transport(1),
      b: net.transport(2),
      c: net.transport(3),
      idA: 1,
      idB: 2,
      idC: 3,
      lowWaterMark: options.lowWaterMark ?? 0,
      openChannels: () => net.channelCount(),
      close: async () => {},
    }
  }
}

describeTransportCompliance('memory, no latency', memoryHarness({}))
describeTransportCompliance('memory, 1-3 ms jitter', memoryHarness({ latencyMs: () => 1 + Math.random() * 2, lowWaterMark: 4096 }))
