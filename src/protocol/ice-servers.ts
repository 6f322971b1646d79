import type { IceServer } from './signal-server'

/** Bounds on what a server may hand us: a list this long is a broken or hostile server, not a configuration. */
const MAX_SERVERS = 16
const MAX_URLS = 8
const MAX_TEXT = 1024

/**
 * The `iceServers` of a `joined` or `ice-servers` message, checked: each
 * entry has `urls` (a stun:/stuns:/turn:/turns: URL or a list of them) and
 * optionally a string `username` and `credential`; anything else is left
 * out rather than handed to RTCPeerConnection (which throws on a bad URL
 * and would fail every connection we make).
 */
export function parseIceServers(value: unknown): IceServer[] {
  if (!Array.isArray(value)) return []
  const servers: IceServer[] = []
  for (const entry of value.slice(0, MAX_SERVERS)) {
    if (typeof entry !== 'object' || entry === null) continue
    const { urls, username, credential } = entry as Record<string, unknown>
    const list = typeof urls === 'string' ? [urls] : Array.isArray(urls) ? urls.slice(0, MAX_URLS) : []
    if (list.length === 0 || !list.every(isIceUrl)) continue
    if (!optionalText(username) || !optionalText(credential)) continue
    servers.push({
      urls: typeof urls === 'string' ? urls : (list as string[]),
      ...(username !== undefined ? { username: username as string } : {}),
      ...(credential !== undefined ? { credential: credential as string } : {}),
    })
  }
  return servers
}

const isIceUrl = (url: unknown): boolean => typeof url === 'string' && url.length <= MAX_TEXT && /^(stuns?|turns?):[^\s]+$/.test(url)
const optionalText = (value: unknown): boolean => value === undefined || (typeof value === 'string' && value.length <= MAX_TEXT)
