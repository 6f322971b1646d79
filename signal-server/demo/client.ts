/**
 * The demo chat page's browser code. Like the dashboard's (../dashboard/client.ts),
 * these functions are serialized into `app.js` with `Function.prototype.toString()`
 * (see page.ts), so they must stay self-contained: no imports at run time, no
 * module-level values; they may only call each other by name and use browser
 * globals, the library among them (the IIFE bundle's global `WebRTCExplorer`,
 * loaded by the page just before). Type-only imports are fine: they vanish.
 *
 * Every remote string (ids, messages, error messages) reaches the page through
 * `textContent` or an attribute, never as HTML.
 */
import type { Explorer, ExplorerOptions, ExplorerSocket, FingerUpdate, PeerEvent } from '../../src'

export interface DemoConfig {
  /** The signalling server's WebSocket, relative to the page (`./ws`, `../ws`, ...). */
  signalPath: string
}

/** What the page uses of the bundle's global `WebRTCExplorer`. */
export interface DemoLibrary {
  createExplorer(options: ExplorerOptions): Explorer
}

/** The WebSocket URL of a path relative to the page: http → ws, https → wss. */
export function signalUrlOf(path: string, pageHref: string): string {
  const url = new URL(path, pageHref)
  url.protocol = url.protocol === 'https:' ? 'wss:' : 'ws:'
  url.hash = ''
  url.search = ''
  return url.toString()
}

/** Start of finger row `row` of peer `id`: (id + 2^row) mod 2^48, as 12 hex. */
export function fingerStartOf(id: string, row: number): string {
  return ((parseInt(id, 16) + 2 ** row) % 2 ** 48).toString(16).padStart(12, '0')
}

/** One line for an error: its stable code first when it has one (an ExplorerError), then what happened. */
export function describeError(error: unknown, context: string): string {
  const code = typeof error === 'object' && error !== null && typeof (error as { code?: unknown }).code === 'string' ? (error as { code: string }).code : null
  const message =
    typeof error === 'object' && error !== null && typeof (error as { message?: unknown }).message === 'string' ? (error as { message: string }).message : String(error)
  const hints: Record<string, string> = {
    PEER_NOT_FOUND: 'no peer in the ring has this id',
    DIAL_TIMEOUT: 'the peer did not answer in time',
    DIAL_REFUSED: 'the peer does not accept chats',
    NOT_LISTENING: 'this page has not joined the ring yet',
    BAD_ID: 'an id is 12 hex characters (0-9, a-f)',
    JOIN_FAILED: 'could not join the ring',
    SIGNAL_FAILED: 'the signalling server or the peer could not be reached',
    CLOSED: 'this peer has left the ring',
    SOCKET_RESET: 'the connection was reset (the peer left?)',
  }
  const hint = code !== null && hints[code] !== undefined ? ` (${hints[code]})` : ''
  return `${context}: ${code !== null ? code + hint + ' — ' : ''}${message}`
}

/** A new element with a class and text; text always goes in as text, never as HTML. */
export function element(tag: string, className: string, text?: string): HTMLElement {
  const e = document.createElement(tag)
  if (className) e.className = className
  if (text !== undefined) e.textContent = text
  return e
}

/** Starts the demo: joins the ring, keeps the panels live, dials and chats. */
export function startDemo(config: DemoConfig): void {
  const lib = (window as unknown as { WebRTCExplorer?: DemoLibrary }).WebRTCExplorer
  const $ = (id: string): HTMLElement => document.getElementById(id)!
  const status = $('status')
  const errorBox = $('error')
  const dialInput = $('dial-id') as HTMLInputElement
  const dialButton = $('dial') as HTMLButtonElement
  const joinButton = $('join') as HTMLButtonElement

  const setStatus = (state: string, text: string): void => {
    status.dataset.state = state
    status.textContent = text
  }
  const showError = (text: string): void => {
    errorBox.textContent = text
    errorBox.hidden = text === ''
  }
  if (!lib) {
    setStatus('failed', 'the library bundle did not load')
    return
  }

  let explorer: Explorer | null = null
  const fingers = new Map<number, string>()
  const peers = new Set<string>()
  let chats = 0

  /** A button showing an id; clicking it fills the dial box. */
  const idButton = (id: string): HTMLElement => {
    const b = element('button', 'id', id)
    b.setAttribute('type', 'button')
    b.dataset.id = id
    b.title = 'dial this peer'
    return b
  }
  document.addEventListener('click', (event) => {
    const target = (event.target as HTMLElement | null)?.closest('button.id') as HTMLElement | null
    if (!target || !target.dataset.id) return
    dialInput.value = target.dataset.id
    dialInput.focus()
  })

  const renderFingers = (self: string): void => {
    const body = $('fingers')
    body.replaceChildren()
    for (const row of [...fingers.keys()].sort((a, b) => b - a)) {
      const tr = document.createElement('tr')
      tr.dataset.row = String(row)
      tr.append(element('td', 'num', String(row)), element('td', 'mono start', fingerStartOf(self, row)))
      const td = element('td', 'peer')
      td.append(idButton(fingers.get(row)!))
      tr.append(td)
      body.append(tr)
    }
    $('no-fingers').hidden = fingers.size > 0
  }

  const renderPeers = (): void => {
    const list = $('peers')
    list.replaceChildren()
    for (const id of [...peers].sort()) {
      const li = element('li', '')
      li.append(idButton(id))
      list.append(li)
    }
    $('no-peers').hidden = peers.size > 0
  }

  const renderRingState = (): void => {
    if (!explorer) return
    const s = explorer.snapshot()
    for (const [key, value] of [['successor', s.successors[0] ?? null], ['predecessor', s.predecessor]] as const) {
      const cell = $(key)
      if (cell.dataset.id === (value ?? '')) continue
      cell.dataset.id = value ?? ''
      cell.replaceChildren(value === null ? element('span', 'muted', '—') : idButton(value))
    }
  }

  /** One chat pane per socket, for sockets we dialled and sockets dialled to us. */
  const openChat = (socket: ExplorerSocket, direction: 'out' | 'in'): void => {
    const pane = element('section', 'chat')
    pane.dataset.remote = socket.remoteId
    pane.dataset.dir = direction
    pane.dataset.state = 'open'
    pane.id = `chat-${++chats}`
    const head = element('header', '')
    head.append(
      element('span', 'dir', direction === 'out' ? 'you dialled' : 'dialled you'),
      idButton(socket.remoteId),
      element('span', 'chat-status', 'open'),
    )
    const close = element('button', 'close', 'Close') as HTMLButtonElement
    close.setAttribute('type', 'button')
    head.append(close)
    const log = element('ol', 'messages')
    const form = element('form', 'say') as HTMLFormElement
    const input = element('input', 'text') as HTMLInputElement
    input.setAttribute('placeholder', 'message')
    input.setAttribute('aria-label', `message to ${socket.remoteId}`)
    input.setAttribute('autocomplete', 'off')
    const send = element('button', 'send', 'Send') as HTMLButtonElement
    send.setAttribute('type', 'submit')
    form.append(input, send)
    pane.append(head, log, form)
    $('chats').prepend(pane)
    $('no-chats').hidden = true

    const add = (who: 'mine' | 'theirs' | 'note', text: string): void => {
      const li = element('li', `msg ${who}`)
      if (who !== 'note') li.append(element('span', 'who', who === 'mine' ? 'you' : socket.remoteId.slice(0, 6)))
      li.append(element('span', 'body', text))
      log.append(li)
      log.scrollTop = log.scrollHeight
    }
    const ended = (state: string, text: string): void => {
      if (pane.dataset.state !== 'open') return
      pane.dataset.state = state
      pane.querySelector('.chat-status')!.textContent = text
      input.disabled = true
      send.disabled = true
      close.disabled = true
    }
    // A socket is reliable while it lives; when it breaks, what we sent since the last reply may be lost.
    let unconfirmed: HTMLElement[] = []
    const decoder = new TextDecoder()
    socket.data$.subscribe({
      next: (bytes) => {
        unconfirmed = []
        add('theirs', decoder.decode(bytes))
      },
      complete: () => ended('closed', 'closed'),
      error: (error: unknown) => {
        ended('failed', 'connection lost')
        for (const li of unconfirmed) li.classList.add('unconfirmed')
        add('note', describeError(error, 'connection lost'))
      },
    })
    form.addEventListener('submit', (event) => {
      event.preventDefault()
      const text = input.value
      if (text === '') return
      if (socket.send(text)) {
        add('mine', text)
        unconfirmed.push(log.lastElementChild as HTMLElement)
        input.value = ''
      } else {
        add('note', `not sent: the chat is closed — "${text}"`)
      }
    })
    close.addEventListener('click', () => {
      socket.close()
      ended('closed', 'closed')
    })
  }

  /** Joined, but every direct channel gone (the other peers left): say so, not "joined the ring". */
  const showRingStatus = (): void => {
    if (status.dataset.state !== 'joined' && status.dataset.state !== 'alone') return
    if (peers.size > 0) setStatus('joined', 'joined the ring')
    else setStatus('alone', 'alone: no other peer is connected')
  }

  /** The signalling server, polled: when it is gone, no new peer can join (chats over the ring go on). */
  const healthUrl = new URL(config.signalPath.replace(/ws$/, 'health'), location.href).toString()
  const server = $('server')
  const checkServer = (): void => {
    void fetch(healthUrl, { cache: 'no-store' }).then(
      (res) => res.ok,
      () => false,
    ).then((up) => {
      server.dataset.state = up ? 'up' : 'down'
      server.textContent = up ? '' : 'signalling server unreachable: no new peer can join, chats over the ring go on'
    })
  }

  const dial = (): void => {
    const id = dialInput.value.trim().toLowerCase()
    showError('')
    if (!explorer || (status.dataset.state !== 'joined' && status.dataset.state !== 'alone')) {
      showError(describeError({ code: 'NOT_LISTENING', message: 'wait until the page has joined' }, `dial ${id}`))
      return
    }
    let dial$: ReturnType<Explorer['dial$']>
    try {
      dial$ = explorer.dial$(id) // throws BAD_ID at once for a malformed id
    } catch (error) {
      showError(describeError(error, `dial ${JSON.stringify(id)}`))
      return
    }
    dialButton.disabled = true
    dialButton.textContent = 'Dialling…'
    const done = (): void => {
      dialButton.disabled = false
      dialButton.textContent = 'Dial'
    }
    dial$.subscribe({
      next: (socket) => {
        done()
        openChat(socket, 'out')
      },
      error: (error: unknown) => {
        done()
        showError(describeError(error, `dial ${id}`))
      },
    })
  }
  ;($('dial-form') as HTMLFormElement).addEventListener('submit', (event) => {
    event.preventDefault()
    dial()
  })

  const join = (): void => {
    joinButton.hidden = true
    showError('')
    fingers.clear()
    peers.clear()
    let e: Explorer
    try {
      e = lib.createExplorer({ signalUrl: signalUrlOf(config.signalPath, location.href) })
    } catch (error) {
      setStatus('failed', 'not joined')
      showError(describeError(error, 'cannot start'))
      return
    }
    explorer = e
    $('my-id').textContent = e.id
    document.title = `webrtc-explorer · ${e.id}`
    setStatus('joining', 'joining the ring…')
    // Subscribe before listen(): these streams are hot.
    e.fingers$.subscribe((u: FingerUpdate) => {
      if (u.id === null) fingers.delete(u.row)
      else fingers.set(u.row, u.id)
      renderFingers(e.id)
    })
    e.peers$.subscribe((p: PeerEvent) => {
      if (p.type === 'up') peers.add(p.id)
      else peers.delete(p.id)
      renderPeers()
      showRingStatus()
    })
    e.incoming$.subscribe((socket) => openChat(socket, 'in'))
    renderFingers(e.id)
    renderPeers()
    e.listen().then(
      () => {
        setStatus('joined', 'joined the ring')
        showRingStatus()
        renderRingState()
      },
      (error: unknown) => {
        setStatus('failed', 'not joined')
        showError(describeError(error, 'join'))
        joinButton.hidden = false
        explorer = null
        void e.close()
      },
    )
  }
  joinButton.addEventListener('click', join)
  // Successor and predecessor have no events: sample them (`explorer.snapshot()`).
  setInterval(renderRingState, 500)
  checkServer()
  setInterval(checkServer, 3000)
  addEventListener('pagehide', () => void explorer?.close())
  join()
}
