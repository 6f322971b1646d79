import { Observable, Subscription, filter, timer, type SchedulerLike } from 'rxjs'
import { ExplorerError } from '../errors'
import { signAs, verifySignature, type Identity } from '../identity'
import { formatId } from '../ids'
import { SecureInitiator, SecureResponder, createNoiseCredentials, type NoiseCredentials } from '../noise'
import type { ChannelSet } from '../router/channel-set'
import type { LocalFrame, Router } from '../router/router'
import { LivenessWatch, type LivenessOptions } from '../transport/liveness'
import { FrameFlag, FrameType } from '../wire/frame'
import { LinkKind, MAX_LINK_HOPS, MAX_LINK_NEIGHBOURS, RefuseReason, decodeLinkMessage, encodeLinkMessage, linkPrologue, type LinkMessage } from './link-wire'
import { RelayedChannel, type LinkHost, type LinkStats } from './relayed-channel'

export interface RelayedLinksComponents {
  self: number
  /** Who we prove to be at the far end; null: we neither open nor accept links (they are refused). */
  identity: Identity | null
  router: Router
  channels: ChannelSet
  scheduler: SchedulerLike
  random: () => number
}

export interface RelayedLinksInit {
  /** A handshake not done by then failed. */
  connectTimeoutMs: number
  /** Links (opened and accepted) at most. Default 64. */
  maxLinks: number
  /** Handshakes others start with us at once, at most (each costs three X25519 operations). Default 16. */
  maxHandshakes: number
  /** Keepalives and silence on links. Default 1 s, unhealthy after 2.5 s, closed after 4.5 s of silence. */
  liveness: LivenessOptions
}

export const LINK_DEFAULTS = {
  maxLinks: 64,
  maxHandshakes: 16,
  liveness: { keepaliveMs: 1000, suspectMs: 2500, silenceMs: 4500 },
} as const

/** Counters of relayed links, at this end. */
export interface RelayedLinkStats extends LinkStats {
  opened: number
  accepted: number
  /** Opens we refused (busy, or no identity). */
  refused: number
}

interface Opening {
  remote: number
  conn: number
  initiator: SecureInitiator | null
  done: (error?: unknown) => void
  subscription: Subscription
}

interface Accepting {
  remote: number
  conn: number
  route: number[]
  /** Null once message 3 came: a second Finish (replayed) must not run the handshake again. */
  responder: SecureResponder | null
  /** Boxes that came before the handshake finished (same route, so only while message 3 is being checked). */
  early: Array<{ kindByte: number; seq: number; sealed: Uint8Array }>
  subscription: Subscription
}

/** Boxes held per accepting handshake at most. */
const MAX_EARLY = 64

/**
 * Relayed links (docs/architecture.md, "Relayed links"): channels to peers we
 * cannot reach directly, whose frames travel source-routed through relays
 * that have channels to both ends. `open$(remote, route)` runs a Noise XX
 * handshake with the remote over the overlay (along `route` if given, else
 * routed by id): each end proves the identity behind its id, and the link
 * is a RelayedChannel in the ChannelSet like any other, routed into and
 * maintained by the ring. The accepter picks the route: through a peer the
 * opener listed as its neighbour and it has a channel to (one relay), else
 * back along the way the Open came. Frames from either end are sealed with
 * the session's keys: relays see ciphertext and can only drop.
 */
export class RelayedLinks {
  readonly stats: RelayedLinkStats = { opened: 0, accepted: 0, refused: 0, framesSent: 0, bytesSent: 0, framesReceived: 0, bytesReceived: 0, rejected: 0, stale: 0 }
  private readonly links = new Map<string, RelayedChannel>()
  private readonly openings = new Map<string, Opening>()
  private readonly acceptings = new Map<string, Accepting>()
  private readonly liveness: LivenessWatch
  private readonly subscription = new Subscription()
  private readonly host: LinkHost
  private credentials: Promise<NoiseCredentials> | null = null
  private closed = false

  constructor(
    private readonly components: RelayedLinksComponents,
    private readonly init: RelayedLinksInit,
  ) {
    const { router, channels, self } = components
    this.liveness = new LivenessWatch(init.liveness, components.scheduler)
    this.host = {
      self,
      stats: this.stats,
      send: (route, conn, seq, payload) => router.sendAlong([...route], { type: FrameType.Link, dest: route[route.length - 1], conn, seq, payload }),
      hop: (peer) => channels.channel(peer),
      superseded: (link) => channels.has(link.remoteId) && channels.channel(link.remoteId) !== link,
      ended: (link) => {
        const key = keyOf(link.remoteId, link.conn)
        if (this.links.get(key) === link) this.links.delete(key)
      },
    }
    this.subscription.add(router.frames$(FrameType.Link).subscribe((frame) => this.onFrame(frame)))
    // A link dies with our channel to its first relay (the ring then finds it another way).
    this.subscription.add(channels.events$.pipe(filter((e) => e.type === 'down')).subscribe(({ peer }) => {
      for (const link of [...this.links.values()]) if (link.firstHop === peer) link.dead()
    }))
  }

  /** Whether this peer can open links (it has an identity to prove). */
  get enabled(): boolean {
    return this.components.identity !== null && !this.closed
  }

  /** Links open now. */
  get size(): number {
    return this.links.size
  }

  /** Whether a link of ours goes through our channel to `peer` (closing that channel would end the link). */
  relaysThrough(peer: number): boolean {
    for (const link of this.links.values()) if (link.firstHop === peer) return true
    return false
  }

  /**
   * Completes once a channel to `remote` is in the ChannelSet: a relayed link
   * we opened, or any channel that got there first. Along `route` (relays,
   * then `remote`, the first a neighbour) when given, else routed by id.
   * Errors SIGNAL_FAILED (refused, timed out, too many links), AUTH_FAILED
   * (the far end is not who `remote` is). Unsubscribing abandons it.
   */
  open$(remote: number, route: readonly number[] | null = null): Observable<void> {
    return new Observable<void>((subscriber) => {
      const { channels, identity, random } = this.components
      if (channels.has(remote)) return subscriber.complete()
      if (identity === null || this.closed) return subscriber.error(failed(remote, 'this peer has no identity to prove'))
      if (this.links.size + this.openings.size >= this.init.maxLinks) return subscriber.error(failed(remote, `already ${this.init.maxLinks} relayed links`))
      const conn = Math.floor(random() * 0x100000000) >>> 0
      const key = keyOf(remote, conn)
      const opening: Opening = {
        remote, conn, initiator: null, subscription: new Subscription(),
        done: (error) => {
          if (!this.endOpening(key, opening)) return
          if (error === undefined) subscriber.complete()
          else subscriber.error(error)
        },
      }
      this.openings.set(key, opening)
      opening.subscription.add(timer(this.init.connectTimeoutMs, this.components.scheduler).subscribe(() => opening.done(failed(remote, `no answer within ${this.init.connectTimeoutMs} ms`))))
      this.credentialsOf(identity).then(
        (credentials) => {
          if (this.openings.get(key) !== opening) return
          opening.initiator = new SecureInitiator(credentials, { verify: verifySignature, expectedId: formatId(remote), prologue: linkPrologue(this.components.self, remote, conn) })
          this.sendOpen(remote, conn, route, opening.initiator.message1)
        },
        (error: unknown) => opening.done(error),
      )
      return () => void this.endOpening(key, opening)
    })
  }

  close(): void {
    this.closed = true
    this.subscription.unsubscribe()
    for (const opening of [...this.openings.values()]) opening.done(new ExplorerError('CLOSED', 'the explorer closed'))
    for (const accepting of this.acceptings.values()) accepting.subscription.unsubscribe()
    this.acceptings.clear()
    for (const link of [...this.links.values()]) link.close()
  }

  private onFrame(frame: LocalFrame): void {
    const message = decodeLinkMessage(frame.payload)
    if (message === null) return this.components.router.rejectPayload(frame)
    // An Open for an id nobody has reached its owner: the opener times out.
    if (frame.unreachable) return
    const key = keyOf(frame.source, frame.conn)
    switch (message.kind) {
      case LinkKind.Open:
        return this.onOpen(frame, message)
      case LinkKind.Accept:
        return this.onAccept(frame, key, message.message2)
      case LinkKind.Finish:
        return this.onFinish(key, message.message3)
      case LinkKind.Data:
      case LinkKind.Close: {
        const kindByte = message.kind === LinkKind.Data ? message.kindByte : LinkKind.Close
        const link = this.links.get(key)
        if (link !== undefined) return link.receive(kindByte, frame.seq, message.sealed)
        const accepting = this.acceptings.get(key)
        if (accepting !== undefined && accepting.early.length < MAX_EARLY) accepting.early.push({ kindByte, seq: frame.seq, sealed: message.sealed })
        return
      }
      case LinkKind.Refuse: {
        const why = message.reason === RefuseReason.Busy ? 'it is busy' : 'it takes no relayed links'
        return this.openings.get(key)?.done(failed(frame.source, `refused: ${why}`))
      }
    }
  }

  /** Someone wants a link: answer with message 2 along the route we choose (unless busy or unable). */
  private onOpen(frame: LocalFrame, open: Extract<LinkMessage, { kind: LinkKind.Open }>): void {
    const { identity, channels, self } = this.components
    const remote = frame.source
    const key = keyOf(remote, frame.conn)
    if (this.links.has(key) || this.acceptings.has(key) || remote === self) return
    const route = this.routeBack(frame, open.neighbours)
    if (route === null) return
    const refuse = (reason: RefuseReason): void => {
      this.stats.refused++
      this.send(route, frame.conn, { kind: LinkKind.Refuse, reason })
    }
    if (identity === null || this.closed) return refuse(RefuseReason.Unsupported)
    // A direct channel to the opener: its end of it is gone, ours will follow (liveness); it may try again then.
    const direct = channels.has(remote) && channels.channel(remote)?.relayed !== true
    if (this.acceptings.size >= this.init.maxHandshakes || this.links.size + this.openings.size >= this.init.maxLinks || direct) {
      return refuse(RefuseReason.Busy)
    }
    const subscription = new Subscription()
    this.credentialsOf(identity).then((credentials) => {
      if (this.closed || this.acceptings.has(key) || this.acceptings.size >= this.init.maxHandshakes) return
      let responder: SecureResponder
      try {
        responder = new SecureResponder(credentials, open.message1, { verify: verifySignature, expected: { id: formatId(remote) }, prologue: linkPrologue(remote, self, frame.conn) })
      } catch {
        // A malformed message 1: not an opener we can answer.
        return
      }
      const accepting: Accepting = { remote, conn: frame.conn, route, responder, early: [], subscription }
      this.acceptings.set(key, accepting)
      subscription.add(timer(this.init.connectTimeoutMs, this.components.scheduler).subscribe(() => this.dropAccepting(key, accepting)))
      this.send(route, frame.conn, { kind: LinkKind.Accept, message2: responder.message2 })
    }, () => undefined)
  }

  /** The accepter proved itself in message 2: send message 3 back along its route, and the link is ours. */
  private onAccept(frame: LocalFrame, key: string, message2: Uint8Array): void {
    const opening = this.openings.get(key)
    if (opening === undefined || opening.initiator === null) return
    const initiator = opening.initiator
    opening.initiator = null
    const route = frame.path === null ? null : validRoute([...frame.path].reverse(), this.components)
    if (route === null) return opening.done(failed(opening.remote, 'its answer came by no usable route'))
    initiator.complete(message2).then(
      ({ message3, session }) => {
        if (this.openings.get(key) !== opening) return
        this.send(route, opening.conn, { kind: LinkKind.Finish, message3 })
        this.stats.opened++
        this.adopt(new RelayedChannel(this.host, opening.remote, opening.conn, route, session, this.liveness), this.components.self)
        opening.done()
      },
      (error: unknown) => opening.done(error),
    )
  }

  /** The opener proved itself in message 3: the link is up at this end too. */
  private onFinish(key: string, message3: Uint8Array): void {
    const accepting = this.acceptings.get(key)
    const responder = accepting?.responder ?? null
    if (accepting === undefined || responder === null) return
    accepting.responder = null
    responder.complete(message3).then(
      (session) => {
        if (this.acceptings.get(key) !== accepting) return
        this.acceptings.delete(key)
        accepting.subscription.unsubscribe()
        this.stats.accepted++
        const link = new RelayedChannel(this.host, accepting.remote, accepting.conn, accepting.route, session, this.liveness)
        this.adopt(link, accepting.remote)
        for (const box of accepting.early) link.receive(box.kindByte, box.seq, box.sealed)
      },
      () => this.dropAccepting(key, accepting),
    )
  }

  private adopt(link: RelayedChannel, initiator: number): void {
    const { channels } = this.components
    this.links.set(keyOf(link.remoteId, link.conn), link)
    // The remote proved itself and opened a new link: the one we still hold to it is dead at its end. Swapped, no down and up.
    if (initiator === link.remoteId && channels.channel(link.remoteId)?.relayed === true) return void channels.replace(link, initiator)
    // Refused when a direct channel (or, in a glare, the lower id's link) is there already: it closes the link.
    channels.add(link, initiator)
  }

  private endOpening(key: string, opening: Opening): boolean {
    if (this.openings.get(key) !== opening) return false
    this.openings.delete(key)
    opening.subscription.unsubscribe()
    return true
  }

  private dropAccepting(key: string, accepting: Accepting): void {
    if (this.acceptings.get(key) !== accepting) return
    this.acceptings.delete(key)
    accepting.subscription.unsubscribe()
  }

  private sendOpen(remote: number, conn: number, route: readonly number[] | null, message1: Uint8Array): void {
    const { channels, router } = this.components
    const neighbours = channels.remotes().filter((peer) => peer !== remote && channels.carries(peer) && channels.channel(peer)?.relayed !== true)
    const payload = encodeLinkMessage({ kind: LinkKind.Open, neighbours: neighbours.slice(0, MAX_LINK_NEIGHBOURS), message1 })
    const usable = route === null ? null : validRoute(route, this.components)
    if (usable !== null && usable[usable.length - 1] === remote) router.sendAlong(usable, { type: FrameType.Link, dest: remote, conn, seq: 0, payload })
    else router.send({ type: FrameType.Link, dest: remote, flags: FrameFlag.Exact, conn, seq: 0, payload }, true)
  }

  /** One relay the opener and we both have a direct channel to, else back the way the Open came. */
  private routeBack(frame: LocalFrame, neighbours: number[]): number[] | null {
    const { channels } = this.components
    const relay = neighbours.find((peer) => peer !== frame.source && channels.carries(peer) && channels.channel(peer)?.relayed !== true)
    if (relay !== undefined) return [relay, frame.source]
    return frame.path === null ? null : validRoute([...frame.path].reverse(), this.components)
  }

  private send(route: readonly number[], conn: number, message: LinkMessage): void {
    this.host.send(route, conn, 0, encodeLinkMessage(message))
  }

  private credentialsOf(identity: Identity): Promise<NoiseCredentials> {
    return (this.credentials ??= createNoiseCredentials({ publicKey: identity.publicKey, sign: (message) => signAs(identity, message) }))
  }
}

const keyOf = (remote: number, conn: number): string => `${remote}:${conn}`

const failed = (remote: number, why: string) => new ExplorerError('SIGNAL_FAILED', `relayed link to ${formatId(remote)} failed: ${why}`)

/** A link route: 2 to MAX_LINK_HOPS hops, through a first hop we have a channel to, never through us, none twice. */
function validRoute(route: readonly number[], { channels, self }: { channels: ChannelSet; self: number }): number[] | null {
  if (route.length < 2 || route.length > MAX_LINK_HOPS || !channels.has(route[0])) return null
  if (route.includes(self) || new Set(route).size !== route.length) return null
  return [...route]
}
