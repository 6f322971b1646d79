import type { RingNode } from '../ring/node'
import type { SocketLayer } from '../sockets'
import type { Explorer } from './explorer'
import type { ServerLink } from './server-link'

/** The parts an Explorer is built of: for tests and benchmarks only, never for applications. */
export interface ExplorerInternals {
  ring: RingNode
  sockets: SocketLayer
  link: ServerLink
}

const internals = new WeakMap<Explorer, ExplorerInternals>()

/** Called once by each explorer's constructor. */
export function registerExplorerInternals(explorer: Explorer, parts: ExplorerInternals): void {
  internals.set(explorer, parts)
}

/**
 * For tests and benchmarks only (not exported by the package, not in its
 * types): the ring node, socket layer and server link under an explorer.
 */
export function explorerInternals(explorer: Explorer): ExplorerInternals {
  const parts = internals.get(explorer)
  if (parts === undefined) throw new Error('not an explorer made by createExplorer')
  return parts
}
