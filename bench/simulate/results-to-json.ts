/** Collects JSON lines printed by `npm run simulate -- --json` into one array file for the chart. */
import { readFileSync, writeFileSync } from 'node:fs'

const [input, output] = process.argv.slice(2)
if (!input || !output) throw new Error('usage: results-to-json.ts results.jsonl out.json')
const rows = readFileSync(input, 'utf8').split('\n').filter((line) => line.startsWith('{')).map((line) => JSON.parse(line))
writeFileSync(output, JSON.stringify(rows, null, 2) + '\n')
console.log(`wrote ${rows.length} results to ${output}`)
