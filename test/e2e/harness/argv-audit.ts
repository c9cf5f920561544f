import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** strace, if installed (scripts/e2e-prereqs.sh installs it; the e2e prerequisites require it). */
export const STRACE: string | undefined = ['/usr/bin/strace', '/bin/strace'].find((file) => existsSync(file));

export interface AuditedRun {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
  /**
   * Every distinct `/proc/PID/cmdline` on the machine seen while the command ran, NULs as spaces,
   * prefixed "cmdline: ": what another local user could read.
   */
  readonly procSeen: ReadonlySet<string>;
  /** strace's line for every execve of the command and its children: the program and its argv (no environment). */
  readonly execs: readonly string[];
  /**
   * With `environ`, the complete environment of every execve of the command and its children, one
   * entry each, as strace -v printed it (`"NAME=value", ...`), in the order of `execs`; else empty.
   */
  readonly environs: readonly string[];
}

export interface AuditOptions {
  readonly env: NodeJS.ProcessEnv;
  /** Written to the command's stdin. */
  readonly input?: string;
  /**
   * Also record every child's whole environment (strace -v prints each execve's envp in full), for
   * commands that must not export secrets. @default false
   */
  readonly environ?: boolean;
}

function scanProc(seen: Set<string>): void {
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const raw = readFileSync(`/proc/${entry}/cmdline`);
      if (raw.length > 0) seen.add(`cmdline: ${raw.toString('utf8').replaceAll('\0', ' ')}`);
    } catch {
      // the process ended between readdir and read, or is not ours to read
    }
  }
}

/** The end of the strace string starting at `start` (a `"`), past a `...` that marks truncation. */
function endOfString(line: string, start: number): number {
  let i = start + 1;
  while (i < line.length && line[i] !== '"') i += line[i] === '\\' ? 2 : 1;
  i += 1;
  return line.startsWith('...', i) ? i + 3 : i;
}

/** The end of the strace array of strings starting at `start` (a `[`). */
function endOfArray(line: string, start: number): number {
  let i = start + 1;
  while (i < line.length && line[i] !== ']') {
    if (line[i] === '"') i = endOfString(line, i);
    else i += 1;
  }
  return i + 1;
}

/**
 * Splits strace's `execve("PATH", [ARGV...], [ENV...]) = 0` into the call without its environment
 * and the environment. A line it cannot read stays whole in both, so nothing goes unchecked.
 */
export function splitExecve(line: string): { call: string; environment: string } {
  const open = line.indexOf('execve("');
  if (open < 0) return { call: line, environment: line };
  const afterPath = endOfString(line, open + 'execve('.length);
  if (!line.startsWith(', [', afterPath)) return { call: line, environment: line };
  const afterArgv = endOfArray(line, afterPath + 2);
  if (!line.startsWith(', [', afterArgv)) return { call: line, environment: line };
  const afterEnv = endOfArray(line, afterArgv + 2);
  return {
    call: `${line.slice(0, afterArgv)}${line.slice(afterEnv)}`,
    environment: line.slice(afterArgv + 2, afterEnv),
  };
}

/**
 * Runs a command under two independent watches of every argv: strace records each execve of
 * the command and its children (exhaustive, even for a process that lives a microsecond), and
 * /proc is polled every few milliseconds while it runs. With `environ`, strace -v also records
 * each execve's whole environment (a poll of /proc/PID/environ would miss short-lived processes).
 * Without strace it fails: an audit that quietly sees less proves nothing.
 */
export async function runWithArgvAudit(
  command: string,
  args: readonly string[],
  opts: AuditOptions,
): Promise<AuditedRun> {
  if (STRACE === undefined) throw new Error('strace is not installed: run scripts/e2e-prereqs.sh');
  const traceDir = mkdtempSync(join(tmpdir(), 'argv-audit-'));
  const trace = join(traceDir, 'execve.trace');
  const file = STRACE;
  const argv = [
    ...['-f', '-qq', '--seccomp-bpf', '-e', 'trace=execve', '-e', 'signal=none', '-s', '1048576'],
    ...(opts.environ === true ? ['-v'] : []),
    ...['-o', trace, command, ...args],
  ];
  const seen = new Set<string>();
  const state = { done: false };
  const running = new Promise<{ code: number; stdout: string; stderr: string }>((resolve, reject) => {
    const child = spawn(file, argv, { env: opts.env, stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString('utf8')));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString('utf8')));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code: code ?? 1, stdout, stderr }));
    child.stdin.on('error', () => undefined);
    child.stdin.end(opts.input ?? '');
  }).finally(() => (state.done = true));
  while (!state.done) {
    scanProc(seen);
    await new Promise((resolve) => setTimeout(resolve, 2));
  }
  const result = await running;
  const lines = existsSync(trace)
    ? readFileSync(trace, 'utf8')
        .split('\n')
        .filter((line) => line.includes('execve('))
    : [];
  rmSync(traceDir, { recursive: true, force: true });
  if (opts.environ !== true) return { ...result, procSeen: seen, execs: lines, environs: [] };
  const split = lines.map(splitExecve);
  return {
    ...result,
    procSeen: seen,
    execs: split.map((entry) => entry.call),
    environs: split.map((entry) => entry.environment),
  };
}
