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
