import { createHash } from 'node:crypto'
import { describeError, element, fingerStartOf, signalUrlOf, startDemo, type DemoConfig } from './client'

export interface DemoPage {
  html: string
  /** The page's Content-Security-Policy: its own scripts (same origin), its one inline style, WebSockets to its own origin. */
  csp: string
  /** The demo UI script (`app.js`): the functions of client.ts and the call that starts them. */
  app: string
}

const STYLE = `
:root { --accent: #2563eb; --ok: #15803d; --bad: #dc2626; --ink: #0f172a; --muted: #64748b; --line: #e2e8f0; }
* { box-sizing: border-box; }
body { margin: 0; font: 15px/1.4 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; color: var(--ink); background: #f8fafc; }
body > header { display: flex; align-items: baseline; gap: 16px; padding: 14px 24px; background: #fff; border-bottom: 1px solid var(--line); }
body > header h1 { margin: 0; font-size: 20px; font-weight: 650; }
.sub, .muted { color: var(--muted); }
#status { margin-left: auto; font-size: 14px; color: var(--muted); }
#status::before { content: "●"; margin-right: 6px; }
#status[data-state="joined"]::before { color: var(--ok); }
#status[data-state="joining"]::before { color: #f59e0b; }
#status[data-state="failed"] { color: var(--bad); }
main { display: flex; gap: 20px; padding: 16px 24px; align-items: flex-start; }
.side { flex: 0 0 400px; display: flex; flex-direction: column; gap: 14px; }
.talk { flex: 1 1 auto; min-width: 0; display: flex; flex-direction: column; gap: 14px; }
.card { background: #fff; border: 1px solid var(--line); border-radius: 10px; padding: 12px 14px; }
.card h2 { margin: 0 0 8px; font-size: 13px; text-transform: uppercase; letter-spacing: .06em; color: var(--muted); font-weight: 600; }
.kv { display: grid; grid-template-columns: auto 1fr; gap: 4px 14px; align-items: center; }
.mono, button.id, #my-id { font-family: ui-monospace, "DejaVu Sans Mono", Menlo, monospace; }
#my-id { font-size: 18px; font-weight: 650; }
button.id { border: 0; background: #eff6ff; color: var(--accent); border-radius: 4px; padding: 0 5px; cursor: pointer; font-size: 14px; }
button.id:hover { background: #dbeafe; }
table { width: 100%; border-collapse: collapse; font-size: 14px; font-variant-numeric: tabular-nums; }
th { text-align: left; color: var(--muted); font-weight: 600; border-bottom: 1px solid var(--line); padding: 2px 4px; }
td { padding: 2px 4px; white-space: nowrap; }
td.num { text-align: right; width: 3em; }
#peers { list-style: none; margin: 0; padding: 0; display: flex; flex-wrap: wrap; gap: 6px; }
#dial-form, .say { display: flex; gap: 8px; }
input { flex: 1 1 auto; min-width: 0; font: inherit; padding: 6px 8px; border: 1px solid #cbd5e1; border-radius: 6px; }
#dial-id { font-family: ui-monospace, "DejaVu Sans Mono", Menlo, monospace; }
button { font: inherit; }
#dial, .send, #join { border: 0; border-radius: 6px; padding: 6px 16px; background: var(--accent); color: #fff; cursor: pointer; }
button:disabled { opacity: .5; cursor: default; }
#error { color: var(--bad); margin-top: 8px; }
#chats { display: grid; grid-template-columns: repeat(auto-fit, minmax(320px, 1fr)); gap: 14px; }
.chat { background: #fff; border: 1px solid var(--line); border-radius: 10px; padding: 10px 12px; display: flex; flex-direction: column; gap: 8px; }
.chat header { display: flex; align-items: baseline; gap: 8px; font-size: 14px; }
.chat .dir { color: var(--muted); }
.chat .chat-status { margin-left: auto; color: var(--ok); font-size: 13px; }
.chat[data-state="closed"] .chat-status, .chat[data-state="failed"] .chat-status { color: var(--bad); }
.chat .close { border: 1px solid var(--line); background: #fff; border-radius: 6px; font-size: 13px; cursor: pointer; }
/* The newest chat gets the room the viewport has left; older ones stay readable. */
.messages { list-style: none; margin: 0; padding: 0; height: clamp(160px, calc(100vh - 300px), 900px); overflow-y: auto; font-size: 14px; border-top: 1px solid var(--line); }
#chats:has(.chat + .chat) .messages { height: clamp(160px, calc(50vh - 160px), 600px); }
.msg { padding: 2px 0; overflow-wrap: anywhere; }
.msg .who { font-family: ui-monospace, "DejaVu Sans Mono", Menlo, monospace; color: var(--muted); margin-right: 8px; }
.msg.mine .who { color: var(--accent); }
.msg.note { color: var(--bad); }
.msg.unconfirmed .body::after { content: " · may not have arrived"; color: var(--bad); font-size: 12px; }
#server { font-size: 14px; color: var(--bad); }
#server[data-state="up"], #server[data-state="unknown"] { display: none; }
#status[data-state="alone"]::before { color: #f59e0b; }
/* Phone width: one column, the dial box and chats first, this peer's tables after. */
@media (max-width: 760px) {
  body > header { flex-wrap: wrap; gap: 2px 12px; padding: 10px 14px; }
  body > header .sub { display: none; }
  #status { margin-left: 0; flex-basis: 100%; order: 3; }
  #server { flex-basis: 100%; order: 4; }
  main { flex-direction: column; align-items: stretch; gap: 12px; padding: 12px; }
  .side { flex: none; }
  .talk { order: -1; }
  #chats { grid-template-columns: 1fr; }
  .messages, #chats:has(.chat + .chat) .messages { height: clamp(160px, calc(100vh - 280px), 700px); }
  td { white-space: normal; }
}
`

function body(): string {
  return `
<header><h1>webrtc-explorer</h1><span class="sub">demo: join the ring, dial any id, chat</span><span id="status" data-state="loading">loading…</span><span id="server" data-state="unknown" role="status"></span><button id="join" type="button" hidden>Join again</button></header>
<main>
  <div class="side">
    <section class="card"><h2>This peer</h2><div class="kv">
      <span>id</span><span id="my-id">—</span>
      <span>successor</span><span id="successor"><span class="muted">—</span></span>
      <span>predecessor</span><span id="predecessor"><span class="muted">—</span></span>
    </div></section>
    <section class="card"><h2>Finger table</h2>
      <table><thead><tr><th>row</th><th>start (id + 2<sup>row</sup>)</th><th>peer</th></tr></thead><tbody id="fingers"></tbody></table>
      <div id="no-fingers" class="muted">no finger rows yet</div>
    </section>
    <section class="card"><h2>Direct channels</h2><ul id="peers"></ul><div id="no-peers" class="muted">none yet</div></section>
  </div>
  <div class="talk">
    <section class="card"><h2>Dial a peer</h2>
      <form id="dial-form"><input id="dial-id" placeholder="peer id (12 hex; click any id)" maxlength="12" spellcheck="false" autocomplete="off" aria-label="peer id to dial"><button id="dial" type="submit">Dial</button></form>
      <div id="error" role="alert" hidden></div>
    </section>
    <div id="no-chats" class="muted">No chats yet. Dial a peer, or wait for one to dial you.</div>
    <div id="chats"></div>
  </div>
</main>`
}

/**
 * The demo chat page. `scriptPath` is where the page finds its scripts,
 * relative to itself (`demo/` for a page at `/demo`): `webrtc-explorer.min.js`
 * (the library) and `app.js` (the UI).
 */
export function demoPage(config: DemoConfig, scriptPath: string): DemoPage {
  const app = [
    '"use strict";',
    // tsx/esbuild (keepNames) may wrap functions in __name(); make it a no-op in the page.
    'var __name = function (f) { return f };',
    signalUrlOf.toString(),
    fingerStartOf.toString(),
    describeError.toString(),
    element.toString(),
    startDemo.toString(),
    `startDemo(${JSON.stringify(config)});`,
  ].join('\n')
  const hash = (s: string) => createHash('sha256').update(s, 'utf8').digest('base64')
  const csp = [
    "default-src 'none'",
    "script-src 'self'",
    `style-src 'sha256-${hash(STYLE)}'`,
    // The signalling WebSocket goes to the page's own origin ('self' covers ws:/wss: there).
    "connect-src 'self'",
    "img-src 'self' data:",
    "base-uri 'none'",
    "form-action 'none'",
    "frame-ancestors 'none'",
  ].join('; ')
  const attr = (s: string) => s.replace(/&/g, '&amp;').replace(/"/g, '&quot;').replace(/</g, '&lt;')
  const html = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>webrtc-explorer · demo chat</title>
<link rel="icon" href="data:image/svg+xml,%3Csvg xmlns=%27http://www.w3.org/2000/svg%27 viewBox=%270 0 16 16%27%3E%3Ccircle cx=%278%27 cy=%278%27 r=%276%27 fill=%27none%27 stroke=%27%232563eb%27 stroke-width=%272.5%27/%3E%3C/svg%3E">
<style>${STYLE}</style>
</head>
<body>${body()}
<script src="${attr(scriptPath)}webrtc-explorer.min.js"></script>
<script src="${attr(scriptPath)}app.js"></script>
</body>
</html>
`
  return { html, csp, app }
}
