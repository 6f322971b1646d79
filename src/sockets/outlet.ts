import { Observable, Subject } from 'rxjs'

/**
 * A socket's `data$`. Messages that arrive before anyone subscribed are held
 * for the first subscriber (a dialler subscribes only after `dial$` emitted)
 * and count against the receive window, so a socket nobody reads stops its
 * sender instead of growing a buffer. After the first subscriber it is hot.
 */
export class MessageOutlet {
  /** Frame bytes of the held messages: they are not acknowledged as read yet. */
  heldBytes = 0
  private held: Uint8Array[] | null = []
  private readonly subject = new Subject<Uint8Array>()
  private ended = false
  readonly data$: Observable<Uint8Array>

  constructor(
    /** Called when held messages were handed over: the receive window reopened. */
    private readonly onFlow: () => void,
  ) {
    this.data$ = new Observable<Uint8Array>((subscriber) => {
      const held = this.held
      if (held !== null) {
        this.held = null
        this.heldBytes = 0
        for (const message of held) subscriber.next(message)
        if (held.length > 0 && !this.ended) this.onFlow()
      }
      return this.subject.subscribe(subscriber)
    })
  }

  push(message: Uint8Array, frameBytes: number): void {
    if (this.ended) return
    if (this.held !== null) {
      this.held.push(message)
      this.heldBytes += frameBytes
      return
    }
    this.subject.next(message)
  }

  complete(): void {
    if (this.ended) return
    this.ended = true
    this.subject.complete()
  }

  error(error: Error): void {
    if (this.ended) return
    this.ended = true
    this.subject.error(error)
  }
}
