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
   * Every distinct `/proc/PID/cmdline` (and, if asked, `environ`) on the machine seen while the
   * command ran, NULs as spaces, prefixed "cmdline: " or "environ: ": what another local user
   * could read.
   */
  readonly procSeen: ReadonlySet<string>;
  /** strace's line for every execve of the command and its children, argv included. */
  readonly execs: readonly string[];
}

export interface AuditOptions {
  readonly env: NodeJS.ProcessEnv;
  /** Written to the command's stdin. */
  readonly input?: string;
  /** Also read every process's environ (only for commands that must not export secrets). */
  readonly environ?: boolean;
}

function scanProc(seen: Set<string>, files: readonly string[]): void {
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    for (const file of files) {
      try {
        const raw = readFileSync(`/proc/${entry}/${file}`);
        if (raw.length > 0) seen.add(`${file}: ${raw.toString('utf8').replaceAll('\0', ' ')}`);
      } catch {
        // the process ended between readdir and read, or is not ours to read
      }
    }
  }
}

/**
 * Runs a command under two independent watches of every argv: strace records each execve of
 * the command and its children (exhaustive, even for a process that lives a microsecond), and
 * /proc is polled every few milliseconds while it runs. Without strace it fails: a /proc poll
 * alone can miss a short-lived process, and an audit that quietly sees less proves nothing.
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
    ...['-f', '-qq', '--seccomp-bpf', '-e', 'trace=execve', '-e', 'signal=none', '-s', '65535'],
    ...['-o', trace, command, ...args],
  ];
  const seen = new Set<string>();
  const procFiles = opts.environ === true ? ['cmdline', 'environ'] : ['cmdline'];
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
    scanProc(seen, procFiles);
    await new Promise((resolve) => setTimeout(resolve, 2));
  }
  const result = await running;
  const execs = existsSync(trace)
    ? readFileSync(trace, 'utf8')
        .split('\n')
        .filter((line) => line.includes('execve('))
    : [];
  rmSync(traceDir, { recursive: true, force: true });
  return { ...result, procSeen: seen, execs };
}
