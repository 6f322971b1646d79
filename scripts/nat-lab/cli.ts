/**
 * The NAT lab by hand:
 *   tsx scripts/nat-lab/cli.ts up      build it, check every NAT, print the hosts; Ctrl-C tears it down
 *   tsx scripts/nat-lab/cli.ts check   build, check, tear down (exit 1 if a NAT misbehaves)
 *   tsx scripts/nat-lab/cli.ts down    remove labs whose creator is gone (a crashed run)
 *   tsx scripts/nat-lab/cli.ts down --all   remove every lab (any `wxnat-*` namespace)
 * While `up` runs: `ip netns exec <ns> <command>` runs anything inside a host.
 */
import { createNatLab, removeLab, removeStaleLabs, LAB_PREFIX } from './lab'
import { namespaces } from './system'

async function main(command: string | undefined, flags: string[]): Promise<number> {
  switch (command) {
    case 'up':
    case 'check': {
      const lab = await createNatLab()
      for (const check of lab.checks) console.log(`${check.host.padEnd(16)} mapping ${check.seen.mapping}, filtering ${check.seen.filtering}`)
      for (const host of lab.hosts) console.log(`${host.name.padEnd(16)} ${host.ns}  ${host.address} (public ${host.publicAddress})`)
      console.log(`signalling host ${lab.signalNs}, TURN host ${lab.turnNs}`)
      if (command === 'check') {
        await lab.close()
        return 0
      }
      console.log('lab up; Ctrl-C tears it down')
      await new Promise<void>((resolve) => process.once('SIGINT', resolve))
      await lab.close()
      return 0
    }
    case 'down': {
      const removed = flags.includes('--all') ? allLabs() : removeStaleLabs()
      console.log(removed.length === 0 ? 'no lab to remove' : `removed ${removed.join(', ')}`)
      return 0
    }
    default:
      console.error('usage: tsx scripts/nat-lab/cli.ts up | check | down [--all]')
      return 2
  }
}

function allLabs(): string[] {
  const tags = new Set(namespaces().map((ns) => new RegExp(`^${LAB_PREFIX}-\\d+`).exec(ns)?.[0]).filter((t): t is string => t !== undefined))
  for (const tag of tags) removeLab(tag)
  return [...tags]
}

main(process.argv[2], process.argv.slice(3)).then(
  (code) => process.exit(code),
  (error: Error) => {
    console.error(error.message)
    process.exit(1)
  },
)
