import fs from 'node:fs'
import path from 'node:path'

/**
 * `--cpu-budget C`: each server process gets at most C cores, a CFS quota in
 * a cgroup of its own (v1 `cpu` or v2 `cpu.max`; needs root). On a machine
 * with few cores the generator, Redis and every instance otherwise share the
 * same cores, so adding an instance adds no CPU; with a budget each instance
 * has its own share, as each would have its own machine in a deployment, and
 * the rest is left to the generator and Redis.
 */
export class CpuBudget {
  private readonly groups: string[] = []

  private constructor(
    private readonly root: string,
    private readonly version: 1 | 2,
    private readonly cores: number,
  ) {
    process.once('exit', () => this.release())
  }

  static create(cores: number): CpuBudget {
    if (!(cores > 0)) throw new Error('--cpu-budget: a positive number of cores')
    if (fs.existsSync('/sys/fs/cgroup/cpu/cgroup.procs')) return new CpuBudget('/sys/fs/cgroup/cpu', 1, cores)
    const v2 = '/sys/fs/cgroup'
    if (fs.existsSync(path.join(v2, 'cgroup.controllers')) && fs.readFileSync(path.join(v2, 'cgroup.controllers'), 'utf8').split(/\s+/).includes('cpu')) {
      fs.writeFileSync(path.join(v2, 'cgroup.subtree_control'), '+cpu')
      return new CpuBudget(v2, 2, cores)
    }
    throw new Error('--cpu-budget: no cgroup cpu controller here (cgroup v1 cpu or v2 with cpu enabled, as root)')
  }

  /** Moves the process (all its threads) into a fresh group with the quota. */
  confine(pid: number): void {
    const group = path.join(this.root, `bench-signal-${process.pid}-${pid}`)
    fs.mkdirSync(group)
    this.groups.push(group)
    // A short period, so that a capped process is paused often and briefly rather than for tens of ms at a time.
    const period = 10_000
    const quota = Math.round(this.cores * period)
    if (this.version === 1) {
      fs.writeFileSync(path.join(group, 'cpu.cfs_period_us'), String(period))
      fs.writeFileSync(path.join(group, 'cpu.cfs_quota_us'), String(quota))
    } else fs.writeFileSync(path.join(group, 'cpu.max'), `${quota} ${period}`)
    fs.writeFileSync(path.join(group, 'cgroup.procs'), String(pid))
  }

  /** Removes the groups (each is empty once its process exited). */
  release(): void {
    for (const group of this.groups.splice(0)) {
      try {
        fs.rmdirSync(group)
      } catch {
        // Still has a process: left for the system.
      }
    }
  }
}
