export { createTestnet, type Testnet, type TestnetOptions } from './testnet'
export { RingOracle } from './oracle'
export { seededRandom, randomRingId } from './random'
export { tappedTransport, type FrameTap } from './tap'
