import { Observable, Subject } from 'rxjs'
import { isExplorerError } from './errors'
import { formatId } from './ids'

/**
 * What went wrong in the background, where no caller is waiting for the
 * answer (ring upkeep, the server connection). None of these stop the peer:
 * it tries again later. docs/api.md lists them.
 */
export type DiagnosticCode =
  /** A finger row could not be refreshed: its lookup or the channel to its owner failed. */
  | 'FINGER_FAILED'
  /** A finger did not answer the check that it still owns its row: the row is looked up again. */
  | 'FINGER_SILENT'
  /** Our successor did not answer stabilize, or could not be reached: dropped, the next in the list takes over. */
  | 'SUCCESSOR_DROPPED'
  /** A closer successor (named by our successor's state or a neighbour's hint) could not be reached. */
  | 'SUCCESSOR_UNREACHABLE'
  /** The ring-position check (who owns our id, or the key after it) failed. */
  | 'RING_CHECK_FAILED'
  /** A join attempt failed (a round of asking the server for peers, or an attempt through the bootstrap peer); tried again. */
  | 'JOIN_ATTEMPT_FAILED'
  /** listen(): a peer the server listed could not take us into the ring; the next is tried. */
  | 'JOIN_CANDIDATE_FAILED'
  /** After losing every channel, attaching again through the server failed; tried again. */
  | 'REATTACH_FAILED'
  /** The server's hint of a closer successor: the channel to that peer could not be opened. */
  | 'SERVER_HINT_FAILED'
  /** Reconnecting to the signalling server failed; tried again with back-off. */
  | 'SERVER_UNREACHABLE'
  /** close(): the server connection did not close in time (dropped anyway). */
  | 'SERVER_CLOSE_FAILED'
  /** A channel set-up signal was not signed by the key its claimed sender's id comes from: dropped (someone spoke in another's name). */
  | 'SIGNAL_UNPROVEN'
  /** A channel whose path went down could not be renewed by ICE restarts (src/ring/ice-restarts.ts): it was dropped. */
  | 'ICE_RESTART_FAILED'

export interface Diagnostic {
  code: DiagnosticCode
  /** A human sentence: what failed and why. */
  message: string
  /** The underlying error's code (`LOOKUP_TIMEOUT`, `SIGNAL_FAILED`, ...), when it had one. */
  cause?: string
  /** The peer concerned, 12 hex. */
  peer?: string
  /** The finger row concerned. */
  row?: number
  /** When, in ms on the peer's clock (its scheduler's `now()`). */
  at: number
}

/**
 * Where background failures go instead of being dropped. An event is built
 * only while someone listens: a simulation of thousands of peers pays nothing.
 */
export class Diagnostics {
  private readonly events = new Subject<Diagnostic>()
  readonly events$: Observable<Diagnostic> = this.events.asObservable()

  constructor(private readonly now: () => number) {}

  report(code: DiagnosticCode, error: unknown, about: { peer?: number; row?: number } = {}): void {
    if (!this.events.observed) return
    const event: Diagnostic = { code, message: error instanceof Error ? error.message : String(error), at: this.now() }
    if (isExplorerError(error)) event.cause = error.code
    if (about.peer !== undefined) event.peer = formatId(about.peer)
    if (about.row !== undefined) event.row = about.row
    this.events.next(event)
  }

  complete(): void {
    this.events.complete()
  }
}
