// vitest globalSetup: checks the prerequisites, starts ONE control plane for the whole run and
// hands its coordinates to the test files (see context.ts); stops it by PID at the end.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { TestProject } from 'vitest/node';
import { PROVIDE_KEY } from './context.js';
import { startControlPlane, type ControlPlane } from './control-plane.js';
import { checkPrerequisites } from './prerequisites.js';
import { secondsSince } from './process.js';
import { createBusyboxDir, createToolsDir } from './script-bin.js';

const REPO_ROOT = fileURLToPath(new URL('../../..', import.meta.url));

function log(message: string): void {
  console.log(`[e2e] ${message}`);
}

/** The one line a run prints when the end-to-end tests did not run at all. */
export function skippedLine(why: string): string {
  return (
    `[e2e] !!! END-TO-END TESTS SKIPPED, NOTHING END-TO-END WAS TESTED: ${why}. ` +
    'Install the prerequisites with `bash scripts/e2e-prereqs.sh` (npm run test:e2e runs it first), ' +
    'or set E2E_REQUIRED=1 to make a missing prerequisite fail the run. !!!'
  );
}

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const required = process.env.E2E_REQUIRED === '1';
  const started = performance.now();
  const found = await checkPrerequisites(REPO_ROOT);
  log(`build check: ${secondsSince(started)}`);
  if (!found.ok) {
    if (required) throw new Error(`E2E_REQUIRED=1 and an e2e prerequisite is missing: ${found.why}`);
    // A skipped suite reports "passed" like a tested one; say so loudly, first and last.
    const loud = skippedLine(found.why);
    console.warn(loud);
    project.provide(PROVIDE_KEY, { available: { ok: false, why: found.why }, cluster: null, tools: null });
    return () => {
      console.warn(loud);
      return Promise.resolve();
    };
  }

  const workDir = mkdtempSync(join(tmpdir(), 'ecr-k8s-e2e-'));
  const busyboxDir = join(workDir, 'bin', 'busybox');
  const scriptToolsDir = join(workDir, 'bin', 'tools');
  const keepWorkDir = process.env.E2E_KEEP_WORKDIR === '1';
  const startedControlPlane = performance.now();
  let controlPlane: ControlPlane;
  try {
    await createBusyboxDir(found.busybox, busyboxDir);
    createToolsDir(scriptToolsDir, { kubectl: found.scriptKubectl, aws: found.aws, jq: found.jq, curl: found.curl });
    // E2E_KUBERNETES_BIN_DIR: the kube-apiserver and kube-controller-manager of another version
    // (scripts/build-minimum-control-plane.sh prints the oldest README claims); kubectl stays.
    const otherVersion = process.env.E2E_KUBERNETES_BIN_DIR;
    if (otherVersion) log(`kube-apiserver and kube-controller-manager from ${otherVersion}`);
    controlPlane = await startControlPlane(
      {
        etcd: found.binaries.etcd,
        kubeApiserver: otherVersion ? join(otherVersion, 'kube-apiserver') : found.binaries.kubeApiserver,
        controllers: {
          kubeControllerManager: otherVersion
            ? join(otherVersion, 'kube-controller-manager')
            : found.binaries.kubeControllerManager,
          kubectl: found.binaries.kubectl,
        },
      },
      workDir,
    );
  } catch (err) {
    if (!keepWorkDir) rmSync(workDir, { recursive: true, force: true });
    throw err;
  }
  log(
    `control plane start: ${secondsSince(startedControlPlane)} ` +
      `(kube-apiserver pid ${controlPlane.pids.kubeApiserver} at ${controlPlane.info.server}, ` +
      `kube-controller-manager pid ${controlPlane.pids.kubeControllerManager ?? 'none'}, ` +
      `etcd pid ${controlPlane.pids.etcd}, data in ${workDir})`,
  );
  log(`setup total: ${secondsSince(started)}`);

  project.provide(PROVIDE_KEY, {
    available: { ok: true, why: '' },
    cluster: controlPlane.info,
    tools: {
      kubectl: found.binaries.kubectl,
      scriptKubectl: found.scriptKubectl,
      busybox: found.busybox,
      busyboxDir,
      scriptToolsDir,
      python: found.python,
      promtool: found.binaries.promtool,
      crds: found.crds,
    },
  });

  const stopping = controlPlane;
  return async () => {
    const stopStarted = performance.now();
    await stopping.stop();
    if (keepWorkDir) log(`kept ${workDir} (E2E_KEEP_WORKDIR=1)`);
    else rmSync(workDir, { recursive: true, force: true });
    log(`control plane stop: ${secondsSince(stopStarted)}`);
  };
}
