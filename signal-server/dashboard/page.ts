import { createHash } from 'node:crypto'
import { analyseRing, renderRing, ringFraction, ringPoint, spreadLabels, startDashboard, type DashboardConfig } from './client'

export interface DashboardPage {
  html: string
  /** Content-Security-Policy that allows exactly this page's inline script and style, and fetches to its own origin. */
  csp: string
}

const STYLE = `
:root { --succ: #15803d; --finger: #2563eb; --stale: #dc2626; --ink: #0f172a; --muted: #64748b; --line: #e2e8f0; }
* { box-sizing: border-box; }
body { margin: 0; font: 15px/1.4 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; color: var(--ink); background: #f8fafc; }
header { display: flex; align-items: baseline; gap: 16px; padding: 14px 24px; background: #fff; border-bottom: 1px solid var(--line); }
header h1 { margin: 0; font-size: 20px; font-weight: 650; }
header .sub { color: var(--muted); }
#status { margin-left: auto; font-size: 13px; color: var(--muted); }
#status.ok::before { content: "●"; color: var(--succ); margin-right: 6px; }
#status.down { color: var(--stale); }
#status.down::before { content: "●"; margin-right: 6px; }
main { display: flex; gap: 20px; padding: 16px 24px; align-items: flex-start; justify-content: center; }
.stage { flex: 0 1 auto; min-width: 0; background: #fff; border: 1px solid var(--line); border-radius: 10px; position: relative; }
#ring { display: block; width: min(calc(100vw - 420px), calc(100vh - 100px)); min-width: 320px; height: auto; }
#empty { position: absolute; inset: 0; display: flex; align-items: center; justify-content: center; color: var(--muted); font-size: 18px; pointer-events: none; }
aside { flex: 0 0 360px; display: flex; flex-direction: column; gap: 14px; }
.card { background: #fff; border: 1px solid var(--line); border-radius: 10px; padding: 12px 14px; }
.card h2 { margin: 0 0 8px; font-size: 13px; text-transform: uppercase; letter-spacing: .06em; color: var(--muted); font-weight: 600; }
.counts { display: grid; grid-template-columns: 1fr auto; gap: 2px 12px; }
.counts b { font-variant-numeric: tabular-nums; text-align: right; font-size: 17px; }
.counts .bad, .counts .bad b { color: var(--stale); }
.legend { display: grid; grid-template-columns: 44px 1fr; gap: 6px 10px; align-items: center; font-size: 14px; }
.legend svg { width: 44px; height: 18px; }
table { width: 100%; border-collapse: collapse; font-size: 13px; font-variant-numeric: tabular-nums; }
th { text-align: left; white-space: nowrap; color: var(--muted); font-weight: 600; border-bottom: 1px solid var(--line); padding: 2px 4px; }
td { padding: 1px 4px; white-space: nowrap; font-family: ui-monospace, "DejaVu Sans Mono", Menlo, monospace; }
#more { color: var(--muted); font-size: 13px; margin-top: 4px; }
.ringline { fill: none; stroke: #cbd5e1; stroke-width: 2; }
.tick { stroke: #94a3b8; stroke-width: 2; }
.ticklabel { fill: #94a3b8; font: 13px ui-monospace, "DejaVu Sans Mono", monospace; paint-order: stroke; stroke: #fff; stroke-width: 5px; stroke-linejoin: round; }
.leader { stroke: #94a3b8; stroke-width: 1; }
.link { fill: none; }
.link.successor { stroke: var(--succ); stroke-width: 4; }
.link.finger { stroke: var(--finger); stroke-width: 1.6; stroke-opacity: .55; }
.link.stale { stroke: var(--stale); stroke-width: 2.2; stroke-dasharray: 7 5; stroke-opacity: .9; }
.dense .link.finger { stroke-width: .8; stroke-opacity: .3; }
.dense .link.successor { stroke-width: 3; }
.peer circle { fill: #fff; stroke: #94a3b8; stroke-width: 2.5; }
.peer.reported circle { fill: var(--ink); stroke: #fff; stroke-width: 2; }
.peer .label { fill: var(--ink); font: 600 15px ui-monospace, "DejaVu Sans Mono", Menlo, monospace; paint-order: stroke; stroke: #fff; stroke-width: 4px; stroke-linejoin: round; }
#ring:has(.peer:hover) .link { opacity: .12; }
.peer:hover circle { stroke: #f59e0b; stroke-width: 4; }
/* Server gone: the ring shown is the last one seen, not the live one. */
body.stale .stage, body.stale aside { opacity: .45; filter: grayscale(1); }
/* Phone width: the ring above the cards, as wide as the screen. */
@media (max-width: 760px) {
  header { flex-wrap: wrap; gap: 4px 12px; padding: 10px 14px; }
  header .sub { flex-basis: 100%; order: 3; font-size: 13px; }
  main { flex-direction: column; align-items: stretch; gap: 12px; padding: 12px; }
  #ring { width: 100%; min-width: 0; }
  aside { flex: none; }
  .card { overflow-x: auto; }
}
`

function body(): string {
  const R = 390
  const C = 500
  const ticks = [0, 0.25, 0.5, 0.75]
    .map((f) => {
      const o = ringPoint(f, C, C, R + 8)
      const i = ringPoint(f, C, C, R - 8)
      const t = ringPoint(f, C, C, R - 34)
      const anchor = f === 0.25 ? 'end' : f === 0.75 ? 'start' : 'middle'
      const label = Math.round(f * 16).toString(16) + '0'.repeat(11)
      return (
        `<line class="tick" x1="${o.x.toFixed(1)}" y1="${o.y.toFixed(1)}" x2="${i.x.toFixed(1)}" y2="${i.y.toFixed(1)}"/>` +
        `<text class="ticklabel" x="${t.x.toFixed(1)}" y="${(t.y + 5).toFixed(1)}" text-anchor="${anchor}">${label}</text>`
      )
    })
    .join('')
  const marker = (id: string, color: string, size: number) =>
    `<marker id="${id}" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="${size}" markerHeight="${size}" orient="auto-start-reverse" markerUnits="userSpaceOnUse"><path d="M0,0 L10,5 L0,10 z" fill="${color}"/></marker>`
  const swatch = (cls: string, d = 'M2,9 L42,9') => `<svg viewBox="0 0 44 18"><path class="link ${cls}" d="${d}"/></svg>`
  return `
<header><h1>webrtc-explorer</h1><span class="sub">live ring · peers placed clockwise by id (angle = id / 2<sup>48</sup>)</span><span id="status">connecting…</span></header>
<main>
  <div class="stage">
    <svg id="ring" viewBox="0 0 1000 1000" role="img" aria-label="Chord ring of the joined peers">
      <defs>${marker('arrow-succ', '#15803d', 16)}${marker('arrow-finger', '#2563eb', 11)}${marker('arrow-stale', '#dc2626', 12)}</defs>
      <circle class="ringline" cx="${C}" cy="${C}" r="${R}"/>
      <g id="ring-layer"></g>
      <g class="ticks">${ticks}</g>
    </svg>
    <div id="empty">no peers joined yet</div>
  </div>
  <aside>
    <div class="card"><h2>Ring</h2><div class="counts">
      <span>peers joined</span><b data-count="peers">0</b>
      <span>peers reporting state</span><b data-count="reported">0</b>
      <span>successor links</span><b data-count="successors">0</b>
      <span>finger links</span><b data-count="fingers">0</b>
      <span id="stale-row">stale links</span><b data-count="stale">0</b>
    </div></div>
    <div class="card"><h2>Legend</h2><div class="legend">
      <svg viewBox="0 0 44 18"><circle cx="22" cy="9" r="7" fill="#0f172a"/></svg><span>peer (label: first 6 hex of its id)</span>
      <svg viewBox="0 0 44 18"><circle cx="22" cy="9" r="6" fill="#fff" stroke="#94a3b8" stroke-width="2.5"/></svg><span>peer that has not reported yet</span>
      ${swatch('successor')}<span>successor: next peer clockwise</span>
      ${swatch('finger', 'M2,14 Q22,0 42,14')}<span>finger: row i → successor(id + 2<sup>i</sup>)</span>
      ${swatch('stale')}<span>stale: target left, or skips a peer</span>
    </div></div>
    <div class="card"><h2>Peers</h2>
      <table><thead><tr><th>id</th><th>successor</th><th>pred.</th><th>fingers</th><th>age</th></tr></thead><tbody id="peer-rows"></tbody></table>
      <div id="more"></div>
    </div>
  </aside>
</main>`
}

/** Builds the self-contained dashboard page: inline CSS and JS, no external resources. */
export function dashboardPage(config: DashboardConfig): DashboardPage {
  const script = [
    // tsx/esbuild (keepNames) may wrap functions in __name(); make it a no-op in the page.
    'var __name = function (f) { return f };',
    ringFraction.toString(),
    ringPoint.toString(),
    analyseRing.toString(),
    spreadLabels.toString(),
    renderRing.toString(),
    startDashboard.toString(),
    `startDashboard(${JSON.stringify(config)});`,
  ].join('\n')
  const hash = (s: string) => createHash('sha256').update(s, 'utf8').digest('base64')
  const csp = [
    "default-src 'none'",
    `script-src 'sha256-${hash(script)}'`,
    `style-src 'sha256-${hash(STYLE)}'`,
    "connect-src 'self'",
    "img-src 'self' data:",
    "base-uri 'none'",
    "form-action 'none'",
  ].join('; ')
  const html = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>webrtc-explorer · ring</title>
<link rel="icon" href="data:image/svg+xml,%3Csvg xmlns=%27http://www.w3.org/2000/svg%27 viewBox=%270 0 16 16%27%3E%3Ccircle cx=%278%27 cy=%278%27 r=%276%27 fill=%27none%27 stroke=%27%2315803d%27 stroke-width=%272.5%27/%3E%3C/svg%3E">
<style>${STYLE}</style>
</head>
<body>${body()}
<script>${script}</script>
</body>
</html>
`
  return { html, csp }
}
