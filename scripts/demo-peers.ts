/**
 * The Node peers `npm start` runs beside the server, so a newcomer sees a living
 * ring at once. This is the one place to change what they do.
 *
 * They use the public API of DESIGN.md (`createExplorer` from src/index.ts) with
 * @roamhq/wrtc. While src/index.ts does not export `createExplorer` yet, no peer
 * is started and a line says so.
 */
import { join } from 'node:path'

export interface DemoPeer {
  id: string
  close(): Promise<void>
}

interface ExplorerLike {
  id: string
  listen(): Promise<void>
  close(): Promise<void>
}

type CreateExplorer = (options: { signalUrl: string; wrtc?: unknown }) => ExplorerLike

async function loadCreateExplorer(): Promise<CreateExplorer | null> {
  // A computed specifier: this file must compile (and npm start must run) before src/index.ts exists.
  const entry = join(__dirname, '..', 'src', 'index')
  try {
    const mod = (await import(entry)) as { createExplorer?: CreateExplorer }
    return typeof mod.createExplorer === 'function' ? mod.createExplorer : null
  } catch (err) {
    if ((err as { code?: string }).code === 'MODULE_NOT_FOUND' || (err as { code?: string }).code === 'ERR_MODULE_NOT_FOUND') return null
    throw err
  }
}

export async function startDemoPeers(signalUrl: string, count: number, log: (line: string) => void): Promise<DemoPeer[]> {
  if (count === 0) return []
  const createExplorer = await loadCreateExplorer()
  if (!createExplorer) {
    log('Node demo peers: none (src/index.ts does not export createExplorer yet)')
    return []
  }
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const wrtc: unknown = require('@roamhq/wrtc')
  const peers: DemoPeer[] = []
  for (let i = 0; i < count; i++) {
    const explorer = createExplorer({ signalUrl, wrtc })
    await explorer.listen()
    peers.push({ id: explorer.id, close: () => explorer.close() })
    log(`Node demo peer ${i + 1}/${count} joined as ${explorer.id}`)
  }
  return peers
}
