import { spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { killOnExit } from '../test/e2e/harness/daemon.js';
import type { LimitCgroup } from './cgroup.js';

/** What one measured run cost. */
export interface Measurement {
  /** Wall time from spawn to exit. */
  readonly seconds: number;
  readonly exitCode: number;
  readonly stdout: string;
  readonly stderr: string;
  /** Highest sum of VmRSS over the process tree seen by one sample, MiB. */
  readonly peakRssMiB: number;
  /** Highest sum of Pss (shared pages split between their users) in one sample, MiB. */
  readonly peakPssMiB: number;
  /** Most processes alive at once. */
  readonly peakProcesses: number;
  /** The processes of the sample with the highest RSS sum: name and RSS in MiB, largest first. */
  readonly peakBreakdown: readonly { readonly name: string; readonly rssMiB: number }[];
  /** User + system CPU time of the whole tree (getrusage of the waited-for children). */
  readonly cpuSeconds: number;
  /** Under a cgroup: its memory peak (what a memory limit counts), MiB, and the CPU quota's waits. */
  readonly cgroup?: {
    readonly peakMemoryMiB: number;
    readonly throttledPeriods: number;
    readonly periods: number;
    readonly throttledSeconds: number;
  };
}

export interface MeasureOptions {
  readonly env: NodeJS.ProcessEnv;
  /** Written to the command's stdin. */
  readonly input?: string;
  /** SIGKILL the whole tree and reject after this long. */
  readonly timeoutMs: number;
  /** @default 50 */
  readonly sampleIntervalMs?: number;
  /** Run the command inside this cgroup (it joins before exec, so every descendant is in it). */
  readonly cgroup?: LimitCgroup;
}

/** sh -c: joins each cgroup.procs file given before `--`, then execs the rest in its place. */
const JOIN_CGROUP = 'while [ "$1" != -- ]; do echo $$ >"$1"; shift; done; shift; exec "$@"';

const KIB_PER_MIB = 1024;

/**
 * Runs `command args` in a session of its own under `busybox time` and samples the memory of
 * every process in that session every ~50 ms.
 *
 * The session (setsid via `detached`) is how the tree is found: busybox ash runs no job control,
 * so every descendant keeps the session's process group, even one orphaned when its parent
 * exits first, which a walk of parent links would lose. `busybox time` is there for its
 * getrusage(RUSAGE_CHILDREN): exact CPU time of every waited-for descendant, however short-lived.
 * It is left out of the memory sums (about 1 MiB that the job container would not have).
 */
export function measure(
  busybox: string,
  command: string,
  args: readonly string[],
  opts: MeasureOptions,
): Promise<Measurement> {
  const timeDir = mkdtempSync(join(tmpdir(), 'ecr-bench-time-'));
  const timeFile = join(timeDir, 'rusage');
  const started = performance.now();
  const timed = [busybox, 'time', '-o', timeFile, '-f', '%U %S', command, ...args];
  const [file, ...argv] =
    opts.cgroup === undefined ? timed : ['/bin/sh', '-c', JOIN_CGROUP, 'sh', ...opts.cgroup.procsFiles, '--', ...timed];
  const child = spawn(file ?? busybox, argv, {
    env: opts.env,
    detached: true,
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  killOnExit(child);
  const leader = child.pid;
  if (leader === undefined) throw new Error(`could not start ${command}`);

  let peakRssKiB = 0;
  let peakPssKiB = 0;
  let peakProcesses = 0;
  let peakBreakdown: { name: string; rssMiB: number }[] = [];
  const sample = (): void => {
    const members = sessionMembers(leader).filter((member) => member.pid !== leader);
    let rss = 0;
    let pss = 0;
    const breakdown: { name: string; rssMiB: number }[] = [];
    for (const { pid, name } of members) {
      const processRss = statusKiB(pid, 'VmRSS');
      rss += processRss;
      pss += smapsRollupKiB(pid, 'Pss');
      breakdown.push({ name, rssMiB: Math.round((processRss / KIB_PER_MIB) * 10) / 10 });
    }
    if (rss > peakRssKiB) {
      peakRssKiB = rss;
      peakBreakdown = breakdown.sort((a, b) => b.rssMiB - a.rssMiB);
    }
    peakPssKiB = Math.max(peakPssKiB, pss);
    peakProcesses = Math.max(peakProcesses, members.length);
  };
  const sampler = setInterval(sample, opts.sampleIntervalMs ?? 50);

  return new Promise((resolve, reject) => {
    const stdout: Buffer[] = [];
    const stderr: Buffer[] = [];
    let timedOut = false;
    const killTree = (): void => {
      try {
        process.kill(-leader, 'SIGKILL');
      } catch {
        // already gone
      }
    };
    const timer = setTimeout(() => {
      timedOut = true;
      killTree();
    }, opts.timeoutMs);
    child.stdout.on('data', (chunk: Buffer) => stdout.push(chunk));
    child.stderr.on('data', (chunk: Buffer) => stderr.push(chunk));
    child.stdin.on('error', () => undefined);
    child.stdin.end(opts.input ?? '');
    child.on('error', (err) => {
      clearInterval(sampler);
      clearTimeout(timer);
      reject(err);
    });
    child.on('close', (code, signal) => {
      const seconds = (performance.now() - started) / 1000;
      clearInterval(sampler);
      clearTimeout(timer);
      // A background child the command did not wait for would outlive it unmeasured.
      killTree();
      const cpuSeconds = readCpuSeconds(timeFile);
      const cgroup =
        opts.cgroup === undefined
          ? undefined
          : { peakMemoryMiB: opts.cgroup.peakMemoryMiB(), ...opts.cgroup.throttling() };
      rmSync(timeDir, { recursive: true, force: true });
      const out = Buffer.concat(stdout).toString('utf8');
      const err = Buffer.concat(stderr).toString('utf8');
      if (timedOut) {
        reject(new Error(`${command} ${args.join(' ')} timed out after ${opts.timeoutMs} ms\n${err.slice(-2_000)}`));
        return;
      }
      resolve({
        seconds,
        exitCode: code ?? (signal === null ? 1 : 128),
        stdout: out,
        stderr: err,
        peakRssMiB: peakRssKiB / KIB_PER_MIB,
        peakPssMiB: peakPssKiB / KIB_PER_MIB,
        peakProcesses,
        peakBreakdown,
        cpuSeconds,
        ...(cgroup === undefined ? {} : { cgroup }),
      });
    });
  });
}

/** Processes whose session id is `sid` (the fourth field after the command name in /proc/PID/stat). */
export function sessionMembers(sid: number): { pid: number; name: string }[] {
  const members: { pid: number; name: string }[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    const stat = readOrEmpty(`/proc/${entry}/stat`);
    // The command name may hold spaces and parentheses; the fields after its last ')' do not.
    const close = stat.lastIndexOf(')');
    const fields = stat.slice(close + 2).split(' ');
    // state ppid pgrp session ...
    if (Number(fields[3]) === sid) members.push({ pid: Number(entry), name: stat.slice(stat.indexOf('(') + 1, close) });
  }
  return members;
}

export function statusKiB(pid: number, key: string): number {
  const match = new RegExp(`^${key}:\\s+(\\d+) kB$`, 'm').exec(readOrEmpty(`/proc/${pid}/status`));
  return match?.[1] === undefined ? 0 : Number(match[1]);
}

export function smapsRollupKiB(pid: number, key: string): number {
  const match = new RegExp(`^${key}:\\s+(\\d+) kB$`, 'm').exec(readOrEmpty(`/proc/${pid}/smaps_rollup`));
  return match?.[1] === undefined ? 0 : Number(match[1]);
}

/** A process may exit between listing /proc and reading its files. */
function readOrEmpty(path: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return '';
  }
}

function readCpuSeconds(file: string): number {
  const [user, system] = readOrEmpty(file).trim().split(/\s+/).slice(-2).map(Number);
  return user === undefined || system === undefined || Number.isNaN(user + system) ? Number.NaN : user + system;
}
