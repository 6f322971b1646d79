export { MemoryNetwork, type MemoryNetworkOptions } from './network'
export { MemoryTransport } from './transport'
export { MemoryChannel, type FarEnd } from './channel'
export type { MemoryNetworkStats } from './link'
