import { Observable, firstValueFrom } from 'rxjs'
import { createHash } from 'node:crypto'
import { createExplorer, createIdentity, isExplorerError } from '../../src'
import { explorerInternals } from '../../src/explorer/internals'
import { parseId } from '../../src/ids'
import { MemoryNetwork } from '../../src/transport/memory'

const url = 'ws://127.0.0.1:9/ws'
const memory = () => new MemoryNetwork().transport(1)

describe('createExplorer options', () => {
  it.each([
    ['missing', undefined],
    ['empty', ''],
    ['not a URL', 'localhost:9000'],
    ['http', 'http://localhost:9000/ws'],
    ['a number', 42],
  ])('throws BAD_OPTIONS at once when signalUrl is %s', (_, signalUrl) => {
    expect(() => createExplorer({ signalUrl } as never)).toThrow(expect.objectContaining({ code: 'BAD_OPTIONS' }))
  })

  it('throws BAD_OPTIONS without options, for bad numbers, and outside browsers without wrtc', () => {
    expect(() => createExplorer(undefined as never)).toThrow(expect.objectContaining({ code: 'BAD_OPTIONS' }))
    expect(() => createExplorer({ signalUrl: url, stabilizeMs: -1, transport: memory() })).toThrow(expect.objectContaining({ code: 'BAD_OPTIONS' }))
    expect(() => createExplorer({ signalUrl: url, windowBytes: 10, transport: memory() })).toThrow(expect.objectContaining({ code: 'BAD_OPTIONS' }))
    expect(() => createExplorer({ signalUrl: url, WebSocket: 'ws' as never, transport: memory() })).toThrow(expect.objectContaining({ code: 'BAD_OPTIONS' }))
    expect(() => createExplorer({ signalUrl: url })).toThrow(expect.objectContaining({ code: 'BAD_OPTIONS' }))
    expect(() => createExplorer({ signalUrl: url, scheduler: {} as never, transport: memory() })).toThrow(expect.objectContaining({ code: 'BAD_OPTIONS' }))
    expect(() => createExplorer({ signalUrl: url, random: 0.5 as never, transport: memory() })).toThrow(expect.objectContaining({ code: 'BAD_OPTIONS' }))
  })

  it('snapshot() before listen(): alone and not in a ring', () => {
    const explorer = createExplorer({ signalUrl: url, transport: memory() })
    expect(explorer.snapshot()).toEqual({ id: explorer.id, joined: false, predecessor: null, successors: [], fingers: [], channels: 0 })
  })

  it('hands abusePolicy to the router: a bad one throws BAD_OPTIONS, a good one is in force', () => {
    expect(() => createExplorer({ signalUrl: url, abusePolicy: { maxBadFrames: 0 }, transport: memory() })).toThrow(expect.objectContaining({ code: 'BAD_OPTIONS' }))
    const explorer = createExplorer({ signalUrl: url, abusePolicy: { maxBadFrames: 3 }, transport: memory() })
    expect(explorerInternals(explorer).ring.router.abusePolicy).toEqual({ maxBadFrames: 3, windowMs: 10_000 })
  })

  it('takes its id from the identity given, or from a fresh one; an id cannot be chosen', async () => {
    const identity = await createIdentity()
    const given = createExplorer({ signalUrl: url, identity, transport: memory() })
    expect(given.id).toBe(identity.id)
    expect(given.publicKey).toEqual(identity.publicKey)
    const a = createExplorer({ signalUrl: 'wss://example.org/ws', transport: memory() })
    const b = createExplorer({ signalUrl: url, transport: memory() })
    expect(a.id).toMatch(/^[0-9a-f]{12}$/)
    expect(a.id).not.toBe(b.id)
    expect(explorerInternals(a).ring.id).toBe(parseId(a.id))
    expect(a.id).toBe(createHash('sha256').update(a.publicKey).digest('hex').slice(0, 12))
    expect(() => createExplorer({ signalUrl: url, id: '00000000abcd', transport: memory() } as never)).toThrow(expect.objectContaining({ code: 'BAD_OPTIONS' }))
    const lookalike = { id: identity.id, publicKey: identity.publicKey, export: () => identity.export() }
    expect(() => createExplorer({ signalUrl: url, identity: lookalike, transport: memory() })).toThrow(expect.objectContaining({ code: 'BAD_OPTIONS' }))
  })

  it('misuse throws at once; calls before listen() error NOT_LISTENING', async () => {
    const explorer = createExplorer({ signalUrl: url, transport: memory() })
    expect(() => explorer.dial$('xyz')).toThrow(expect.objectContaining({ code: 'BAD_ID' }))
    expect(() => explorer.lookup$('12')).toThrow(expect.objectContaining({ code: 'BAD_ID' }))
    expect(() => explorer.updateFinger(48)).toThrow(expect.objectContaining({ code: 'BAD_ID' }))
    const calls: Observable<unknown>[] = [explorer.dial$('000000000001'), explorer.lookup$('000000000001'), explorer.updateFinger(3), explorer.updateFingerTable()]
    for (const call of calls) {
      await expect(firstValueFrom(call)).rejects.toMatchObject({ code: 'NOT_LISTENING' })
    }
    await explorer.close()
  })

  it('close() before listen() resolves; listen() after close() rejects CLOSED', async () => {
    const explorer = createExplorer({ signalUrl: url, transport: memory() })
    await explorer.close()
    await explorer.close()
    const error = await explorer.listen().catch((e) => e)
    expect(isExplorerError(error, 'CLOSED')).toBe(true)
  })
})
