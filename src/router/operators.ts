import { Observable, OperatorFunction } from 'rxjs'
import type { Frame } from '../wire/frame'
import { MalformedReason, inspectInbound } from '../wire/inbound'
import type { InboundFrame } from './channel-set'
import type { LocalFrame } from './router'

/** A decoded frame on its way through this peer, with the bytes it arrived in (forwarded as they are). */
export interface RoutedFrame {
  frame: Frame
  from: number
  bytes: Uint8Array | null
}

/**
 * Channel bytes → frames. Malformed ones (src/wire/inbound.ts: not a frame,
 * bad TTL, unknown flags, a broken route) are dropped and reported with the
 * channel they came from and why; nothing here throws.
 */
export function decodeFrames(onMalformed: (from: number, reason: MalformedReason, bytes: Uint8Array) => void): OperatorFunction<InboundFrame, RoutedFrame> {
  return (source) =>
    new Observable<RoutedFrame>((subscriber) =>
      source.subscribe({
        next: ({ from, bytes }) => {
          const result = inspectInbound(bytes)
          if (result.ok) subscriber.next({ frame: result.frame, from, bytes })
          else onMalformed(from, result.reason, bytes)
        },
        error: (error) => subscriber.error(error),
        complete: () => subscriber.complete(),
      }),
    )
}

/**
 * Frames → the ones that stop here. `route` forwards the others as a side
 * effect and says whether they left (true) or were dropped (false). A frame
 * whose handling throws is handed to `onError` and dropped: one bad frame
 * never ends the stream (an error here would silence the peer for good).
 */
export function routeFrames(
  route: (routed: RoutedFrame) => LocalFrame | boolean,
  onError: (routed: RoutedFrame, error: unknown) => void,
): OperatorFunction<RoutedFrame, LocalFrame> {
  return (source) =>
    new Observable<LocalFrame>((subscriber) =>
      source.subscribe({
        next: (routed) => {
          let result: LocalFrame | boolean
          try {
            result = route(routed)
          } catch (error) {
            onError(routed, error)
            return
          }
          if (typeof result === 'object') subscriber.next(result)
        },
        error: (error) => subscriber.error(error),
        complete: () => subscriber.complete(),
      }),
    )
}
