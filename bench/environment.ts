import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { startControlPlane, type ControlPlane } from '../test/e2e/harness/control-plane.js';
import { writeKubeconfig } from '../test/e2e/harness/kubeconfig.js';
import { checkPrerequisites, which } from '../test/e2e/harness/prerequisites.js';
import { run } from '../test/e2e/harness/process.js';
import { createBusyboxDir, createToolsDir } from '../test/e2e/harness/script-bin.js';

/** Programs the benchmark runs, found once. */
export interface Tools {
  readonly busybox: string;
  /** Busybox applet symlinks, first on the scripts' PATH (Alpine's userland). */
  readonly busyboxDir: string;
  /** kubectl, aws and jq for the scripts, second on their PATH. */
  readonly toolsDir: string;
  /**
   * Where the scripts' TMPDIRs go: a tmpfs (/dev/shm) as the pod's memory-backed /tmp emptyDir is,
   * else under the work directory. The caller removes it.
   */
  readonly tmpfsDir: string;
  /** The kubectl the scripts and the floor run. */
  readonly scriptKubectl: string;
  /** kubectl at the API server's version, for the bench's own admin calls. */
  readonly adminKubectl: string;
  readonly aws: string;
  /** Python of the venv with moto. */
  readonly python: string;
  readonly etcd: string;
  readonly kubeApiserver: string;
}

export interface KubectlResult {
  readonly stdout: string;
  readonly stderr: string;
}

/** One control plane, started fresh for one namespace count. */
export interface BenchCluster {
  readonly server: string;
  readonly adminKubeconfig: string;
  readonly pids: ControlPlane['pids'];
  /** kubectl as cluster admin; throws on a non-zero exit. */
  admin(args: readonly string[], input?: string): Promise<KubectlResult>;
  /** A kubeconfig with a fresh TokenRequest token of the ServiceAccount (as a new pod gets). */
  serviceAccountKubeconfig(namespace: string, name: string): Promise<string>;
  stop(): Promise<void>;
}

// alpine/k8s:1.30.7 ships kubectl 1.30; kubectl 1.30 to 1.33 spend tens of milliseconds of CPU
// per object on client-side validation that 1.34 does not, so the version changes the results.
const KUBECTL_CANDIDATES = ['kubectl.1.30', '/usr/lib/google-cloud-sdk/bin/kubectl.1.30'];

/**
 * Finds the e2e harness's prerequisites (building the control plane if needed) and sets up the
 * scripts' PATH directories under `workDir`.
 */
export async function prepareTools(repoRoot: string, workDir: string, kubectl: string | undefined): Promise<Tools> {
  const found = await checkPrerequisites(repoRoot);
  if (!found.ok) throw new Error(`benchmark prerequisites missing: ${found.why}`);
  const scriptKubectl = kubectl ?? findKubectl130() ?? found.scriptKubectl;
  if (!existsSync(scriptKubectl)) throw new Error(`--kubectl ${scriptKubectl}: no such file`);
  const busyboxDir = join(workDir, 'bin', 'busybox');
  const toolsDir = join(workDir, 'bin', 'tools');
  await createBusyboxDir(found.busybox, busyboxDir);
  createToolsDir(toolsDir, { kubectl: scriptKubectl, aws: found.aws, jq: found.jq, curl: found.curl });
  return {
    busybox: found.busybox,
    busyboxDir,
    toolsDir,
    tmpfsDir: mkdtempSync(join(existsSync('/dev/shm') ? '/dev/shm' : workDir, 'ecr-bench-tmp-')),
    scriptKubectl,
    adminKubectl: found.binaries.kubectl,
    aws: found.aws,
    python: found.python,
    etcd: found.binaries.etcd,
    kubeApiserver: found.binaries.kubeApiserver,
  };
}

function findKubectl130(): string | undefined {
  for (const candidate of KUBECTL_CANDIDATES) {
    const path = candidate.includes('/') ? candidate : which(candidate);
    if (path !== undefined && existsSync(path)) return path;
  }
  return undefined;
}

/**
 * The environment a script gets: busybox applets first, a fresh HOME (on disk) and TMPDIR (on
 * tmpfs), as the pod's emptyDirs are, nothing inherited.
 */
export function freshScriptEnv(tools: Tools, workDir: string, extra: Record<string, string>): Record<string, string> {
  return {
    PATH: `${tools.busyboxDir}:${tools.toolsDir}`,
    HOME: mkdtempSync(join(workDir, 'home-')),
    TMPDIR: mkdtempSync(join(tools.tmpfsDir, 'tmp-')),
    ...extra,
  };
}

const ADMIN_TIMEOUT_MS = 15 * 60_000;

export async function startBenchCluster(tools: Tools, workDir: string): Promise<BenchCluster> {
  mkdirSync(workDir, { recursive: true });
  const controlPlane = await startControlPlane({ etcd: tools.etcd, kubeApiserver: tools.kubeApiserver }, workDir);
  const { server, adminKubeconfig, caFile } = controlPlane.info;
  const cacheDir = join(workDir, 'kube-cache');
  const kubeconfigDir = join(workDir, 'kubeconfigs');
  mkdirSync(kubeconfigDir, { recursive: true });
  let kubeconfigs = 0;

  async function admin(args: readonly string[], input?: string): Promise<KubectlResult> {
    const env = { ...process.env, KUBECONFIG: adminKubeconfig, KUBECACHEDIR: cacheDir };
    const result = await run(tools.adminKubectl, args, { input, env, timeoutMs: ADMIN_TIMEOUT_MS });
    if (result.code !== 0) {
      throw new Error(`kubectl ${args.join(' ')} exited ${result.code}\n${result.stderr.slice(-3_000)}`);
    }
    return result;
  }

  return {
    server,
    adminKubeconfig,
    pids: controlPlane.pids,
    admin,
    async serviceAccountKubeconfig(namespace: string, name: string): Promise<string> {
      const { stdout } = await admin(['create', 'token', name, '-n', namespace, '--duration=2h']);
      kubeconfigs += 1;
      const file = join(kubeconfigDir, `${namespace}.${name}.${kubeconfigs}.json`);
      writeKubeconfig(file, { server, caFile, user: { token: stdout.trim() }, namespace });
      return file;
    },
    async stop(): Promise<void> {
      await controlPlane.stop();
      rmSync(workDir, { recursive: true, force: true });
    },
  };
}
