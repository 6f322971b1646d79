import { Internals } from '../internals'
import type { RingNode } from '../ring/node'
import type { SocketLayer } from '../sockets'
import type { Explorer } from './explorer'
import type { ServerLink } from './server-link'

/** The parts an Explorer is built of. */
export interface ExplorerInternals {
  ring: RingNode
  sockets: SocketLayer
  link: ServerLink
}

const internals = new Internals<Explorer, ExplorerInternals>('an explorer made by createExplorer')

/** Called once by each explorer's constructor. */
export const registerExplorerInternals = (explorer: Explorer, parts: ExplorerInternals): void => internals.register(explorer, parts)

/**
 * For tests and benchmarks only (not exported by the package, not in its
 * types): the ring node, socket layer and server link under an explorer.
 */
export const explorerInternals = (explorer: Explorer): ExplorerInternals => internals.of(explorer)
