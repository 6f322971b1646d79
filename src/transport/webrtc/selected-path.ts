/** One end of the candidate pair a connection uses (from getStats). */
export interface PathEnd {
  /** host, srflx, prflx or relay. */
  type: string
  address: string
  port: number
  protocol: string
}

export interface SelectedPath {
  local: PathEnd
  remote: PathEnd
}

type Stat = Record<string, unknown> & { id: string; type: string }

/**
 * The candidate pair ICE selected, read from getStats(): the transport's
 * selectedCandidatePairId where the implementation has it, else the
 * nominated pair that succeeded. Null when nothing is selected (yet).
 */
export async function selectedPath(pc: RTCPeerConnection): Promise<SelectedPath | null> {
  const stats = new Map<string, Stat>()
  ;(await pc.getStats()).forEach((s: Stat) => stats.set(s.id, s))
  const all = [...stats.values()]
  const chosen = all.find((s) => s.type === 'transport' && typeof s.selectedCandidatePairId === 'string')
  const pair =
    (chosen && stats.get(chosen.selectedCandidatePairId as string)) ??
    all.find((s) => s.type === 'candidate-pair' && s.nominated === true && s.state === 'succeeded')
  if (pair === undefined) return null
  const end = (id: unknown): PathEnd | null => {
    const c = typeof id === 'string' ? stats.get(id) : undefined
    if (c === undefined) return null
    return { type: String(c.candidateType), address: String(c.address ?? c.ip), port: Number(c.port), protocol: String(c.protocol) }
  }
  const local = end(pair.localCandidateId)
  const remote = end(pair.remoteCandidateId)
  return local && remote ? { local, remote } : null
}
