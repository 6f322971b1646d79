import { BehaviorSubject, Observable, distinctUntilChanged, map, of } from 'rxjs'
import { ExplorerError } from '../errors'
import { counterFromWireSeq, type SecureSession } from '../noise'
import { FrameOutlet } from '../transport/frame-outlet'
import type { LinkClock, LivenessLink, LivenessWatch } from '../transport/liveness'
import type { Channel } from '../transport/types'
import { MAX_FRAME_BYTES } from '../wire/limits'
import { CONTINUES, LINK_CHUNK_BYTES, LinkKind, MORE, linkAad } from './link-wire'

/** What a link needs of the peer it lives in (src/links/relayed-links.ts). */
export interface LinkHost {
  readonly self: number
  /** Sends one Link frame along `route` (relays, then the far end). False when it could not leave. */
  send(route: readonly number[], conn: number, seq: number, payload: Uint8Array): boolean
  /** Our direct channel to a relay: backpressure comes from there. */
  hop(peer: number): Channel | undefined
  /** Whether a direct channel to `remote` has taken this link's place (then closing it tells the remote nothing). */
  superseded(link: RelayedChannel): boolean
  /** The link closed: forget it. */
  ended(link: RelayedChannel): void
  readonly stats: LinkStats
}

/** Traffic over relayed links (inner frames, as the two ends see them). */
export interface LinkStats {
  framesSent: number
  bytesSent: number
  framesReceived: number
  bytesReceived: number
  /** Boxes that failed their tag (altered or forged on the way): dropped. */
  rejected: number
  /** Boxes whose counter was not above the last one opened (replayed, duplicated or overtaken): dropped. */
  stale: number
}

/**
 * A channel to a peer we have no direct path to: its frames travel as
 * Link frames through relays (peers with channels to both of us), sealed end
 * to end with the Noise session of the link's handshake. A relay sees only
 * ciphertext and can only drop: a box that was altered fails its tag, one
 * replayed or reordered has a counter not above the last one opened. So
 * frames arrive whole, in order, from the proven remote, or not at all;
 * `frame.from` is as true as over a direct channel. Frames larger than a
 * Link frame holds go as two parts (More, then Continues). An empty box is a
 * keepalive; silence makes the link unhealthy, then closes it (LivenessWatch).
 */
export class RelayedChannel implements Channel, LivenessLink {
  readonly relayed = true
  readonly health$: Observable<boolean>
  private readonly outlet = new FrameOutlet()
  private readonly suspected = new BehaviorSubject(false)
  private readonly clock: LinkClock | null
  private open = true
  /** The highest counter opened so far. */
  private opened = -1
  /** Parts of a frame whose last part has not come yet. */
  private partial: Uint8Array[] = []

  constructor(
    private readonly host: LinkHost,
    readonly remoteId: number,
    readonly conn: number,
    /** Relays, then the remote: the way our frames go. */
    readonly route: readonly number[],
    private readonly session: SecureSession,
    private readonly liveness: LivenessWatch | null,
  ) {
    this.health$ = this.suspected.pipe(map((s) => !s), distinctUntilChanged())
    this.clock = liveness?.add(this) ?? null
  }

  /** The first relay: the link dies with our channel to it. */
  get firstHop(): number {
    return this.route[0]
  }

  get frames$(): Observable<Uint8Array> {
    return this.outlet.frames$
  }

  get isOpen(): boolean {
    return this.open
  }

  get bufferedAmount(): number {
    return this.open ? (this.host.hop(this.firstHop)?.bufferedAmount ?? 0) : 0
  }

  drained(): Observable<void> {
    return this.host.hop(this.firstHop)?.drained() ?? of(undefined)
  }

  send(frame: Uint8Array): boolean {
    if (frame.byteLength > MAX_FRAME_BYTES) throw new ExplorerError('BAD_FRAME', `frame of ${frame.byteLength} bytes exceeds ${MAX_FRAME_BYTES}`)
    if (!this.open) return false
    let sent = true
    for (let at = 0; at === 0 || at < frame.byteLength; at += LINK_CHUNK_BYTES) {
      const end = Math.min(at + LINK_CHUNK_BYTES, frame.byteLength)
      const kind = LinkKind.Data | (end < frame.byteLength ? MORE : 0) | (at > 0 ? CONTINUES : 0)
      sent = this.seal(kind, frame.subarray(at, end)) && sent
    }
    if (sent) {
      this.host.stats.framesSent++
      this.host.stats.bytesSent += frame.byteLength
    }
    return sent
  }

  /** A Data or Close box for this link arrived (from its remote, as the frame claims: the box proves it). */
  receive(kind: number, seq: number, sealed: Uint8Array): void {
    if (!this.open) return
    const counter = counterFromWireSeq(seq, this.opened + 1)
    const stats = this.host.stats
    if (counter <= this.opened) return void stats.stale++
    let plaintext: Uint8Array
    try {
      plaintext = this.session.opener.open(counter, linkAad(kind, this.remoteId, this.host.self, this.conn, seq), sealed)
    } catch {
      return void stats.rejected++
    }
    const lost = counter !== this.opened + 1
    this.opened = counter
    if (this.clock !== null) this.clock.heard = true
    if ((kind & ~(MORE | CONTINUES)) === LinkKind.Close) return this.end(false)
    // A part dropped on the way spoils the frame it belongs to (and only that one).
    if (kind & CONTINUES) {
      if (lost || this.partial.length === 0) return void (this.partial = [])
    } else if (this.partial.length > 0) {
      this.partial = []
    }
    this.partial.push(plaintext)
    if (kind & MORE) return
    const frame = this.partial.length === 1 ? this.partial[0] : concat(this.partial)
    this.partial = []
    if (frame.byteLength === 0) return
    stats.framesReceived++
    stats.bytesReceived += frame.byteLength
    this.outlet.push(frame)
  }

  close(): void {
    if (!this.open) return
    // Replaced by a direct channel: the remote's end follows when its own direct end opens (or falls silent).
    this.end(!this.host.superseded(this))
  }

  // ---- LivenessLink ----------------------------------------------------------

  ping(): void {
    if (this.open) this.seal(LinkKind.Data, new Uint8Array(0))
  }

  suspect(suspected: boolean): void {
    this.suspected.next(suspected)
  }

  dead(): void {
    this.end(false)
  }

  // ---- internals -------------------------------------------------------------

  private seal(kind: number, plaintext: Uint8Array): boolean {
    const counter = this.session.sealer.nextCounter
    const seq = counter >>> 0
    const sealed = this.session.sealer.seal(counter, linkAad(kind, this.host.self, this.remoteId, this.conn, seq), plaintext)
    const payload = new Uint8Array(1 + sealed.byteLength)
    payload[0] = kind
    payload.set(sealed, 1)
    if (this.clock !== null) this.clock.sent = true
    return this.host.send(this.route, this.conn, seq, payload)
  }

  private end(tellRemote: boolean): void {
    if (!this.open) return
    if (tellRemote) this.seal(LinkKind.Close, new Uint8Array(0))
    this.open = false
    if (this.clock !== null) this.liveness!.remove(this.clock)
    this.suspected.next(true)
    this.suspected.complete()
    this.outlet.complete()
    this.partial = []
    this.host.ended(this)
  }
}

function concat(parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.byteLength, 0))
  let at = 0
  for (const part of parts) {
    out.set(part, at)
    at += part.byteLength
  }
  return out
}
