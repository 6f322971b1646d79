/**
 * The two kinds of peer of the demo e2e test: Node peers driven through the
 * public API (@roamhq/wrtc), and Chromium pages driven through the demo page's
 * UI (type into the inputs, click, read the DOM), and a chat between any two.
 */
import { firstValueFrom } from 'rxjs'
import type { Page } from 'playwright-core'
import { createExplorer, type Explorer, type ExplorerSocket } from '../../src'

export interface NodePeer {
  kind: 'node'
  id: string
  explorer: Explorer
  /** Text messages received on sockets dialled to this peer, by remote id. */
  inbox: Map<string, string[]>
  /** Sockets this peer dialled, closed at the end. */
  dialled: ExplorerSocket[]
}

export interface BrowserPeer {
  kind: 'browser'
  id: string
  page: Page
}

export type Peer = NodePeer | BrowserPeer

const decoder = new TextDecoder()

/** The Node peer's answer to a chat message: so the dialler can see a reply arrive. */
export const nodeReply = (node: string, text: string): string => `${node} got: ${text}`

/** A Node peer that joins like the `npm start` demo peers and answers every message it gets. */
export async function startNodePeer(signalUrl: string): Promise<NodePeer> {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const wrtc: unknown = require('@roamhq/wrtc')
  const explorer = createExplorer({ signalUrl, wrtc: wrtc as never })
  const peer: NodePeer = { kind: 'node', id: explorer.id, explorer, inbox: new Map(), dialled: [] }
  explorer.incoming$.subscribe((socket) =>
    socket.data$.subscribe((bytes) => {
      const text = decoder.decode(bytes)
      const box = peer.inbox.get(socket.remoteId) ?? []
      box.push(text)
      peer.inbox.set(socket.remoteId, box)
      socket.send(nodeReply(peer.id, text))
    }),
  )
  await explorer.listen()
  return peer
}

/** Polls until `check` holds; the timeout is only a guard, its message says what was awaited. */
export async function until(check: () => boolean | Promise<boolean>, what: () => string, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what()}`)
    await new Promise((resolve) => setTimeout(resolve, 50))
  }
}

/** Chat panes on a demo page: `out` for sockets it dialled, `in` for sockets dialled to it; the newest first. */
export const panes = (page: Page, dir: 'in' | 'out', remote: string) => page.locator(`.chat[data-dir="${dir}"][data-remote="${remote}"]`)
/** The newest chat pane with this peer. */
export const pane = (page: Page, dir: 'in' | 'out', remote: string) => panes(page, dir, remote).first()

const queues = new WeakMap<Page, Promise<unknown>>()

/**
 * Runs UI actions on a page one at a time. A user has one keyboard: two
 * concurrent `fill`s on one page can type into whichever input has the focus.
 */
export function act<T>(page: Page, actions: () => Promise<T>): Promise<T> {
  const previous = queues.get(page) ?? Promise.resolve()
  const next = previous.then(actions, actions)
  queues.set(page, next.catch(() => undefined))
  return next
}

/** Types a message into a pane and clicks Send. */
export async function say(page: Page, dir: 'in' | 'out', remote: string, text: string): Promise<void> {
  const p = pane(page, dir, remote)
  await act(page, async () => {
    await p.locator('input.text').fill(text)
    await p.locator('button.send').click()
  })
  await p.locator('.msg.mine .body').filter({ hasText: text }).first().waitFor()
}

/** Waits until a pane shows a message from the remote with exactly this text. */
export async function sees(page: Page, dir: 'in' | 'out', remote: string, text: string): Promise<void> {
  await pane(page, dir, remote).locator('.msg.theirs .body').filter({ hasText: text }).first().waitFor({ timeout: 20_000 })
  const bodies = await pane(page, dir, remote).locator('.msg.theirs .body').allTextContents()
  if (!bodies.includes(text)) throw new Error(`${dir} pane for ${remote} shows ${JSON.stringify(bodies)}, not ${JSON.stringify(text)}`)
}

/** Dials `to` through the page's UI: type the id, click Dial, wait for the chat pane. */
export async function dialFromPage(page: Page, to: string): Promise<void> {
  await act(page, async () => {
    await page.locator('#dial-id').fill(to)
    await page.locator('#dial').click()
  })
  await pane(page, 'out', to).waitFor({ timeout: 20_000 })
}

/**
 * `from` dials `to` and they exchange one message each way: `from` says
 * `text`, `to` answers. Browser sides act through the page's UI, Node sides
 * through the API; each side checks it received the other's message.
 */
export async function chat(from: Peer, to: Peer, text: string): Promise<void> {
  const answer = `re: ${text}`
  if (from.kind === 'browser') {
    await dialFromPage(from.page, to.id)
    await say(from.page, 'out', to.id, text)
    if (to.kind === 'browser') {
      await sees(to.page, 'in', from.id, text)
      await say(to.page, 'in', from.id, answer)
      await sees(from.page, 'out', to.id, answer)
    } else {
      await until(() => (to.inbox.get(from.id) ?? []).includes(text), () => `${to.id} (Node) to receive ${JSON.stringify(text)} from ${from.id}`)
      await sees(from.page, 'out', to.id, nodeReply(to.id, text))
    }
    return
  }
  const socket = await firstValueFrom(from.explorer.dial$(to.id))
  from.dialled.push(socket)
  const received: string[] = []
  socket.data$.subscribe({ next: (bytes) => received.push(decoder.decode(bytes)), error: () => undefined })
  socket.send(text)
  const expected = to.kind === 'browser' ? answer : nodeReply(to.id, text)
  if (to.kind === 'browser') {
    await sees(to.page, 'in', from.id, text)
    await say(to.page, 'in', from.id, answer)
  } else {
    await until(() => (to.inbox.get(from.id) ?? []).includes(text), () => `${to.id} (Node) to receive ${JSON.stringify(text)} from ${from.id}`)
  }
  await until(() => received.includes(expected), () => `${from.id} (Node) to receive ${JSON.stringify(expected)} from ${to.id}, got ${JSON.stringify(received)}`)
}
