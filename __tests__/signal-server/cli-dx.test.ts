import { readFileSync } from 'node:fs'
import path from 'node:path'
import { Client, freshId } from './helpers'
import { run, started, type Run } from './cli-run'

describe('sig-server CLI for people', () => {
  const runs: Run[] = []
  const start = (args: string[], env: Record<string, string> = {}): Run => {
    const r = run(args, env)
    runs.push(r)
    return r
  }
  afterEach(() => {
    for (const r of runs.splice(0)) if (r.child.exitCode === null && r.child.signalCode === null) r.child.kill('SIGKILL')
  })

  it('--version prints the server package\'s version and exits 0', async () => {
    const { version } = JSON.parse(readFileSync(path.join(__dirname, '../../signal-server/package.json'), 'utf8'))
    const r = start(['--version'])
    expect(await r.exited).toEqual({ code: 0, signal: null })
    expect(r.stdout()).toBe(`${version}\n`)
  })

  it('bound to every interface, prints a URL a browser can dial (localhost, not 0.0.0.0), and it works', async () => {
    const r = start(['--port', '0', '--host', '0.0.0.0'])
    const url = await started(r)
    expect(url).toMatch(/^ws:\/\/localhost:\d+\/ws$/)
    expect(r.stdout()).not.toContain('0.0.0.0')
    const client = await Client.open(url)
    await client.join(freshId())
    client.ws.close()
  })

  it('logs HTTP requests at debug, not info', async () => {
    const requests = async (level: string): Promise<string[]> => {
      const r = start(['--port', '0', '--host', '127.0.0.1'], { LOG_LEVEL: level })
      const http = (await started(r)).replace(/^ws/, 'http').replace(/\/ws$/, '')
      for (let i = 0; i < 3; i++) await (await fetch(`${http}/health`)).text()
      r.child.kill('SIGTERM')
      await r.exited
      return r.stdout().split('\n').filter((line) => line.includes('/health'))
    }
    expect(await requests('info')).toEqual([])
    const debug = (await requests('debug')).map((line) => JSON.parse(line) as { level: number; msg: string })
    expect(debug.map((entry) => entry.level)).toEqual(debug.map(() => 20))
    expect(debug.filter((entry) => entry.msg === 'request completed')).toHaveLength(3)
    expect(debug.find((entry) => entry.msg === 'request completed')).toMatchObject({ method: 'GET', url: '/health', statusCode: 200 })
  })
})
