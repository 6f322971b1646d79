/**
 * The dashboard's browser code. These functions are serialized into the page
 * with `Function.prototype.toString()` (see page.ts), so they must stay
 * self-contained: no imports at run time, no module-level values; they may only
 * call each other by name (all are declared at the page's top level) and use
 * browser globals. They are type-checked here like any other code, and the pure
 * ones (geometry, ring analysis) are unit-tested in Node.
 */

/** The part of `GET /ring` the page reads (see signal-server/server.ts RingSnapshot). */
export interface RingJson {
  peers: string[]
  reports: Record<string, { successors: string[]; predecessor: string | null; fingers: Array<{ row: number; id: string }>; at: number }>
}

export interface DashboardConfig {
  /** URL of the ring snapshot, relative to the page. */
  ringUrl: string
  /** Poll period in ms (a `?poll=` query parameter overrides it, at least 100). */
  pollMs: number
}

export interface Link {
  from: string
  to: string
  kind: 'successor' | 'finger'
  /** false: the target is not a live peer, or a successor that is not the next live peer clockwise. */
  ok: boolean
}

export interface RingModel {
  peers: string[]
  reported: number
  links: Link[]
  successorLinks: number
  fingerLinks: number
  /** Links whose target has left, or successors that skip a live peer. */
  stale: number
}

/** Fraction of the way round the ring (0 ≤ f < 1) of a 12-hex id: id / 2^48. */
export function ringFraction(id: string): number {
  return parseInt(id, 16) / 281474976710656
}

/** Point on the circle for a ring fraction: 0 at the top, clockwise. */
export function ringPoint(fraction: number, cx: number, cy: number, r: number): { x: number; y: number } {
  const a = fraction * 2 * Math.PI
  return { x: cx + r * Math.sin(a), y: cy - r * Math.cos(a) }
}

/** Successor and finger links from the peers' reports, checked against the live peer list. */
export function analyseRing(ring: RingJson): RingModel {
  const peers = ring.peers.slice().sort()
  const live = new Set(peers)
  const next = new Map<string, string>()
  for (let i = 0; i < peers.length; i++) next.set(peers[i]!, peers[(i + 1) % peers.length]!)
  const links: Link[] = []
  let reported = 0
  let successorLinks = 0
  let fingerLinks = 0
  let stale = 0
  for (const id of peers) {
    const report = ring.reports[id]
    if (!report) continue
    reported++
    const succ = report.successors[0]
    if (succ !== undefined && succ !== id) {
      const ok = live.has(succ) && next.get(id) === succ
      links.push({ from: id, to: succ, kind: 'successor', ok })
      successorLinks++
      if (!ok) stale++
    }
    const seen = new Set<string>()
    for (const f of report.fingers) {
      if (f.id === id || f.id === succ || seen.has(f.id)) continue
      seen.add(f.id)
      const ok = live.has(f.id)
      links.push({ from: id, to: f.id, kind: 'finger', ok })
      fingerLinks++
      if (!ok) stale++
    }
  }
  return { peers, reported, links, successorLinks, fingerLinks, stale }
}

/**
 * Label positions (ring fractions) for peers at the given sorted fractions,
 * pushed apart so neighbouring labels on a circle of radius `r` do not
 * overlap: side by side near the top and bottom they need a label's width,
 * stacked at the left and right a line's height.
 */
export function spreadLabels(fractions: number[], r: number): number[] {
  const n = fractions.length
  if (n < 2) return fractions.slice()
  const need = (f: number): number => (18 + 46 * Math.abs(Math.cos(f * 2 * Math.PI))) / (2 * Math.PI * r)
  // Cut the circle at the widest gap between peers and lay the labels out on a line from there.
  let cut = 0
  let widest = -1
  for (let i = 0; i < n; i++) {
    const g = (fractions[(i + 1) % n]! - fractions[i]! + 1) % 1
    if (g > widest) {
      widest = g
      cut = (i + 1) % n
    }
  }
  const order = Array.from({ length: n }, (_, k) => (cut + k) % n)
  const line = order.map((i, k) => fractions[i]! + (k > 0 && fractions[i]! < fractions[order[0]!]! ? 1 : 0))
  // Clusters of labels, each centred on the mean of its peers' positions; merge clusters that overlap.
  type Cluster = { first: number; count: number; sum: number }
  let clusters: Cluster[] = line.map((v, k) => ({ first: k, count: 1, sum: v }))
  // Positions of a cluster's labels: spaced by the local need, centred on the mean of its peers.
  const layout = (c: Cluster): number[] => {
    let pos = line.slice(c.first, c.first + c.count)
    for (let pass = 0; pass < 3; pass++) {
      const off = [0]
      for (let k = 1; k < c.count; k++) off.push(off[k - 1]! + Math.max(need(pos[k - 1]!), need(pos[k]!)))
      const shift = c.sum / c.count - off.reduce((x, y) => x + y, 0) / c.count
      pos = off.map((o) => o + shift)
    }
    return pos
  }
  for (let merged = true; merged && clusters.length > 1; ) {
    merged = false
    const next: Cluster[] = [clusters[0]!]
    for (let k = 1; k < clusters.length; k++) {
      const prev = next[next.length - 1]!
      const c = clusters[k]!
      const hi = layout(prev).at(-1)!
      const lo = layout(c)[0]!
      if (lo - hi < Math.max(need(hi), need(lo))) {
        next[next.length - 1] = { first: prev.first, count: prev.count + c.count, sum: prev.sum + c.sum }
        merged = true
      } else next.push(c)
    }
    clusters = next
  }
  const out = new Array<number>(n)
  for (const c of clusters) {
    layout(c).forEach((v, k) => {
      out[order[c.first + k]!] = ((v % 1) + 1) % 1
    })
  }
  return out
}

/** Draws the ring into the page's `<svg id="ring">` and fills the side panel. */
export function renderRing(ring: RingJson): void {
  const NS = 'http://www.w3.org/2000/svg'
  const C = 500
  const R = 390
  const model = analyseRing(ring)
  const svg = document.getElementById('ring')!
  const layer = document.getElementById('ring-layer')!
  layer.replaceChildren()
  const el = (name: string, attrs: Record<string, string | number>, parent: Element = layer): SVGElement => {
    const e = document.createElementNS(NS, name)
    for (const k of Object.keys(attrs)) e.setAttribute(k, String(attrs[k]))
    parent.appendChild(e)
    return e
  }
  const pos = (id: string, r: number = R) => ringPoint(ringFraction(id), C, C, r)
  const n = model.peers.length
  const dot = n <= 24 ? 9 : n <= 64 ? 7 : n <= 200 ? 4.5 : 3
  svg.setAttribute('data-peers', String(n))
  // Past 64 peers the fingers become a texture: thinner, and without arrowheads.
  const dense = n > 64
  svg.classList.toggle('dense', dense)

  // Links first, so the peers sit on top. Links stop short of the target's dot so the arrowhead shows.
  const gap = dot + 3
  for (const link of model.links) {
    const fa = ringFraction(link.from)
    const fb = ringFraction(link.to)
    let d: string
    if (link.kind === 'successor' && link.ok) {
      // Along the ring, clockwise (sweep 1 with y pointing down).
      const span = (fb - fa + 1) % 1 || 1
      const trim = Math.min(gap / (2 * Math.PI * R), span / 3)
      const a = ringPoint(fa + trim / 2, C, C, R)
      const b = ringPoint(fb - trim, C, C, R)
      d = `M${a.x.toFixed(1)},${a.y.toFixed(1)} A${R},${R} 0 ${span - 1.5 * trim > 0.5 ? 1 : 0} 1 ${b.x.toFixed(1)},${b.y.toFixed(1)}`
    } else {
      // A chord bent towards the centre: fingers cross the ring.
      const a = ringPoint(fa, C, C, R)
      const b = ringPoint(fb, C, C, R)
      const mx = (a.x + b.x) / 2
      const my = (a.y + b.y) / 2
      const qx = mx + (C - mx) * 0.45
      const qy = my + (C - my) * 0.45
      const len = Math.hypot(qx - b.x, qy - b.y) || 1
      const ex = b.x + ((qx - b.x) / len) * gap
      const ey = b.y + ((qy - b.y) / len) * gap
      d = `M${a.x.toFixed(1)},${a.y.toFixed(1)} Q${qx.toFixed(1)},${qy.toFixed(1)} ${ex.toFixed(1)},${ey.toFixed(1)}`
    }
    const cls = `link ${link.kind}${link.ok ? '' : ' stale'}`
    const marker = link.ok ? (link.kind === 'successor' ? 'url(#arrow-succ)' : dense ? '' : 'url(#arrow-finger)') : 'url(#arrow-stale)'
    const path = el('path', { d, class: cls, 'data-from': link.from, 'data-to': link.to })
    if (marker) path.setAttribute('marker-end', marker)
    el('title', {}, path).textContent = `${link.kind}${link.ok ? '' : ' (stale)'}: ${link.from} → ${link.to}`
  }

  // Labels: spread apart where peers crowd, with a leader line back to the dot.
  const labels = n <= 48
  const RL = R + dot + 16
  const labelAt = labels ? spreadLabels(model.peers.map(ringFraction), RL) : []
  model.peers.forEach((id, i) => {
    const p = pos(id)
    const report = ring.reports[id]
    const g = el('g', { class: report ? 'peer reported' : 'peer', 'data-id': id })
    const succ = report?.successors[0]
    el('title', {}, g).textContent = report
      ? `${id}\nsuccessor ${succ ?? '—'}\npredecessor ${report.predecessor ?? '—'}\n${report.fingers.length} finger rows`
      : `${id}\n(no report yet)`
    if (labels) {
      const f = labelAt[i]!
      const th = f * 2 * Math.PI
      const l = ringPoint(f, C, C, RL)
      if (Math.abs(f - ringFraction(id)) * 2 * Math.PI * RL > 4) {
        const from = ringPoint(ringFraction(id), C, C, R + dot + 2)
        const to = ringPoint(f, C, C, RL - 5)
        el('line', { x1: from.x.toFixed(1), y1: from.y.toFixed(1), x2: to.x.toFixed(1), y2: to.y.toFixed(1), class: 'leader' }, g)
      }
      const sin = Math.sin(th)
      const anchor = sin > 0.3 ? 'start' : sin < -0.3 ? 'end' : 'middle'
      const t = el('text', { x: l.x.toFixed(1), y: (l.y + 5 - 8 * Math.cos(th)).toFixed(1), 'text-anchor': anchor, class: 'label' }, g)
      t.textContent = id.slice(0, 6)
    }
    el('circle', { cx: p.x.toFixed(2), cy: p.y.toFixed(2), r: dot }, g)
  })

  const set = (key: string, value: string | number): void => {
    const e = document.querySelector(`[data-count="${key}"]`)
    if (e) e.textContent = String(value)
  }
  set('peers', n)
  set('reported', model.reported)
  set('successors', model.successorLinks)
  set('fingers', model.fingerLinks)
  set('stale', model.stale)
  document.getElementById('stale-row')!.classList.toggle('bad', model.stale > 0)
  document.getElementById('empty')!.style.display = n === 0 ? '' : 'none'

  // Side table: one row per peer.
  const tbody = document.getElementById('peer-rows')!
  tbody.replaceChildren()
  const max = 40
  const now = Date.now()
  for (const id of model.peers.slice(0, max)) {
    const report = ring.reports[id]
    const tr = document.createElement('tr')
    const cells = report
      ? [id, report.successors[0]?.slice(0, 6) ?? '—', report.predecessor?.slice(0, 6) ?? '—', String(new Set(report.fingers.map((f) => f.id)).size), `${Math.max(0, Math.round((now - report.at) / 1000))} s`]
      : [id, '—', '—', '—', 'none']
    for (const c of cells) {
      const td = document.createElement('td')
      td.textContent = c
      tr.appendChild(td)
    }
    tr.firstElementChild!.className = 'mono'
    tbody.appendChild(tr)
  }
  document.getElementById('more')!.textContent = n > max ? `… and ${n - max} more` : ''
}

/** Polls the ring snapshot and redraws on every change. */
export function startDashboard(config: DashboardConfig): void {
  const q = Number(new URLSearchParams(location.search).get('poll'))
  const pollMs = q >= 100 ? q : config.pollMs
  const status = document.getElementById('status')!
  const url = new URL(config.ringUrl, location.href).toString()
  let last = ''
  let drawnAt = 0
  let seenAt = 0
  const tick = async (): Promise<void> => {
    try {
      const res = await fetch(url, { cache: 'no-store' })
      if (!res.ok) throw new Error(`HTTP ${res.status}`)
      const text = await res.text()
      // Redraw on change, and every 5 s anyway so the report ages stay current.
      if (text !== last || Date.now() - drawnAt > 5000) {
        last = text
        drawnAt = Date.now()
        renderRing(JSON.parse(text) as RingJson)
      }
      status.textContent = `live · polling ${new URL(url).pathname} every ${pollMs} ms`
      status.title = `last update ${new Date().toLocaleTimeString()}`
      status.className = 'ok'
      seenAt = Date.now()
      document.body.classList.remove('stale')
    } catch (err) {
      const seen = seenAt === 0 ? 'nothing seen yet' : `the ring below is as last seen at ${new Date(seenAt).toLocaleTimeString()}`
      status.textContent = `cannot reach the server (${(err as Error).message}): ${seen}; retrying`
      status.className = 'down'
      document.body.classList.add('stale')
    }
    setTimeout(() => void tick(), pollMs)
  }
  void tick()
}
