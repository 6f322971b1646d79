import { Subscription, filter, firstValueFrom, take, timeout } from 'rxjs'
import type { Explorer, ExplorerSocket } from '../../src'
import { explorerInternals } from '../../src/explorer/internals'
import { FrameType } from '../../src/wire/frame'
import type { Link, Pair } from '../pair/link'

export interface SocketPair extends Pair {
  /** Forwarding steps a frame takes from a to b (the Open)... */
  hops: number
  /** ...and back (the Accept): routes need not be symmetric. */
  hopsBack: number
  /** The dialler and the dialled. */
  ends: [Explorer, Explorer]
}

/**
 * A routed socket from `a` to `b` as a benchmark Pair (the same Link the raw
 * pair is measured through), with the hops its Open and Accept took. `b` must
 * accept. Null when the dial failed (an overlay still settling).
 */
export async function socketPair(a: Explorer, b: Explorer): Promise<SocketPair | null> {
  let hops = -1
  let hopsBack = -1
  // Watchers, not promises: a failed dial must leave nothing pending behind.
  const watch = new Subscription()
  const [ringA, ringB] = [a, b].map((e) => explorerInternals(e).ring)
  watch.add(ringB.router.frames$(FrameType.Open).pipe(filter((f) => f.source === ringA.id), take(1)).subscribe((f) => (hops = f.hops)))
  watch.add(ringA.router.frames$(FrameType.Accept).pipe(filter((f) => f.source === ringB.id), take(1)).subscribe((f) => (hopsBack = f.hops)))
  // The dialled end emits its socket once the handshake's third message arrives, after the dial completed.
  const remote = firstValueFrom(b.incoming$.pipe(filter((s) => s.remoteId === a.id), take(1), timeout(5_000)))
  remote.catch(() => undefined)
  const t0 = performance.now()
  try {
    const local = await firstValueFrom(a.dial$(b.id))
    const connectMs = performance.now() - t0
    const accepted: ExplorerSocket = await remote
    return {
      a: link(local),
      b: link(accepted),
      connectMs,
      hops,
      hopsBack,
      ends: [a, b],
      close: async () => {
        local.close()
        accepted.close()
      },
    }
  } catch {
    return null
  } finally {
    watch.unsubscribe()
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
