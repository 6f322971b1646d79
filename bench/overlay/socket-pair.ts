import { filter, firstValueFrom } from 'rxjs'
import type { Explorer, ExplorerSocket } from '../../src'
import { FrameType } from '../../src/wire/frame'
import type { Link, Pair } from '../pair/link'

export interface SocketPair extends Pair {
  /** Forwarding steps a frame takes from a to b (the Open)... */
  hops: number
  /** ...and back (the Accept): routes need not be symmetric. */
  hopsBack: number
}

/**
 * A routed socket from `a` to `b` as a benchmark Pair (the same Link the raw
 * pair is measured through), with the hops its Open took. `b` must accept.
 */
export async function socketPair(a: Explorer, b: Explorer): Promise<SocketPair> {
  const openHops = firstValueFrom(b.ring.router.frames$(FrameType.Open).pipe(filter((f) => f.source === a.ring.id)))
  const acceptHops = firstValueFrom(a.ring.router.frames$(FrameType.Accept).pipe(filter((f) => f.source === b.ring.id)))
  const accepted = firstValueFrom(b.incoming$.pipe(filter((s) => s.remoteId === a.id)))
  const t0 = performance.now()
  const local = await firstValueFrom(a.dial$(b.id))
  const connectMs = performance.now() - t0
  const [remote, open, accept] = await Promise.all([accepted, openHops, acceptHops])
  return {
    a: link(local),
    b: link(remote),
    connectMs,
    hops: open.hops,
    hopsBack: accept.hops,
    close: async () => {
      local.close()
      remote.close()
    },
  }
}

/** ExplorerSocket has no drain event: poll its queue every millisecond, as the raw link does. */
function link(socket: ExplorerSocket): Link {
  let handler: (bytes: Uint8Array) => void = () => undefined
  socket.data$.subscribe((data) => handler(data))
  const whenDrained = (callback: () => void): void => {
    if (socket.bufferedAmount <= 256 * 1024) callback()
    else setTimeout(whenDrained, 1, callback)
  }
  return {
    send: (bytes) => void socket.send(bytes),
    get bufferedAmount() {
      return socket.bufferedAmount
    },
    whenDrained,
    onMessage: (h) => (handler = h),
  }
}
