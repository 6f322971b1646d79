import { OperatorFunction, filter, map, pipe } from 'rxjs'
import { isExplorerError } from '../errors'
import { Frame, decodeFrame } from '../wire/frame'
import type { InboundFrame } from './channel-set'
import type { LocalFrame } from './router'

/** A decoded frame on its way through this peer, with the bytes it arrived in (forwarded as they are). */
export interface RoutedFrame {
  frame: Frame
  from: number
  bytes: Uint8Array | null
}

/** Channel bytes → frames. Malformed ones are dropped and reported per channel, never thrown. */
export function decodeFrames(onBadFrame: (from: number) => void): OperatorFunction<InboundFrame, RoutedFrame> {
  return pipe(
    map(({ from, bytes }): RoutedFrame | null => {
      try {
        return { frame: decodeFrame(bytes), from, bytes }
      } catch (error) {
        if (!isExplorerError(error, 'BAD_FRAME')) throw error
        onBadFrame(from)
        return null
      }
    }),
    filter((routed): routed is RoutedFrame => routed !== null),
  )
}

/**
 * Frames → the ones that stop here. `route` forwards the others as a side
 * effect and says whether they left (true) or were dropped (false).
 */
export function routeFrames(route: (routed: RoutedFrame) => LocalFrame | boolean): OperatorFunction<RoutedFrame, LocalFrame> {
  return pipe(
    map(route),
    filter((result): result is LocalFrame => typeof result === 'object'),
  )
}
