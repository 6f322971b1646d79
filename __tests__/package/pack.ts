/**
 * The packed tarballs, installed as a user installs them: `npm pack` (its
 * prepack builds dist/) for webrtc-explorer and webrtc-explorer-signal-server,
 * then `npm install` of the tarballs into a temporary app, from the local npm
 * cache where it can (--prefer-offline). Dependencies are pinned to the
 * versions this repository installed, so the cache has them.
 */
import { execFileSync } from 'node:child_process'
import { cpSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'

export const ROOT = resolve(__dirname, '..', '..')
export const APPS = join(__dirname, 'apps')

export interface Tarball {
  file: string
  /** Paths inside the package, e.g. `dist/index.mjs`. */
  files: string[]
  size: number
  unpackedSize: number
}

const npm = (args: string[], cwd: string): string => execFileSync('npm', args, { cwd, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] })

function pack(dest: string, workspace?: string): Tarball {
  const out = npm(['pack', '--json', '--pack-destination', dest, ...(workspace ? ['-w', workspace] : [])], ROOT)
  // prepack's own output comes before the JSON.
  const [info] = JSON.parse(out.slice(out.indexOf('[')))
  return { file: join(dest, info.filename), files: info.files.map((f: { path: string }) => f.path), size: info.size, unpackedSize: info.unpackedSize }
}

export function packBoth(dest: string): { client: Tarball; server: Tarball } {
  return { client: pack(dest), server: pack(dest, 'signal-server') }
}

/** `name@version` as installed in this repository. */
export const installed = (name: string): string => `${name}@${JSON.parse(readFileSync(join(ROOT, 'node_modules', name, 'package.json'), 'utf8')).version}`

/** A temporary app (`"type": "module"`) with `specs` installed; the files of apps/ copied in when `withSources`. */
export function makeApp(specs: string[], withSources: boolean): string {
  const dir = mkdtempSync(join(tmpdir(), 'webrtc-explorer-app-'))
  writeFileSync(join(dir, 'package.json'), JSON.stringify({ name: 'temp-app', version: '1.0.0', private: true, type: 'module' }))
  if (withSources) cpSync(APPS, dir, { recursive: true })
  npm(['install', '--prefer-offline', '--no-audit', '--no-fund', '--ignore-scripts', '--loglevel=error', ...specs], dir)
  return dir
}

/** The packages installed in an app (from its lock file). */
export function installedPackages(dir: string): string[] {
  const lock = JSON.parse(readFileSync(join(dir, 'package-lock.json'), 'utf8')) as { packages: Record<string, unknown> }
  return Object.keys(lock.packages)
    .filter((path) => path.startsWith('node_modules/'))
    .map((path) => path.slice(path.lastIndexOf('node_modules/') + 'node_modules/'.length))
}
