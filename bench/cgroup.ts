// A cgroup that holds one measured run to the CronJob's own limits: a CPU quota (cfs quota per
// 100 ms period, as the kubelet sets for a CPU limit) and a memory limit, and that reports the
// run's memory peak as the memory cgroup counts it (anonymous memory and page cache charged to
// the run, shared pages counted once). cgroup v1 (cpu and memory hierarchies) or v2 (cpu.max,
// memory.max, memory.peak).
import { existsSync, mkdirSync, readFileSync, rmdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

export interface CgroupLimits {
  /** CPU limit in millicores: 100 is 10 ms of CPU in every 100 ms. */
  readonly cpuMillicores: number;
  readonly memoryBytes: number;
}

export interface LimitCgroup {
  /** The cgroup.procs files a process writes its pid into to join (one per hierarchy). */
  readonly procsFiles: readonly string[];
  /** Highest memory charged to the cgroup since it was made, MiB. */
  peakMemoryMiB(): number;
  /** CFS periods in which the quota ran out, and the time the run waited for that. */
  throttling(): { readonly periods: number; readonly throttledPeriods: number; readonly throttledSeconds: number };
  /** Removes the cgroup (it must be empty: the run has ended). */
  remove(): void;
}

const PERIOD_US = 100_000;
const MIB = 1024 * 1024;

/** "100m" -> 100, "0.5" -> 500, "1" -> 1000; Kubernetes quantity syntax for CPU. */
export function cpuMillicores(quantity: string): number {
  const match = /^(\d+(?:\.\d+)?)(m?)$/.exec(quantity.trim());
  if (match?.[1] === undefined) throw new Error(`cannot read the CPU quantity "${quantity}"`);
  return match[2] === 'm' ? Number(match[1]) : Number(match[1]) * 1000;
}

/** "128Mi" -> bytes; the binary and decimal suffixes Kubernetes accepts for memory. */
export function memoryBytes(quantity: string): number {
  const match = /^(\d+)(Ki|Mi|Gi|K|M|G|k)?$/.exec(quantity.trim());
  if (match?.[1] === undefined) throw new Error(`cannot read the memory quantity "${quantity}"`);
  const factor: Record<string, number> = {
    '': 1,
    Ki: 1024,
    Mi: MIB,
    Gi: 1024 * MIB,
    k: 1000,
    K: 1000,
    M: 1_000_000,
    G: 1_000_000_000,
  };
  return Number(match[1]) * (factor[match[2] ?? ''] ?? 1);
}

interface Mount {
  readonly root: string;
  readonly point: string;
  readonly fsType: string;
  readonly superOptions: readonly string[];
}

function mounts(): Mount[] {
  // mountinfo: id parent major:minor root point options [optional...] - fstype source superoptions
  return readFileSync('/proc/self/mountinfo', 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((line) => {
      const [before, after] = line.split(' - ');
      const fields = (before ?? '').split(' ');
      const [fsType, , superOptions] = (after ?? '').split(' ');
      return {
        root: fields[3] ?? '',
        point: fields[4] ?? '',
        fsType: fsType ?? '',
        superOptions: (superOptions ?? '').split(','),
      };
    });
}

/** Our own cgroup in each hierarchy: controller list ("" for v2) -> path. */
function ownCgroups(): Map<string, string> {
  const own = new Map<string, string>();
  for (const line of readFileSync('/proc/self/cgroup', 'utf8').split('\n').filter(Boolean)) {
    const [, controllers, path] = line.split(':');
    own.set(controllers ?? '', path ?? '/');
  }
  return own;
}

/** The directory of our own cgroup in the v1 hierarchy that has CONTROLLER, if mounted writable. */
function v1Dir(controller: string): string | undefined {
  const mount = mounts().find((m) => m.fsType === 'cgroup' && m.superOptions.includes(controller));
  if (mount === undefined) return undefined;
  const own = [...ownCgroups()].find(([controllers]) => controllers.split(',').includes(controller))?.[1];
  if (own === undefined) return undefined;
  const relative = own.startsWith(mount.root) ? own.slice(mount.root.length) : own;
  return join(mount.point, relative);
}

function v2Dir(): string | undefined {
  const mount = mounts().find((m) => m.fsType === 'cgroup2');
  const own = ownCgroups().get('');
  if (mount === undefined || own === undefined) return undefined;
  const dir = join(mount.point, own);
  const enabled = readOrEmpty(join(dir, 'cgroup.subtree_control')).split(/\s+/);
  return enabled.includes('cpu') && enabled.includes('memory') ? dir : undefined;
}

/**
 * Makes a cgroup named NAME with LIMITS. Throws, saying what is missing, when neither cgroup v1
 * cpu+memory hierarchies nor a v2 cgroup with both controllers can be written here.
 */
export function createLimitCgroup(name: string, limits: CgroupLimits): LimitCgroup {
  const quotaUs = Math.round((limits.cpuMillicores / 1000) * PERIOD_US);
  const cpuParent = v1Dir('cpu');
  const memoryParent = v1Dir('memory');
  if (cpuParent !== undefined && memoryParent !== undefined) {
    const cpu = join(cpuParent, name);
    const memory = join(memoryParent, name);
    try {
      mkdirSync(cpu, { recursive: true });
      mkdirSync(memory, { recursive: true });
      writeFileSync(join(cpu, 'cpu.cfs_period_us'), String(PERIOD_US));
      writeFileSync(join(cpu, 'cpu.cfs_quota_us'), String(quotaUs));
      writeFileSync(join(memory, 'memory.limit_in_bytes'), String(limits.memoryBytes));
    } catch (error) {
      throw new Error(`cannot make cgroup ${name} under ${cpuParent} and ${memoryParent}: ${String(error)}`, {
        cause: error,
      });
    }
    return {
      procsFiles: [join(cpu, 'cgroup.procs'), join(memory, 'cgroup.procs')],
      peakMemoryMiB: () => Number(readOrEmpty(join(memory, 'memory.max_usage_in_bytes'))) / MIB,
      throttling: () => throttling(join(cpu, 'cpu.stat'), 'throttled_time', 1e9),
      remove: () => {
        rmdirSync(cpu);
        rmdirSync(memory);
      },
    };
  }
  const parent = v2Dir();
  if (parent === undefined) {
    throw new Error(
      'the CPU-limited run needs cgroup v1 cpu and memory hierarchies, or a cgroup v2 with the cpu and memory ' +
        'controllers enabled, writable here (run as root); or leave it out: --contenders ours,original,floor,floor-validated',
    );
  }
  const dir = join(parent, name);
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'cpu.max'), `${quotaUs} ${PERIOD_US}`);
  writeFileSync(join(dir, 'memory.max'), String(limits.memoryBytes));
  return {
    procsFiles: [join(dir, 'cgroup.procs')],
    peakMemoryMiB: () => Number(readOrEmpty(join(dir, 'memory.peak'))) / MIB,
    throttling: () => throttling(join(dir, 'cpu.stat'), 'throttled_usec', 1e6),
    remove: () => rmdirSync(dir),
  };
}

function throttling(
  file: string,
  timeKey: string,
  perSecond: number,
): { periods: number; throttledPeriods: number; throttledSeconds: number } {
  const stat = new Map(
    readOrEmpty(file)
      .split('\n')
      .filter(Boolean)
      .map((line) => {
        const [key, value] = line.split(' ');
        return [key ?? '', Number(value)] as const;
      }),
  );
  return {
    periods: stat.get('nr_periods') ?? 0,
    throttledPeriods: stat.get('nr_throttled') ?? 0,
    throttledSeconds: (stat.get(timeKey) ?? 0) / perSecond,
  };
}

function readOrEmpty(path: string): string {
  try {
    return existsSync(path) ? readFileSync(path, 'utf8').trim() : '';
  } catch {
    return '';
  }
}
