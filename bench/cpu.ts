import { readFileSync } from 'node:fs';

// Linux reports CPU time in clock ticks of USER_HZ, which is 100 on every mainstream build.
const TICKS_PER_SECOND = 100;

export interface CpuSnapshot {
  /** Busy time of the whole machine, all cores. */
  readonly machineBusy: number;
  /** CPU time of the control plane (kube-apiserver + etcd) so far. */
  readonly controlPlane: number;
}

function processTicks(pid: number): number {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    // utime and stime are fields 14 and 15 of the whole line, 12 and 13 after "pid (comm) ".
    return Number(fields[11]) + Number(fields[12]);
  } catch {
    return 0;
  }
}

function machineBusyTicks(): number {
  const line = readFileSync('/proc/stat', 'utf8').split('\n')[0] ?? '';
  const [, ...values] = line.trim().split(/\s+/);
  const ticks = values.map(Number);
  const total = ticks.slice(0, 8).reduce((sum, value) => sum + value, 0);
  // user nice system idle iowait irq softirq steal: idle and iowait are not busy.
  return total - (ticks[3] ?? 0) - (ticks[4] ?? 0);
}

export function cpuSnapshot(controlPlanePids: readonly number[]): CpuSnapshot {
  return {
    machineBusy: machineBusyTicks() / TICKS_PER_SECOND,
    controlPlane: controlPlanePids.reduce((sum, pid) => sum + processTicks(pid), 0) / TICKS_PER_SECOND,
  };
}
