/** Processes inside the lab's namespaces: started through `ip netns exec`, so each keeps its own pid. */
import { spawn, type ChildProcess, type StdioOptions } from 'node:child_process'
import { mkdirSync, renameSync } from 'node:fs'
import { basename, join } from 'node:path'
import { buildSync } from 'esbuild'

export const ROOT = join(__dirname, '..', '..')
const OUT = join(ROOT, 'node_modules', '.cache', 'webrtc-explorer', 'nat-lab')
const built = new Map<string, string>()

/**
 * Argv that runs a TypeScript file of this repository with Node, bundled
 * once per process by esbuild: a lab starts a dozen processes, and through
 * tsx each took 1-2 s to start on a loaded 2-core machine (plain Node: ~0.1 s).
 * @roamhq/wrtc stays outside the bundle (a native addon).
 */
export function nodeScript(file: string, ...args: string[]): string[] {
  let out = built.get(file)
  if (out === undefined) {
    mkdirSync(OUT, { recursive: true })
    out = join(OUT, `${basename(file, '.ts')}.cjs`)
    // Written aside, then renamed over: a concurrent run reads a whole file, old or new.
    const aside = `${out}.${process.pid}.tmp`
    buildSync({
      entryPoints: [join(ROOT, file)], bundle: true, platform: 'node', format: 'cjs', target: 'node20', outfile: aside,
      external: ['@roamhq/wrtc'], logLevel: 'warning',
    })
    renameSync(aside, out)
    built.set(file, out)
  }
  return [process.execPath, out, ...args]
}

export function spawnIn(ns: string, argv: string[], stdio: StdioOptions = ['ignore', 'pipe', 'pipe']): ChildProcess {
  return spawn('ip', ['netns', 'exec', ns, ...argv], { cwd: ROOT, stdio })
}

/** Resolves with the first stdout line matching `pattern` (and keeps draining the output); rejects if the process exits or `timeoutMs` passes first. */
export function lineFrom(child: ChildProcess, pattern: RegExp, timeoutMs: number, what: string): Promise<string> {
  return new Promise((resolve, reject) => {
    let out = ''
    let err = ''
    const timer = setTimeout(() => finish(new Error(`${what}: no ${pattern} within ${timeoutMs} ms; output: ${tail(out + err)}`)), timeoutMs)
    const onOut = (chunk: Buffer): void => {
      out += chunk.toString()
      const line = out.split('\n').find((l) => pattern.test(l))
      if (line !== undefined) finish(null, line)
    }
    const onErr = (chunk: Buffer): void => void (err += chunk.toString())
    const onExit = (code: number | null, signal: string | null): void =>
      finish(new Error(`${what} exited (${signal ?? code}) before printing ${pattern}: ${tail(err || out)}`))
    function finish(error: Error | null, line?: string): void {
      clearTimeout(timer)
      child.stdout?.off('data', onOut)
      child.stderr?.off('data', onErr)
      child.off('exit', onExit)
      // Keep draining: a process writing to a full pipe nobody reads would block.
      child.stdout?.resume()
      child.stderr?.resume()
      if (error) reject(error)
      else resolve(line!)
    }
    child.stdout?.on('data', onOut)
    child.stderr?.on('data', onErr)
    child.once('exit', onExit)
  })
}

/** Everything a process printed, once it exits; rejects on a non-zero exit. */
export function outputOf(child: ChildProcess, what: string): Promise<string> {
  return new Promise((resolve, reject) => {
    let out = ''
    let err = ''
    child.stdout?.on('data', (chunk: Buffer) => void (out += chunk.toString()))
    child.stderr?.on('data', (chunk: Buffer) => void (err += chunk.toString()))
    child.once('exit', (code, signal) => (code === 0 ? resolve(out) : reject(new Error(`${what} failed (${signal ?? code}): ${tail(err || out)}`))))
  })
}

const tail = (text: string): string => JSON.stringify(text.trim().slice(-600))

/** SIGKILL, then wait for the exit (at once if it already exited). */
export function kill(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve()
  return new Promise((resolve) => {
    child.once('exit', () => resolve())
    child.kill('SIGKILL')
  })
}
