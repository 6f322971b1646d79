import { fork, type ChildProcess } from 'node:child_process'
import { join } from 'node:path'
import type { ExplorerOptions, Identity } from '../../src'
import { toBase64url } from '../../src/identity'

/** One peer's ring state, as plain data (it crosses a process boundary). Ids are numbers. */
export interface PeerState {
  id: number
  joined: boolean
  predecessor: number | null
  successors: number[]
  /** Remote ids of every open channel. */
  channels: number[]
  /** [row, peer] of every finger row. */
  fingers: [number, number][]
  /** Frames this peer's router forwarded for others. */
  forwarded: number
  /** Frames its router sent (originated and forwarded), and of those, the ones that left over a relayed link (src/links/). */
  framesSent?: number
  relayedLinkFrames?: number
}

/** Explorers living in a child process: `kill()` is a real crash. */
export interface PeerProcess {
  readonly ids: string[]
  readonly pid: number
  /** The peers' ring state now (ask before the crash). */
  states(): Promise<PeerState[]>
  /** SIGKILL: the peers vanish without a word. Resolves once the process is gone. */
  kill(): Promise<void>
  readonly alive: boolean
}

const ROOT = join(__dirname, '..', '..')
const ENTRY = join(__dirname, 'peer-process.ts')

/**
 * Starts one explorer per identity in a child process (the seeds cross on
 * its command line), against the signalling server at `signalUrl`, each
 * echoing every socket dialled to it. Resolves once all of them listen. The
 * child runs TypeScript through tsx.
 */
export function spawnPeers(signalUrl: string, identities: Identity[], options: Partial<ExplorerOptions>, readyTimeoutMs = 60_000): Promise<PeerProcess> {
  const ids = identities.map((identity) => identity.id)
  const seeds = identities.map((identity) => toBase64url(identity.export()))
  const child: ChildProcess = fork(ENTRY, [JSON.stringify({ signalUrl, seeds, options })], {
    cwd: ROOT,
    execArgv: ['--import', 'tsx'],
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  })
  let exited = false
  const exit = new Promise<void>((resolve) => child.once('exit', () => ((exited = true), resolve())))
  let nextReq = 0
  const pending = new Map<number, (peers: PeerState[]) => void>()
  child.on('message', (message: { req?: number; peers?: PeerState[] }) => {
    if (message.req !== undefined && message.peers) {
      pending.get(message.req)?.(message.peers)
      pending.delete(message.req)
    }
  })
  const handle: PeerProcess = {
    ids,
    pid: child.pid ?? -1,
    get alive() {
      return !exited
    },
    states: () =>
      new Promise<PeerState[]>((resolve, reject) => {
        if (exited) return reject(new Error('the peer process is gone'))
        const req = nextReq++
        pending.set(req, resolve)
        child.send({ req, op: 'snapshot' })
      }),
    kill: async () => {
      if (!exited) child.kill('SIGKILL')
      await exit
    },
  }
  return new Promise<PeerProcess>((resolve, reject) => {
    let settled = false
    const timer = setTimeout(() => fail(new Error(`peer process not ready within ${readyTimeoutMs} ms`)), readyTimeoutMs)
    const fail = (error: Error): void => {
      if (settled) return
      settled = true
      clearTimeout(timer)
      void handle.kill().then(() => reject(error))
    }
    child.on('message', (message: { ready?: string[]; failed?: string }) => {
      if (message.ready && !settled) {
        settled = true
        clearTimeout(timer)
        resolve(handle)
      } else if (message.failed !== undefined) fail(new Error(`peer process: listen() failed: ${message.failed}`))
    })
    void exit.then(() => fail(new Error('peer process exited before it was ready')))
  })
}
