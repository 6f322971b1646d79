import type { Instance as Peer } from 'simple-peer'
import { clearIceTimerOnClose } from './peer-internals'

/**
 * The simple-peers (so RTCPeerConnections) of one transport that nobody has
 * destroyed yet. A peer leaves the set when we destroy it (simple-peer frees
 * its RTCPeerConnection a microtask later) or when it closes by itself.
 */
export class LivePeers {
  private readonly peers = new Set<Peer>()

  get size(): number {
    return this.peers.size
  }

  add(peer: Peer): void {
    this.peers.add(peer)
    peer.once('close', () => this.peers.delete(peer))
    clearIceTimerOnClose(peer)
  }

  destroy(peer: Peer): void {
    this.peers.delete(peer)
    peer.destroy()
  }
}
