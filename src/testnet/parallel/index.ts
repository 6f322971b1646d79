/**
 * Parallel simulation: the ring's peers split by arcs of the id space across
 * worker threads that run in lock-step windows of one link latency. Node-only
 * (worker_threads), for the simulator; not part of the library's API.
 */
export { ParallelTestnet, type ParallelTestnetOptions, type RingProgress, type RingReport } from './coordinator'
export { runPartitionWorker } from './worker'
export { partitionOf } from './partition'
