import { fork, type ChildProcess } from 'node:child_process'
import { join } from 'node:path'
import { Subject } from 'rxjs'
import type { SignalPort } from '../../src/transport/types'
import type { WebRtcTransportOptions } from '../../src/transport/webrtc'

/** The other end of a channel, in a child process that a test or bench can crash (SIGKILL). */
export interface FarEnd {
  /** Signals to and from the child: hand it to transport.connect(). */
  readonly port: SignalPort
  /** Resolves once the child's end of the channel is open. */
  readonly open: Promise<void>
  /** SIGKILL; resolves once the process is gone. */
  kill(): Promise<void>
}

const ROOT = join(__dirname, '..', '..')

export function spawnFarEnd(options: Omit<WebRtcTransportOptions, 'wrtc' | 'scheduler' | 'iceServers'> = {}): FarEnd {
  const child: ChildProcess = fork(join(__dirname, 'far-end.ts'), [JSON.stringify(options)], {
    cwd: ROOT,
    execArgv: ['--import', 'tsx'],
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  })
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()))
  const signals = new Subject<unknown>()
  let opened: () => void
  const open = new Promise<void>((resolve, reject) => {
    opened = resolve
    void exited.then(() => reject(new Error('the far end exited before its channel opened')))
  })
  open.catch(() => undefined)
  child.on('message', (message: { signal?: unknown; open?: boolean }) => {
    if (message.signal !== undefined) signals.next(message.signal)
    if (message.open) opened()
  })
  return {
    port: { signals$: signals, send: (signal) => void (child.connected && child.send({ signal })) },
    open,
    kill: async () => {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL')
      await exited
    },
  }
}
