import { spawn, spawnSync, type ChildProcess } from 'node:child_process'
import net from 'node:net'

/**
 * A real Redis (or Valkey) server for tests and benchmarks: Debian's
 * `redis-server` by default (`REDIS_SERVER=/path/to/valkey-server` for
 * another), on a free loopback port, in memory only (no RDB, no AOF), so a
 * restart starts empty, as after losing a cache node. Missing binary: a clear
 * error, never a skip.
 */
export class RedisServer {
  private child: ChildProcess | null = null

  private constructor(
    readonly binary: string,
    readonly port: number,
  ) {}

  /** The running server's process id (for CPU accounting), or null. */
  get pid(): number | null {
    return this.child?.pid ?? null
  }

  get url(): string {
    return `redis://127.0.0.1:${this.port}`
  }

  static async start(binary = process.env.REDIS_SERVER ?? 'redis-server'): Promise<RedisServer> {
    requireBinary(binary)
    const server = new RedisServer(binary, await freePort())
    await server.restart()
    return server
  }

  /** The binary's version line, e.g. "Redis server v=7.0.15 ...". */
  version(): string {
    return spawnSync(this.binary, ['--version'], { encoding: 'utf8' }).stdout.trim()
  }

  /** Starts (again) on the same port; resolves once it accepts connections. */
  restart(): Promise<void> {
    if (this.child) throw new Error('redis-server is already running')
    const child = spawn(
      this.binary,
      ['--port', String(this.port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--protected-mode', 'no', '--loglevel', 'notice'],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    )
    this.child = child
    // Never outlive the process that started it (a script that exits, a test run that ends).
    const reap = () => child.kill('SIGKILL')
    process.once('exit', reap)
    child.once('exit', () => process.off('exit', reap))
    let output = ''
    return new Promise((resolve, reject) => {
      const onData = (chunk: Buffer) => {
        output += chunk.toString()
        if (/ready to accept connections/i.test(output)) {
          child.stdout!.off('data', onData)
          child.stdout!.resume()
          resolve()
        }
      }
      child.stdout!.on('data', onData)
      child.stderr!.on('data', (chunk: Buffer) => (output += chunk.toString()))
      child.once('exit', (code) => {
        if (this.child === child) this.child = null
        reject(new Error(`${this.binary} exited (${code}) before it was ready:\n${output}`))
      })
    })
  }

  /** CONFIG SET on the running server. */
  async configure(name: string, value: string): Promise<void> {
    const { Redis } = await import('ioredis')
    const client = new Redis(this.url, { lazyConnect: true })
    try {
      await client.connect()
      await client.config('SET', name, value)
    } finally {
      client.disconnect()
    }
  }

  /** Freezes it (SIGSTOP): connections stay open and nothing is answered, as with a hung server or a black-holed network. */
  pause(): void {
    this.child?.kill('SIGSTOP')
  }

  /** Thaws it (SIGCONT): it answers everything that waited. */
  resume(): void {
    this.child?.kill('SIGCONT')
  }

  /** Stops it (SIGTERM) and waits for the process to end. */
  async stop(): Promise<void> {
    const child = this.child
    if (!child) return
    this.child = null
    if (child.exitCode !== null || child.signalCode !== null) return
    await new Promise((resolve) => {
      child.once('exit', resolve)
      child.kill('SIGCONT')
      child.kill('SIGTERM')
    })
  }
}

function requireBinary(binary: string): void {
  const probe = spawnSync(binary, ['--version'], { encoding: 'utf8' })
  if (probe.error === undefined && probe.status === 0) return
  throw new Error(
    `${binary} is missing (${probe.error?.message ?? `exit ${probe.status}`}). The cluster tests run against a real Redis: ` +
      'install it with `bash scripts/ensure-redis.sh` (as root; it runs `apt-get install redis-server`), ' +
      'or point REDIS_SERVER at a redis-server or valkey-server binary.',
  )
}

/** A TCP port nothing listens on right now. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer()
    server.once('error', reject)
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as net.AddressInfo
      server.close(() => resolve(port))
    })
  })
}
