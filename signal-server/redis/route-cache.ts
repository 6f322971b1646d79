/** Routes kept at most: about 100 bytes each, so a few MiB. */
const MAX_ROUTES = 65_536

/**
 * Which instance a peer joined at another instance is at, as Redis last said:
 * signals to it are then published to that instance directly, without the
 * RELAY script. A route may go stale (the peer left or moved); the instance
 * that finds the peer gone bounces the signal back and the route is forgotten
 * (relay-message.ts). Bounded: past MAX_ROUTES the oldest is forgotten.
 */
export class RouteCache {
  private readonly routes = new Map<string, string>()

  get(id: string): string | undefined {
    return this.routes.get(id)
  }

  learn(id: string, instance: string): void {
    if (!this.routes.has(id) && this.routes.size >= MAX_ROUTES) this.routes.delete(this.routes.keys().next().value as string)
    this.routes.set(id, instance)
  }

  forget(id: string): void {
    this.routes.delete(id)
  }
}
