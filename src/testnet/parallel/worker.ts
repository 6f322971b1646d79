import { parentPort, workerData } from 'node:worker_threads'
import { isExplorerError } from '../../errors'
import { Exchange, ExchangeAborted, type ExchangeShape } from './exchange'
import { Partition, type PartitionSetup } from './partition'

/** What a partition worker is started with. */
export interface PartitionWorkerData {
  setup: PartitionSetup
  buffer: SharedArrayBuffer
  shape: ExchangeShape
}

/** What the coordinator asks of a partition; every partition gets the same command. */
export type PartitionCommand =
  | { type: 'advance'; to: number }
  | { type: 'progress' }
  | { type: 'report' }
  | { type: 'crash'; ids: number[] }
  | { type: 'lookups'; items: { from: number; key: number }[] }
  | { type: 'results' }
  | { type: 'stats' }
  | { type: 'close' }

/** `aborted`: this partition stopped because another failed (that one's reply says why). */
export type PartitionReply = { ok: unknown } | { error: string } | { aborted: true }

/**
 * The body of a partition's worker thread: builds its Partition, then runs
 * the coordinator's commands one at a time. A failure aborts the exchange (so
 * no partition waits forever at a barrier) and goes back as `error`.
 */
export function runPartitionWorker(): void {
  const port = parentPort
  if (port === null) throw new Error('runPartitionWorker runs in a worker thread')
  const { setup, buffer, shape } = workerData as PartitionWorkerData
  const exchange = new Exchange(buffer, shape, setup.partition)
  let partition: Partition | null = null
  port.on('message', (command: PartitionCommand) => {
    let reply: PartitionReply
    try {
      partition ??= new Partition(setup, exchange)
      reply = { ok: run(partition, command) }
    } catch (error) {
      exchange.abort()
      // Misuse says what is wrong; anything else brings its stack.
      if (error instanceof ExchangeAborted) reply = { aborted: true }
      else reply = { error: isExplorerError(error) ? `${error.code}: ${error.message}` : error instanceof Error ? (error.stack ?? error.message) : String(error) }
    }
    port.postMessage(reply)
    if (command.type === 'close') port.close()
  })
}

function run(partition: Partition, command: PartitionCommand): unknown {
  switch (command.type) {
    case 'advance':
      partition.advance(command.to)
      return partition.progress()
    case 'progress':
      return partition.progress()
    case 'report':
      return partition.report()
    case 'crash':
      return partition.crash(command.ids)
    case 'lookups':
      return partition.startLookups(command.items)
    case 'results':
      return partition.takeLookupResults()
    case 'stats':
      return partition.stats()
    case 'close':
      return partition.close()
  }
}
