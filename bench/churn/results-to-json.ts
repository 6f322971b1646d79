/**
 * Puts churn results (the `--json` lines of `npm run simulate -- --churn-median-minutes ...`)
 * into the shared results file, replacing its earlier churn rows and keeping the others:
 *   npx tsx bench/churn/results-to-json.ts docs/simulation-results.json run1.json run2.json ...
 * The per-minute timeline is left out (it is in each run's own output).
 */
import { readFileSync, writeFileSync } from 'node:fs'

const [output, ...inputs] = process.argv.slice(2)
if (!output || inputs.length === 0) throw new Error('usage: results-to-json.ts results.json churn-run.json...')
const kept = (JSON.parse(readFileSync(output, 'utf8')) as { mode?: string }[]).filter((row) => row.mode !== 'churn')
const churn = inputs
  .flatMap((file) => readFileSync(file, 'utf8').split('\n'))
  .filter((line) => line.startsWith('{'))
  .map((line) => JSON.parse(line))
  .filter((row) => row.mode === 'churn')
  .map(({ timeline, ...row }) => row)
writeFileSync(output, JSON.stringify([...kept, ...churn], null, 2) + '\n')
console.log(`wrote ${kept.length} other and ${churn.length} churn results to ${output}`)
