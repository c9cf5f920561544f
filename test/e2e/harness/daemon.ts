import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, openSync, readFileSync } from 'node:fs';

/** A long-running child (etcd, kube-apiserver) logging to a file, stopped by its PID. */
export interface Daemon {
  readonly name: string;
  readonly pid: number;
  readonly logFile: string;
  /** Exit code/signal once it has exited, otherwise undefined. */
  exited(): string | undefined;
  /** The last lines of its log, for error messages. */
  logTail(lines?: number): string;
  /** SIGTERM, then SIGKILL after `graceMs`. */
  stop(graceMs?: number): Promise<void>;
}

const running = new Set<ChildProcess>();
let exitHookInstalled = false;

export function startDaemon(name: string, binary: string, args: readonly string[], logFile: string): Daemon {
  const fd = openSync(logFile, 'a');
  const child = spawn(binary, args, { stdio: ['ignore', fd, fd] });
  closeSync(fd);
  if (child.pid === undefined) throw new Error(`${name}: could not start ${binary}`);
  const pid = child.pid;
  let exitStatus: string | undefined;
  const exitedPromise = new Promise<void>((resolve) => {
    child.on('exit', (code, signal) => {
      exitStatus = signal ?? `code ${code ?? 'unknown'}`;
      resolve();
    });
  });
  child.on('error', (err) => {
    exitStatus = `spawn error: ${err.message}`;
  });
  killOnExit(child);

  return {
    name,
    pid,
    logFile,
    exited: () => exitStatus,
    logTail(lines = 40): string {
      try {
        return readFileSync(logFile, 'utf8').trimEnd().split('\n').slice(-lines).join('\n');
      } catch {
        return '(no log)';
      }
    },
    async stop(graceMs = 10_000): Promise<void> {
      if (exitStatus !== undefined) return;
      process.kill(pid, 'SIGTERM');
      const timer = setTimeout(() => {
        if (exitStatus === undefined) process.kill(pid, 'SIGKILL');
      }, graceMs);
      await exitedPromise;
      clearTimeout(timer);
    },
  };
}

/** Kills `child` if this process exits first (vitest dying without teardown leaves no servers). */
export function killOnExit(child: ChildProcess): void {
  running.add(child);
  child.on('exit', () => running.delete(child));
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  process.on('exit', () => {
    for (const child of running) {
      if (child.pid !== undefined) {
        try {
          process.kill(child.pid, 'SIGKILL');
        } catch {
          // already gone
        }
      }
    }
  });
}
