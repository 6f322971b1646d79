/**
 * Draws hops against ring size from simulation results:
 *   npx tsx bench/simulate/chart.ts docs/simulation-results.json docs/images/hops-vs-n.svg
 * Plain SVG, no dependencies: mean and p99 hops measured, next to Chord's ½·log2 N.
 */
import { readFileSync, writeFileSync } from 'node:fs'

interface Result {
  peers: number
  meanHops: number
  p99Hops: number
  failedPeers?: number
  /** 'churn' rows (bench/churn) share the file; the chart is of converged rings only. */
  mode?: string
}

const [input, output] = process.argv.slice(2)
if (!input || !output) throw new Error('usage: chart.ts results.json out.svg')
const rows: Result[] = JSON.parse(readFileSync(input, 'utf8')).filter((r: Result) => !r.failedPeers && r.mode !== 'churn')
// One point per size: the first row for it (one-thread runs come before runs with --workers).
const results = rows.filter((r, i) => rows.findIndex((other) => other.peers === r.peers) === i).sort((a, b) => a.peers - b.peers)

const W = 640, H = 400, left = 60, right = 20, top = 40, bottom = 50
const minLog = Math.floor(Math.log2(results[0].peers)) - 1
const maxLog = Math.ceil(Math.log2(results[results.length - 1].peers)) + 1
const maxHops = Math.ceil(Math.max(...results.map((r) => r.p99Hops), maxLog) + 1)
const x = (n: number) => left + ((Math.log2(n) - minLog) / (maxLog - minLog)) * (W - left - right)
const y = (h: number) => H - bottom - (h / maxHops) * (H - top - bottom)
const line = (points: [number, number][]) => points.map(([n, h], i) => `${i ? 'L' : 'M'}${x(n).toFixed(1)},${y(h).toFixed(1)}`).join(' ')

const parts: string[] = []
for (let l = minLog; l <= maxLog; l++) {
  parts.push(`<line x1="${x(2 ** l)}" y1="${y(0)}" x2="${x(2 ** l)}" y2="${y(maxHops)}" stroke="#eee"/>`)
  parts.push(`<text x="${x(2 ** l)}" y="${y(0) + 18}" text-anchor="middle" font-size="11">${2 ** l}</text>`)
}
for (let h = 0; h <= maxHops; h += 2) {
  parts.push(`<line x1="${left}" y1="${y(h)}" x2="${W - right}" y2="${y(h)}" stroke="#eee"/>`)
  parts.push(`<text x="${left - 8}" y="${y(h) + 4}" text-anchor="end" font-size="11">${h}</text>`)
}
const chord: [number, number][] = []
for (let l = minLog; l <= maxLog; l += 0.25) chord.push([2 ** l, 0.5 * l])
parts.push(`<path d="${line(chord)}" fill="none" stroke="#999" stroke-dasharray="5,4" stroke-width="2"/>`)
parts.push(`<path d="${line(results.map((r) => [r.peers, r.p99Hops]))}" fill="none" stroke="#d9822b" stroke-width="2"/>`)
parts.push(`<path d="${line(results.map((r) => [r.peers, r.meanHops]))}" fill="none" stroke="#2b6cd9" stroke-width="2.5"/>`)
for (const r of results) {
  parts.push(`<circle cx="${x(r.peers)}" cy="${y(r.meanHops)}" r="4" fill="#2b6cd9"><title>N=${r.peers}: mean ${r.meanHops.toFixed(2)}</title></circle>`)
  parts.push(`<circle cx="${x(r.peers)}" cy="${y(r.p99Hops)}" r="4" fill="#d9822b"><title>N=${r.peers}: p99 ${r.p99Hops}</title></circle>`)
}
const legend = [
  ['#2b6cd9', 'mean hops (measured)', ''],
  ['#d9822b', 'p99 hops (measured)', ''],
  ['#999', 'Chord: ½·log2 N', '5,4'],
]
legend.forEach(([color, label, dash], i) => {
  parts.push(`<line x1="${left + 10}" y1="${top + i * 18}" x2="${left + 40}" y2="${top + i * 18}" stroke="${color}" stroke-width="2.5" ${dash ? `stroke-dasharray="${dash}"` : ''}/>`)
  parts.push(`<text x="${left + 48}" y="${top + i * 18 + 4}" font-size="12">${label}</text>`)
})
const svg = `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" font-family="sans-serif">
<rect width="100%" height="100%" fill="white"/>
<text x="${W / 2}" y="20" text-anchor="middle" font-size="14" font-weight="bold">Lookup hops against ring size (maxFingers 16)</text>
${parts.join('\n')}
<text x="${W / 2}" y="${H - 8}" text-anchor="middle" font-size="12">peers N (log scale)</text>
<text x="16" y="${H / 2}" text-anchor="middle" font-size="12" transform="rotate(-90 16 ${H / 2})">hops</text>
</svg>
`
writeFileSync(output, svg)
console.log(`wrote ${output} (${results.length} sizes)`)
