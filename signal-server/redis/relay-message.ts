import { SIGNAL_HEAD } from '../protocol'

/**
 * What instances publish to each other on `sig:<instance>`: newline-separated
 * lines (JSON text never holds a raw newline), never decoded as JSON here.
 *
 *   @<instance>\n<entry>\n<entry>...   signals; an entry whose peer is not at the
 *                                      receiving instance goes back to <instance>
 *   #<instance>\n<entry>...            signals sent again after such a bounce:
 *                                      one whose peer is not there is dropped
 *   !\n<entry>...                      a bounce: entries whose peer was not there
 *   <entry>\n<entry>...                (no header) from an instance of an earlier
 *                                      version: misses are dropped
 *
 * An entry is the target id (12 hex characters) then the frame for it. A
 * header never parses as an entry: ids are hex. An instance of the earlier
 * version reads a header line as an entry for an unknown peer and skips it.
 */
export const ID_LENGTH = 12
const NEWLINE = 0x0a
const SIGNALS = 0x40 // '@'
const RETRIES = 0x23 // '#'
const BOUNCE = 0x21 // '!'

export const signalsHeader = (instance: string): string => `@${instance}`
export const retriesHeader = (instance: string): string => `#${instance}`
export const bounceMessage = (entries: string[]): string => `!\n${entries.join('\n')}`

/** The peer id that sent a relayed frame (frames start SIGNAL_HEAD + from id). */
export const senderOf = (frame: string): string => frame.substring(SIGNAL_HEAD.length, SIGNAL_HEAD.length + ID_LENGTH)

export interface ParsedMessage {
  /** A bounce (entries that came back), or signals. */
  bounce: boolean
  /** For signals: where to bounce entries whose peer is not here; null: drop them. */
  bounceTo: string | null
  /** Calls `entry(to, start, end)` with the frame's byte range in the payload, for each entry. */
  entries: (entry: (to: string, start: number, end: number) => void) => void
}

export function parseMessage(payload: Buffer): ParsedMessage {
  const kind = payload[0]
  let first = 0
  let bounceTo: string | null = null
  if (kind === SIGNALS || kind === RETRIES || kind === BOUNCE) {
    const found = payload.indexOf(NEWLINE)
    const end = found === -1 ? payload.length : found
    first = end + 1
    if (kind === SIGNALS) bounceTo = payload.toString('latin1', 1, end)
  }
  return {
    bounce: kind === BOUNCE,
    bounceTo,
    entries(entry) {
      let start = first
      while (start < payload.length) {
        let end = payload.indexOf(NEWLINE, start)
        if (end === -1) end = payload.length
        entry(payload.toString('latin1', start, start + ID_LENGTH), start + ID_LENGTH, end)
        start = end + 1
      }
    },
  }
}
