// Bundles browser.mts as an app would (esbuild, browser platform, default conditions, minified).
import { build } from 'esbuild'
import { writeFileSync } from 'node:fs'

const result = await build({ entryPoints: ['browser.mts'], bundle: true, minify: true, format: 'esm', platform: 'browser', outfile: 'out/app.js', metafile: true, logLevel: 'warning' })
writeFileSync('out/meta.json', JSON.stringify(result.metafile))
