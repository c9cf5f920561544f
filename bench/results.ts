// The shape of bench/results.json and the arithmetic behind it.
import type { RunOutcome } from './contenders.js';

/** One timed run. */
export interface RunRecord {
  readonly seconds: number;
  /** API requests the run's ServiceAccount made. */
  readonly requests: number;
  /** Of those, the ones that were not on secrets or namespaces (discovery, OpenAPI). */
  readonly requests_other: number;
  readonly requests_by_verb: Readonly<Record<string, number>>;
  readonly peak_rss_mib: number;
  readonly peak_pss_mib: number;
  readonly peak_processes: number;
  /** The processes at the peak, e.g. "kubectl 52.1, kubectl 48.3, busybox 1.2" (RSS MiB). */
  readonly peak_breakdown: string;
  readonly cpu_s: number;
  /** CPU time kube-apiserver + etcd spent during the run. */
  readonly control_plane_cpu_s: number;
  /** Busy CPU of everything else on the machine during the run (sampler, moto, other load). */
  readonly other_cpu_s: number;
  /** Under the CronJob's limits: the memory cgroup's peak, and the time the CPU quota held it back. */
  readonly cgroup_peak_mib?: number;
  readonly throttled_s?: number;
}

/** One contender at one namespace count: medians over its update runs. */
export interface ContenderResult {
  readonly median_s: number;
  readonly min_s: number | null;
  readonly max_s: number | null;
  readonly requests: number;
  readonly peak_rss_mib: number | null;
  readonly peak_pss_mib?: number | null;
  readonly cpu_s?: number | null;
  readonly control_plane_cpu_s?: number | null;
  /** Under the CronJob's limits: the highest memory cgroup peak of any run. */
  readonly cgroup_peak_mib?: number;
  readonly runs: readonly RunRecord[];
  /** Not measured at this size: a straight line through the measured sizes. */
  readonly extrapolated?: boolean;
  readonly note?: string;
}

export interface SizeResult {
  /** Namespaces the bench created. */
  readonly n: number;
  /** Namespaces every contender wrote: the bench's plus the cluster's own (default, kube-system, ...). */
  readonly namespaces: number;
  readonly ours: ContenderResult;
  /** Ours held to the CronJob's CPU and memory limits, where it was measured. */
  readonly ours_limited?: ContenderResult;
  /** null when the original was left out (--contenders) at every size. */
  readonly original: ContenderResult | null;
  readonly floor: ContenderResult;
  /** One apply with kubectl's default client-side validation, where it was measured. */
  readonly floor_validated?: ContenderResult;
  /** Our script's first run on the fresh cluster, which creates every Secret. */
  readonly ours_create: RunRecord;
  /** Our script's own `event=start` log line: the settings it ran with (batch size, parallelism). */
  readonly ours_settings: string;
  readonly ratios: {
    readonly original_over_ours: number | null;
    readonly ours_over_floor: number;
    /** Client CPU of ours over the floor's: fair however differently the two parallelise. */
    readonly ours_over_floor_cpu?: number | null;
  };
}

export interface TargetCheck {
  readonly target: string;
  readonly value: string;
  readonly met: boolean | null;
}

export interface BenchResults {
  readonly machine: string;
  readonly synth_median_s: number;
  readonly sizes: readonly SizeResult[];
  readonly targets: readonly TargetCheck[];
  readonly versions: Readonly<Record<string, string>>;
  readonly settings: {
    readonly runs: number;
    readonly synth_runs: number;
    /** The commit the bench ran at, with "+dirty" when dist/ or the script had local changes. */
    readonly commit: string;
    readonly command: string;
    readonly script_env: Readonly<Record<string, string>>;
    /** The CronJob's resource limits and deadline, from dist/. */
    readonly cronjob_limits: { readonly cpu?: string; readonly memory?: string; readonly deadline_s?: number };
    readonly duration_s: number;
    readonly generated_at: string;
  };
}

export function runRecord(outcome: RunOutcome): RunRecord {
  const { measurement: m, requests } = outcome;
  return {
    seconds: round(m.seconds, 2),
    requests: requests.total,
    requests_other: requests.other,
    requests_by_verb: requests.byVerb,
    peak_rss_mib: round(m.peakRssMiB, 1),
    peak_pss_mib: round(m.peakPssMiB, 1),
    peak_processes: m.peakProcesses,
    peak_breakdown: m.peakBreakdown.map((p) => `${p.name} ${p.rssMiB}`).join(', '),
    cpu_s: round(m.cpuSeconds, 2),
    control_plane_cpu_s: round(outcome.controlPlaneCpuSeconds, 2),
    other_cpu_s: round(outcome.otherCpuSeconds, 2),
    ...(m.cgroup === undefined
      ? {}
      : { cgroup_peak_mib: round(m.cgroup.peakMemoryMiB, 1), throttled_s: round(m.cgroup.throttledSeconds, 2) }),
  };
}

export function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  if (sorted.length === 0) return Number.NaN;
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[middle]! : (sorted[middle - 1]! + sorted[middle]!) / 2;
}

export function round(value: number, digits: number): number {
  const factor = 10 ** digits;
  return Math.round(value * factor) / factor;
}

/** Medians and extremes of measured runs. Peak memory is the highest of any run: a peak is a peak. */
export function summarize(runs: readonly RunRecord[], note?: string): ContenderResult {
  const seconds = runs.map((r) => r.seconds);
  return {
    median_s: round(median(seconds), 2),
    min_s: Math.min(...seconds),
    max_s: Math.max(...seconds),
    requests: Math.round(median(runs.map((r) => r.requests))),
    peak_rss_mib: Math.max(...runs.map((r) => r.peak_rss_mib)),
    peak_pss_mib: Math.max(...runs.map((r) => r.peak_pss_mib)),
    cpu_s: round(median(runs.map((r) => r.cpu_s)), 2),
    control_plane_cpu_s: round(median(runs.map((r) => r.control_plane_cpu_s)), 2),
    ...(runs.some((r) => r.cgroup_peak_mib !== undefined)
      ? { cgroup_peak_mib: Math.max(...runs.map((r) => r.cgroup_peak_mib ?? 0)) }
      : {}),
    runs,
    ...(note === undefined ? {} : { note }),
  };
}

/**
 * A contender not run at `n`: time and requests on the straight line through its two largest
 * measured sizes (both grow by a fixed cost per namespace), memory left unknown.
 */
export function extrapolate(
  measured: readonly { n: number; result: ContenderResult }[],
  n: number,
): ContenderResult | null {
  const points = [...measured].sort((a, b) => a.n - b.n).slice(-2);
  const [first, last] = points;
  if (first === undefined) return null;
  const line = (pick: (r: ContenderResult) => number): number => {
    if (last === undefined || last.n === first.n) return (pick(first.result) * n) / first.n;
    const slope = (pick(last.result) - pick(first.result)) / (last.n - first.n);
    return pick(last.result) + slope * (n - last.n);
  };
  const from = points.map((p) => p.n).join(' and ');
  return {
    median_s: round(
      line((r) => r.median_s),
      1,
    ),
    min_s: null,
    max_s: null,
    requests: Math.round(line((r) => r.requests)),
    peak_rss_mib: null,
    peak_pss_mib: null,
    cpu_s: null,
    control_plane_cpu_s: null,
    runs: [],
    extrapolated: true,
    note: `not run at this size; extrapolated linearly from the medians at n=${from}`,
  };
}
