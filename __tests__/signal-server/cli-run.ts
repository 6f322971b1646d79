/** Runs the sig-server CLI from source (tsx) as a child process, for the CLI tests. */
import { spawn, type ChildProcess } from 'node:child_process'
import path from 'node:path'

const ROOT = path.resolve(__dirname, '../..')
const CLI = path.join(ROOT, 'signal-server/cli.ts')

export interface Run {
  child: ChildProcess
  stdout: () => string
  stderr: () => string
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>
}

export function run(args: string[], env: Record<string, string> = {}): Run {
  const child = spawn(process.execPath, ['--import', 'tsx', CLI, ...args], {
    cwd: ROOT,
    env: { ...process.env, LOG_LEVEL: 'warn', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  let out = ''
  let err = ''
  child.stdout!.on('data', (d) => (out += d))
  child.stderr!.on('data', (d) => (err += d))
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.once('exit', (code, signal) => resolve({ code, signal })),
  )
  return { child, stdout: () => out, stderr: () => err, exited }
}

/** Resolves with the advertised URL once the start line is printed. */
export function started(r: Run): Promise<string> {
  return new Promise((resolve, reject) => {
    const check = () => {
      const m = /Signalling Server Started on (ws:\/\/\S+)/.exec(r.stdout())
      if (m) resolve(m[1])
    }
    r.child.stdout!.on('data', check)
    void r.exited.then(({ code }) => reject(new Error(`exited ${code} before starting: ${r.stderr()}`)))
    check()
  })
}
