/**
 * The NAT lab: network namespaces on one machine standing in for the
 * internet and for home networks behind NATs.
 *
 *   <tag>-inet   the "internet": one bridge, 10.250.0.0/24, 10.250.0.1 the hosts' gateway (see UPSTREAM)
 *   <tag>-sig    10.250.0.2   the signalling server (WebSocket and STUN)
 *   <tag>-turn   10.250.0.3   coturn
 *   <tag>-probe  10.250.0.4 and .5: the NAT behaviour probe (./probe.ts)
 *   <tag>-pub    10.250.0.10  a peer on the internet, no NAT
 *   <tag>-nat-X  10.250.0.2N  the router of home X (nftables NAT, ./nat-rules.ts)
 *   <tag>-home-X 192.168.2N.2 a peer's host in home X, behind that router
 *
 * Homes: fc (full cone), prc (port-restricted cone), sym1 and sym2
 * (symmetric). Every link is a veth pair created straight inside its two
 * namespaces, the bridge lives inside <tag>-inet: nothing is added to the
 * machine's own network, and deleting the namespaces removes everything.
 * IPv6 is off inside the lab. The tag is `wxnat-<pid of the creator>`, so a
 * lab left behind by a crashed run is found and removed by the next one
 * (removeStaleLabs), and two runs never share names.
 */
import type { ChildProcess } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { natRuleset, type NatType } from './nat-rules'
import { EXPECTED, classify, mismatch, type NatBehaviour, type ProbeResult } from './probe'
import { kill, lineFrom, nodeScript, outputOf, spawnIn } from './processes'
import { NatLabError, alive, inNamespace, namespaces, requireLabSupport, run, runScript } from './system'

export const LAB_PREFIX = 'wxnat'
const INET = '10.250.0'
export const SIGNAL_ADDRESS = `${INET}.2`
export const TURN_ADDRESS = `${INET}.3`
const PROBE_ADDRESSES = [`${INET}.4`, `${INET}.5`] as const
const PROBE_PORTS = [3479, 3480] as const
export const TURN_PORT = 3478
/**
 * Every internet host's default gateway: the bridge's own address, in a
 * namespace that forwards nothing, so a packet for an address no lab host
 * has is dropped without a word, as on the internet. Without a default
 * route, sending to such an address fails at once (ENETUNREACH), and coturn
 * closes a relay allocation on that error: relayed channels died a second
 * after they opened, when ICE tried the far end's private host candidate.
 */
const UPSTREAM = `${INET}.1`

/** A machine of the lab that runs peers. */
export interface PeerHost {
  /** 'public', 'full-cone', 'port-restricted', 'symmetric-1', 'symmetric-2'. */
  readonly name: string
  readonly nat: NatType | 'none'
  readonly ns: string
  /** Its own address (inside its home for a NATed host). */
  readonly address: string
  /** Its router's address on the internet (its own for the public host). */
  readonly publicAddress: string
}

export interface NatCheck {
  host: string
  expected: NatBehaviour
  seen: NatBehaviour
  probe: ProbeResult
}

export interface NatLab {
  readonly tag: string
  readonly hosts: readonly PeerHost[]
  /** Namespace of the signalling server's host (SIGNAL_ADDRESS). */
  readonly signalNs: string
  /** Namespace of coturn's host (TURN_ADDRESS). */
  readonly turnNs: string
  /** The NAT checks made when the lab was built. */
  readonly checks: readonly NatCheck[]
  host(name: string): PeerHost
  /** Starts a process in a namespace; the lab kills it on close. */
  spawn(ns: string, argv: string[], stdio?: Parameters<typeof spawnIn>[2]): ChildProcess
  /** Runs coturn with a fresh shared secret (its use-auth-secret scheme); resolves once it listens. */
  startTurn(): Promise<{ urls: string[]; secret: string }>
  /** Probes the NAT of these hosts (default: all) again. */
  checkNats(hosts?: string[]): Promise<NatCheck[]>
  /** Gives a home's router the rules of another NAT behaviour (e.g. to see the check catch a NAT that is not what it is named). */
  setNat(host: string, type: NatType): void
  close(): Promise<void>
}

interface HomePlan {
  name: string
  short: string
  nat: NatType
  octet: number
}

const HOMES: HomePlan[] = [
  { name: 'full-cone', short: 'fc', nat: 'full-cone', octet: 21 },
  { name: 'port-restricted', short: 'prc', nat: 'port-restricted', octet: 22 },
  { name: 'symmetric-1', short: 'sym1', nat: 'symmetric', octet: 23 },
  { name: 'symmetric-2', short: 'sym2', nat: 'symmetric', octet: 24 },
]

/**
 * Builds the lab, checks that every NAT behaves as named (throws a
 * NatLabError saying how it does not, after tearing the lab down), and
 * returns it. Fails with a NatLabError when the machine cannot host it
 * (not root, tools missing, no namespaces): never a silent skip.
 */
export async function createNatLab(): Promise<NatLab> {
  requireLabSupport()
  removeStaleLabs()
  const tag = `${LAB_PREFIX}-${process.pid}`
  if (namespaces().some((ns) => ns.startsWith(`${tag}-`))) throw new NatLabError(`a lab named ${tag} is already up in this process: close it first`)
  const children = new Set<ChildProcess>()
  const ns = (role: string): string => `${tag}-${role}`
  const close = async (): Promise<void> => {
    await Promise.all([...children].map(kill))
    removeLab(tag)
  }
  try {
    const hosts = build(ns)
    const spawn = (where: string, argv: string[], stdio?: Parameters<typeof spawnIn>[2]): ChildProcess => {
      const child = spawnIn(where, argv, stdio)
      children.add(child)
      child.once('exit', () => children.delete(child))
      return child
    }
    const probeServer = spawn(ns('probe'), nodeScript('scripts/nat-lab/probe.ts', 'server', ...probeArgs()))
    await lineFrom(probeServer, /^ready$/, 15_000, 'the NAT probe server')
    const checkNats = (names?: string[]): Promise<NatCheck[]> =>
      Promise.all(hosts.filter((h) => names === undefined || names.includes(h.name)).map((host) => checkNat(host, spawn)))
    const checks = await checkNats()
    const wrong = checks.map((c) => mismatch(c.host, c.seen, c.expected)).filter((m): m is string => m !== null)
    if (wrong.length > 0) throw new NatLabError(`the lab's NATs do not behave as named, so no result would mean anything:\n  ${wrong.join('\n  ')}`)
    return {
      tag,
      hosts,
      checks,
      signalNs: ns('sig'),
      turnNs: ns('turn'),
      host: (name) => {
        const host = hosts.find((h) => h.name === name)
        if (host === undefined) throw new NatLabError(`no host ${name} in the lab (${hosts.map((h) => h.name).join(', ')})`)
        return host
      },
      spawn,
      startTurn: () => startTurn(ns('turn'), spawn),
      checkNats,
      setNat: (name, type) => {
        const home = HOMES.find((h) => h.name === name)
        if (home === undefined) throw new NatLabError(`${name} is not a home behind a NAT`)
        inNamespace(ns(`nat-${home.short}`), 'nft', ['-f', '-'], `flush ruleset\n${natRuleset(type, LAB_PREFIX)}`)
      },
      close,
    }
  } catch (error) {
    await close()
    throw error
  }
}

function build(ns: (role: string) => string): PeerHost[] {
  const hosts: PeerHost[] = []
  const commands: Array<{ argv: string[]; stdin?: string }> = []
  const ip = (...argv: string[]): void => void commands.push({ argv: ['ip', ...argv] })
  const inet = ns('inet')
  const add = (name: string): string => {
    ip('netns', 'add', name)
    // No IPv6 in the lab (set before any link exists), lo up.
    commands.push({ argv: ['ip', 'netns', 'exec', name, 'sysctl', '-qw', 'net.ipv6.conf.all.disable_ipv6=1', 'net.ipv6.conf.default.disable_ipv6=1'] })
    ip('-n', name, 'link', 'set', 'lo', 'up')
    return name
  }
  /** A veth pair, each end created inside its namespace. */
  const link = (a: string, aName: string, b: string, bName: string): void => ip('link', 'add', aName, 'netns', a, 'type', 'veth', 'peer', 'name', bName, 'netns', b)
  const address = (name: string, dev: string, ...cidrs: string[]): void => {
    for (const cidr of cidrs) ip('-n', name, 'addr', 'add', cidr, 'dev', dev)
    ip('-n', name, 'link', 'set', dev, 'up')
  }
  /** A host of the internet: a port on the bridge. */
  const attach = (role: string, ...addresses: string[]): string => {
    const name = add(ns(role))
    const port = `p-${role}`.slice(0, 15)
    link(name, 'wan0', inet, port)
    ip('-n', inet, 'link', 'set', port, 'master', 'br0', 'up')
    address(name, 'wan0', ...addresses.map((a) => `${a}/24`))
    // The rest of the world (e.g. a peer's private address, as ICE tries it) is routed to the bridge and vanishes there.
    ip('-n', name, 'route', 'add', 'default', 'via', UPSTREAM)
    return name
  }

  add(inet)
  ip('-n', inet, 'link', 'add', 'br0', 'type', 'bridge')
  address(inet, 'br0', `${UPSTREAM}/24`)
  attach('sig', SIGNAL_ADDRESS)
  attach('turn', TURN_ADDRESS)
  attach('probe', ...PROBE_ADDRESSES)
  const pub = `${INET}.10`
  hosts.push({ name: 'public', nat: 'none', ns: attach('pub', pub), address: pub, publicAddress: pub })
  for (const home of HOMES) {
    const router = attach(`nat-${home.short}`, `${INET}.${home.octet}`)
    const lan = `192.168.${home.octet}`
    const host = add(ns(`home-${home.short}`))
    link(router, 'lan0', host, 'eth0')
    address(router, 'lan0', `${lan}.1/24`)
    address(host, 'eth0', `${lan}.2/24`)
    ip('-n', host, 'route', 'add', 'default', 'via', `${lan}.1`)
    commands.push({ argv: ['ip', 'netns', 'exec', router, 'sysctl', '-qw', 'net.ipv4.ip_forward=1'] })
    commands.push({ argv: ['ip', 'netns', 'exec', router, 'nft', '-f', '-'], stdin: natRuleset(home.nat, LAB_PREFIX) })
    hosts.push({ name: home.name, nat: home.nat, ns: host, address: `${lan}.2`, publicAddress: `${INET}.${home.octet}` })
  }
  runScript(commands)
  return hosts
}

const probeArgs = (): string[] => [...PROBE_ADDRESSES, ...PROBE_PORTS.map(String)]

async function checkNat(host: PeerHost, spawn: NatLab['spawn']): Promise<NatCheck> {
  const client = spawn(host.ns, nodeScript('scripts/nat-lab/probe.ts', 'client', ...probeArgs(), host.address))
  const probe = JSON.parse(await outputOf(client, `the NAT probe from ${host.name}`)) as ProbeResult
  return { host: host.name, expected: EXPECTED[host.nat], seen: classify(probe), probe }
}

async function startTurn(ns: string, spawn: NatLab['spawn']): Promise<{ urls: string[]; secret: string }> {
  const secret = randomBytes(18).toString('base64url')
  const turn = spawn(ns, [
    'turnserver', '-n', '--no-cli', '--no-tls', '--no-dtls', '--fingerprint', '--simple-log', '--log-file=stdout',
    `--listening-ip=${TURN_ADDRESS}`, `--relay-ip=${TURN_ADDRESS}`, `--listening-port=${TURN_PORT}`,
    '--min-port=49152', '--max-port=65535', '--realm=wxnat.lab', '--use-auth-secret', `--static-auth-secret=${secret}`,
    `--pidfile=/tmp/${ns}-turnserver.pid`,
  ])
  await lineFrom(turn, /Total General servers|UDP listener opened on|relay .* initialized/i, 15_000, 'coturn')
  await waitForUdpListener(ns, TURN_PORT)
  return { urls: [`turn:${TURN_ADDRESS}:${TURN_PORT}?transport=udp`], secret }
}

async function waitForUdpListener(ns: string, port: number): Promise<void> {
  for (let i = 0; i < 100; i++) {
    if (inNamespace(ns, 'ss', ['-Hlun', `sport = :${port}`]).trim() !== '') return
    await new Promise((r) => setTimeout(r, 50))
  }
  throw new NatLabError(`nothing listens on UDP port ${port} in ${ns}`)
}

/** Kills what runs inside the lab's namespaces (by pid: only the lab's own processes live there) and deletes them. Idempotent. */
export function removeLab(tag: string): void {
  const names = namespaces().filter((n) => n.startsWith(`${tag}-`))
  // `|| true`: a process or namespace gone meanwhile stops nothing.
  const script = names.map((n) => `ip netns pids ${n} | xargs -r kill -9 2>/dev/null || true; ip netns del ${n} 2>/dev/null || true`)
  if (script.length > 0) run('bash', ['-c', script.join('\n')])
}

/** Labs whose creating process is gone (a crashed run): removed. Returns their tags. */
export function removeStaleLabs(): string[] {
  const tags = new Set<string>()
  for (const name of namespaces()) {
    const match = new RegExp(`^(${LAB_PREFIX}-(\\d+))-`).exec(name)
    if (match && Number(match[2]) !== process.pid && !alive(Number(match[2]))) tags.add(match[1])
  }
  for (const tag of tags) removeLab(tag)
  return [...tags]
}
