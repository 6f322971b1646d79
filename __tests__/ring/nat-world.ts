import { firstValueFrom, timeout } from 'rxjs'
import type { Explorer, ExplorerOptions } from '../../src'
import type { Identity } from '../../src/identity'
import { parseId } from '../../src/ids'
import { withUnreachablePairs } from '../../src/testnet/unreachable-pairs'
import type { Channel, SignalPort, Transport } from '../../src/transport/types'
import { ringOf, virtualWorld } from '../explorer/helpers'

export const URL = 'ws://signal.test/ws'

/** The lab's five hosts in ring order, and the pairs no STUN hole punching joins (docs/nat.md). */
export const HOSTS = ['public', 'full-cone', 'port-restricted', 'symmetric-1', 'symmetric-2'] as const
export const UNPUNCHABLE: ReadonlyArray<readonly [number, number]> = [[2, 3], [2, 4], [3, 4]]

/**
 * The NAT lab's reachability in virtual time: explorers on the memory
 * transport, placed in ring order (identities drawn and sorted by id), where
 * the pairs `blocked` names signal but never connect (withUnreachablePairs).
 * Counts every handshake each pair starts, as RTCPeerConnections would be.
 */
export function natWorld(seed = 1, count: number = HOSTS.length, blocked: ReadonlyArray<readonly [number, number]> = UNPUNCHABLE) {
  const w = virtualWorld(seed)
  const identities: Identity[] = Array.from({ length: count }, w.identity).sort((a, b) => (a.id < b.id ? -1 : 1))
  const index = new Map(identities.map((identity, i) => [parseId(identity.id), i]))
  const isBlocked = (a: number, b: number) => blocked.some(([x, y]) => (index.get(a) === x && index.get(b) === y) || (index.get(a) === y && index.get(b) === x))
  /** Handshakes started between peer indexes, "i-j" (i connects, j accepts). */
  const handshakes = new Map<string, number>()
  const counted = (inner: Transport, self: number): Transport => ({
    cheapOffers: inner.cheapOffers,
    bindingOf: (signal) => inner.bindingOf(signal),
    connect: (remote: number | null, port: SignalPort) => {
      if (remote !== null) bump(self, remote)
      return inner.connect(remote, port)
    },
    accept: (remote: number, port: SignalPort) => inner.accept(remote, port),
  })
  const bump = (from: number, to: number) => {
    const key = `${index.get(from)}-${index.get(to)}`
    handshakes.set(key, (handshakes.get(key) ?? 0) + 1)
  }
  const explorer = (i: number, extra: Partial<ExplorerOptions> = {}): Explorer => {
    const id = parseId(identities[i].id)
    const transport = counted(withUnreachablePairs(w.network.transport(id), id, isBlocked), id)
    return w.explorer(URL, identities[i], { transport, ...extra })
  }
  /** The channel explorer i holds to explorer j, if any. */
  const channel = (explorers: Explorer[], i: number, j: number): Channel | undefined => ringOf(explorers[i]).channels.channel(parseId(explorers[j].id))
  /** Dial + echo from i to j; resolves with the message echoed. */
  const echo = async (explorers: Explorer[], i: number, j: number): Promise<string> => {
    const socket = await w.settle(firstValueFrom(explorers[i].dial$(explorers[j].id)))
    const answer = firstValueFrom(socket.data$.pipe(timeout({ first: 10_000, scheduler: w.scheduler })))
    socket.send(`ping ${i}→${j}`)
    const data = await w.settle(answer)
    socket.close()
    return new TextDecoder().decode(data)
  }
  return { ...w, identities, isBlocked, handshakes, explorer, channel, echo }
}
