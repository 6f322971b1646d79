/**
 * Running the lab's system commands (ip, nft, sysctl) and saying clearly why
 * the lab cannot run when it cannot: the lab needs root (CAP_NET_ADMIN), the
 * `ip` and `nft` tools, and coturn's `turnserver`.
 */
import { execFileSync, spawnSync } from 'node:child_process'
import { existsSync } from 'node:fs'

export class NatLabError extends Error {
  override readonly name = 'NatLabError'
}

/** Runs a command; throws a NatLabError with its stderr when it fails. */
export function run(command: string, args: string[], input?: string): string {
  const result = spawnSync(command, args, { input, encoding: 'utf8' })
  if (result.error) throw new NatLabError(`${command} ${args.join(' ')}: ${result.error.message}`)
  if (result.status !== 0) {
    throw new NatLabError(`${command} ${args.join(' ')} failed (exit ${result.status}): ${(result.stderr || result.stdout).trim()}`)
  }
  return result.stdout
}

/** Quotes one argument for bash. */
const quote = (arg: string): string => (/^[\w@%+=:,./-]+$/.test(arg) ? arg : `'${arg.replace(/'/g, `'\\''`)}'`)

/**
 * Runs many commands in one bash (`set -e`: the first failure stops it):
 * a process per command from Node costs ~50 ms on a loaded machine, from
 * bash ~10. `stdin` gives a command its input (a heredoc).
 */
export function runScript(commands: Array<{ argv: string[]; stdin?: string }>): void {
  const lines = commands.map(({ argv, stdin }) => {
    const line = argv.map(quote).join(' ')
    return stdin === undefined ? line : `${line} <<'WXNAT_EOF'\n${stdin}\nWXNAT_EOF`
  })
  run('bash', ['-euo', 'pipefail', '-c', lines.join('\n')])
}

/** `ip netns exec <ns> <command...>` */
export const inNamespace = (ns: string, command: string, args: string[], input?: string): string =>
  run('ip', ['netns', 'exec', ns, command, ...args], input)

const TOOLS: Array<[string, string]> = [
  ['ip', 'iproute2'],
  ['nft', 'nftables'],
  ['turnserver', 'coturn'],
]

function which(tool: string): string | null {
  for (const dir of (process.env.PATH ?? '').split(':').concat(['/usr/sbin', '/sbin', '/usr/bin'])) {
    if (dir !== '' && existsSync(`${dir}/${tool}`)) return `${dir}/${tool}`
  }
  return null
}

/**
 * Throws a NatLabError naming what is missing (root, a tool, network
 * namespace support) and how to get it. Never a silent skip: a lab that
 * cannot be built is a failure of the run that needed it.
 */
export function requireLabSupport(): void {
  if (process.platform !== 'linux') throw new NatLabError(`the NAT lab needs Linux network namespaces; this is ${process.platform}`)
  if (typeof process.getuid === 'function' && process.getuid() !== 0) {
    throw new NatLabError('the NAT lab needs root (it creates network namespaces, veth links and nftables rules): run as root, as CI does')
  }
  const missing = TOOLS.filter(([tool]) => which(tool) === null)
  if (missing.length > 0) {
    const packages = missing.map(([, pkg]) => pkg).join(' ')
    throw new NatLabError(`the NAT lab needs ${missing.map(([t]) => t).join(', ')}: apt-get install -y ${packages} (or bash scripts/ensure-nat-lab.sh)`)
  }
  const probe = `wxnat-${process.pid}-check`
  try {
    run('ip', ['netns', 'add', probe])
  } catch (error) {
    throw new NatLabError(`cannot create a network namespace (${(error as Error).message}); the lab needs CAP_NET_ADMIN and CAP_SYS_ADMIN, e.g. a privileged container`)
  } finally {
    spawnSync('ip', ['netns', 'del', probe])
  }
}

/** Is a process with this pid alive (ours or anyone's)? */
export function alive(pid: number): boolean {
  try {
    process.kill(pid, 0)
    return true
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM'
  }
}

/** Names of every network namespace on the machine. */
export function namespaces(): string[] {
  return execFileSync('ip', ['netns', 'list'], { encoding: 'utf8' })
    .split('\n')
    .map((line) => line.split(' ')[0])
    .filter((name) => name !== '')
}
