import { networkInterfaces } from 'node:os'

export interface ServerUrls {
  /** The WebSocket URL to give a browser on this machine, e.g. `ws://localhost:9000/ws`. */
  ws: string
  /** The same server over HTTP (the dashboard), e.g. `http://localhost:9000/`. */
  http: string
  /** When bound to every interface: the WebSocket URL on each external IPv4 address (phones on the LAN). */
  lan: string[]
}

const ANY = new Set(['0.0.0.0', '::', '[::]', ''])

/** URLs a browser can use for a server listening on `host`:`port` (never `0.0.0.0`, which is no address to dial). */
export function serverUrls(host: string, port: number): ServerUrls {
  const any = ANY.has(host)
  const shown = any ? 'localhost' : host.includes(':') ? `[${host}]` : host
  const lan = any
    ? Object.values(networkInterfaces())
        .flat()
        .filter((i) => i !== undefined && i.family === 'IPv4' && !i.internal)
        .map((i) => `ws://${i!.address}:${port}/ws`)
    : []
  return { ws: `ws://${shown}:${port}/ws`, http: `http://${shown}:${port}/`, lan }
}
