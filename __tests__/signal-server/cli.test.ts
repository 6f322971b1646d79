import { Client, eventually, freshId } from './helpers'
import { run, started, type Run } from './cli-run'
import { RedisServer } from '../helpers/redis-server'

const [A, B] = [freshId(), freshId()]

describe('sig-server CLI', () => {
  const runs: Run[] = []
  afterEach(() => {
    for (const r of runs.splice(0)) if (r.child.exitCode === null && r.child.signalCode === null) r.child.kill('SIGKILL')
  })

  it.each(['SIGTERM', 'SIGINT'] as const)('prints its URL, serves, and on %s closes clients with 1001 and exits 0', async (signal) => {
    const r = run(['--port', '0', '--host', '127.0.0.1'])
    runs.push(r)
    const url = await started(r)
    expect(url).toMatch(/^ws:\/\/127\.0\.0\.1:\d+\/ws$/)
    const http = url.replace(/^ws/, 'http').replace(/\/ws$/, '')
    const a = await Client.open(url)
    const b = await Client.open(url)
    await a.join(A)
    await b.join(B)
    a.send({ type: 'signal', to: B, data: 'via cli' })
    expect(await b.next()).toEqual({ type: 'signal', from: A, data: 'via cli' })
    expect(await (await fetch(`${http}/health`)).json()).toEqual({ status: 'ok', peers: 2 })
    r.child.kill(signal)
    expect((await a.closed).code).toBe(1001)
    expect((await b.closed).code).toBe(1001)
    expect(await r.exited).toEqual({ code: 0, signal: null })
  })

  it('takes PORT and HOST from the environment', async () => {
    const r = run([], { PORT: '0', HOST: '127.0.0.1' })
    runs.push(r)
    const url = await started(r)
    expect(url).toMatch(/^ws:\/\/127\.0\.0\.1:\d+\/ws$/)
    const a = await Client.open(url)
    await a.join(A)
    r.child.kill('SIGTERM')
    expect((await a.closed).code).toBe(1001)
    expect((await r.exited).code).toBe(0)
  })

  it('--help prints usage and exits 0; a bad flag exits 2', async () => {
    const help = run(['--help'])
    runs.push(help)
    expect((await help.exited).code).toBe(0)
    expect(help.stdout()).toMatch(/Usage: sig-server \[--port N\] \[--host H\]/)
    const bad = run(['--port', 'nope'])
    runs.push(bad)
    expect((await bad.exited).code).toBe(2)
    expect(bad.stderr()).toMatch(/invalid port/)
    const unknown = run(['--bogus'])
    runs.push(unknown)
    expect((await unknown.exited).code).toBe(2)
  })

  it('--redis URL (or REDIS_URL) makes instances one cluster; a bad URL exits 2', async () => {
    const redis = await RedisServer.start()
    try {
      const one = run(['--port', '0', '--host', '127.0.0.1', '--redis', redis.url])
      const two = run(['--port', '0', '--host', '127.0.0.1'], { REDIS_URL: redis.url })
      runs.push(one, two)
      const [url1, url2] = await Promise.all([started(one), started(two)])
      const a = await Client.open(url1)
      const b = await Client.open(url2)
      await a.join(A)
      expect(await b.join(B)).toMatchObject({ successors: [A], peers: 2 })
      a.send({ type: 'signal', to: B, data: 'across' })
      expect(await b.next()).toEqual({ type: 'signal', from: A, data: 'across' })
      const http2 = url2.replace(/^ws/, 'http').replace(/\/ws$/, '')
      await eventually(async () => {
        expect(await (await fetch(`${http2}/health`)).json()).toEqual({ status: 'ok', peers: 2, instancePeers: 1, redis: 'up' })
      })
      // A clean stop gives the instance's ids back at once: no lease to wait for.
      one.child.kill('SIGTERM')
      expect((await a.closed).code).toBe(1001)
      expect((await one.exited).code).toBe(0)
      const again = await Client.open(url2)
      expect(await again.join(A)).toMatchObject({ type: 'joined', peers: 2 })
      await Promise.all([again.close(), b.close()])
    } finally {
      await redis.stop()
    }
    const bad = run(['--redis', 'http://127.0.0.1:6379'])
    runs.push(bad)
    expect((await bad.exited).code).toBe(2)
    expect(bad.stderr()).toMatch(/redis URL must be redis: or rediss:/)
  })
})
