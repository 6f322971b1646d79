import { ExplorerError } from '../../src/errors'
import { checkAdversaryOptions, type AdversaryOptions, type AttackKind } from '../../src/testnet/adversary'

/** Minimal `--flag value` parsing for bench scripts: no dependency, clear errors. */
export function parseArgs(argv: string[], spec: Record<string, 'number' | 'boolean' | 'string'>): Record<string, number | boolean | string | undefined> {
  const out: Record<string, number | boolean | string | undefined> = {}
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]
    if (!arg.startsWith('--')) throw new Error(`unexpected argument ${arg}`)
    const name = arg.slice(2)
    const kind = spec[name]
    if (!kind) throw new Error(`unknown option --${name}; known: ${Object.keys(spec).map((k) => '--' + k).join(' ')}`)
    if (kind === 'boolean') {
      out[name] = true
      continue
    }
    const value = argv[++i]
    if (value === undefined) throw new Error(`--${name} needs a value`)
    if (kind === 'number') {
      const n = Number(value)
      if (!Number.isFinite(n)) throw new Error(`--${name} must be a number, got ${value}`)
      out[name] = n
    } else out[name] = value
  }
  return out
}

/**
 * `--malicious F [--attack self|accomplice|drop]` as the testnet's adversary
 * (undefined without --malicious). Bad values are BAD_OPTIONS: a fraction
 * outside [0, 1), an unknown attack, an attack without --malicious, or
 * attackers in a parallel run (one thread only).
 */
export function adversaryFromArgs(args: Record<string, number | boolean | string | undefined>): AdversaryOptions | undefined {
  const fraction = args.malicious
  const attack = args.attack ?? 'accomplice'
  if (fraction === undefined) {
    if (args.attack !== undefined) throw new ExplorerError('BAD_OPTIONS', '--attack needs --malicious F')
    return undefined
  }
  if ((args.workers as number | undefined) !== undefined && args.workers !== 1) throw new ExplorerError('BAD_OPTIONS', '--malicious runs in one thread: drop --workers')
  const options = { fraction: fraction as number, attack: attack as AttackKind }
  checkAdversaryOptions(options)
  return options
}
