import { mkdtempSync } from 'node:fs';
import { join } from 'node:path';
import { requireContext } from './available.js';
import { run, type RunResult } from './process.js';

/** Directory of busybox applet symlinks to put first on PATH (Alpine's userland). */
export function busyboxPath(): string {
  return requireContext().tools.busyboxDir;
}

/**
 * A from-scratch environment like the job container's: busybox applets, then only kubectl, aws
 * and jq; a fresh empty HOME and TMPDIR. Nothing is inherited, so no AWS_* variable, kubeconfig
 * or GNU tool of this machine leaks into a script under test. `extra` is applied last.
 */
export function scriptEnv(extra: Record<string, string>): NodeJS.ProcessEnv {
  const { tools, cluster } = requireContext();
  return {
    PATH: `${tools.busyboxDir}:${tools.scriptToolsDir}`,
    HOME: mkdtempSync(join(cluster.workDir, 'home-')),
    TMPDIR: mkdtempSync(join(cluster.workDir, 'tmp-')),
    ...extra,
  };
}

/** Runs `busybox ash scriptPath` (as /bin/sh runs it in alpine/k8s). Rejects on timeout. */
export function runBusyboxScript(
  scriptPath: string,
  env: NodeJS.ProcessEnv,
  opts: { timeoutMs?: number } = {},
): Promise<RunResult> {
  const { tools } = requireContext();
  return run(tools.busybox, ['ash', scriptPath], { env, timeoutMs: opts.timeoutMs ?? 180_000 });
}
