/** The lab's driver side: peer agents (./peer-agent.ts) in the lab's hosts, and the signalling server on its host. */
import type { ChildProcess } from 'node:child_process'
import { SIGNAL_ADDRESS, type NatLab, type PeerHost } from './lab'
import type { RelayedSignal } from './peer-agent'
import { kill, lineFrom, nodeScript } from './processes'

export interface Agent {
  readonly host: PeerHost
  /** The agent's transport-level id (its index + 1). */
  readonly id: number
  request<T>(op: string, args?: Record<string, unknown>): Promise<T>
  stop(): Promise<void>
}

/**
 * Starts one agent per host, each in its host's namespace, and relays the
 * WebRTC signals of transport-level handshakes between them (the driver is
 * their signalling channel). Resolves once all are ready.
 */
export async function startAgents(lab: NatLab, hosts: readonly PeerHost[]): Promise<Agent[]> {
  const children = new Map<number, ChildProcess>()
  const agents = hosts.map((host, i) => {
    const id = i + 1
    const child = lab.spawn(host.ns, nodeScript('scripts/nat-lab/peer-agent.ts'), ['ignore', 'inherit', 'inherit', 'ipc'])
    children.set(id, child)
    let nextReq = 0
    const pending = new Map<number, { resolve: (value: never) => void; reject: (error: Error) => void }>()
    const ready = new Promise<void>((resolve, reject) => {
      child.once('exit', (code, signal) => {
        const error = new Error(`the agent on ${host.name} exited (${signal ?? code})`)
        reject(error)
        for (const p of pending.values()) p.reject(error)
        pending.clear()
      })
      child.on('message', (message: { ready?: true; req?: number; ok?: never; error?: string; signal?: RelayedSignal }) => {
        if (message.ready) resolve()
        if (message.signal) {
          const target = children.get(message.signal.to!)
          const { sid, c, data } = message.signal
          if (target?.connected) target.send({ signal: { from: id, sid, ...(c ? { c } : {}), data } })
        }
        if (message.req !== undefined) {
          const p = pending.get(message.req)
          pending.delete(message.req)
          if (message.error !== undefined) p?.reject(new Error(`${host.name}: ${message.error}`))
          else p?.resolve(message.ok as never)
        }
      })
    })
    const agent: Agent = {
      host,
      id,
      request: <T>(op: string, args: Record<string, unknown> = {}) =>
        new Promise<T>((resolve, reject) => {
          if (!child.connected) return reject(new Error(`the agent on ${host.name} is gone (${child.signalCode ?? child.exitCode})`))
          const req = nextReq++
          pending.set(req, { resolve: resolve as (value: never) => void, reject })
          child.send({ req, op, ...args })
        }),
      stop: () => kill(child),
    }
    return { agent, ready }
  })
  await Promise.all(agents.map((a) => a.ready))
  return agents.map((a) => a.agent)
}

export interface LabSignalServer {
  /** ws://… as the peers reach it. */
  readonly url: string
  stop(): Promise<void>
}

export const SIGNAL_PORT = 9000

/** Runs `sig-server` (the CLI, as deployed) on the lab's signalling host with these extra flags. */
export async function startSignalServer(lab: NatLab, flags: string[]): Promise<LabSignalServer> {
  const server = lab.spawn(lab.signalNs, nodeScript('signal-server/cli.ts', '--port', String(SIGNAL_PORT), '--host', SIGNAL_ADDRESS, ...flags), ['ignore', 'pipe', 'pipe'])
  const line = await lineFrom(server, /Signalling Server Started on/, 20_000, 'sig-server')
  return { url: line.split(' on ')[1].trim(), stop: () => kill(server) }
}
