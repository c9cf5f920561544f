import { spawn } from 'node:child_process';
import { accessSync, constants, existsSync } from 'node:fs';
import { homedir } from 'node:os';
import { delimiter, join } from 'node:path';
import { run } from './process.js';

/** kube-apiserver, kube-controller-manager and kubectl of one Kubernetes version. */
export interface KubernetesBinaries {
  readonly kubeApiserver: string;
  readonly kubeControllerManager: string;
  readonly kubectl: string;
}

export interface Binaries {
  /** 1.34, where the suite's shared control plane runs. */
  readonly kubeApiserver: string;
  readonly kubeControllerManager: string;
  readonly kubectl: string;
  readonly etcd: string;
  /** Checks and unit-tests the alert rules. */
  readonly promtool: string;
  /** 1.37: MutatingAdmissionPolicy (GA in 1.36) is tested on a control plane of its own. */
  readonly kubernetes137: KubernetesBinaries;
}

export interface FoundPrerequisites {
  readonly ok: true;
  readonly binaries: Binaries;
  readonly busybox: string;
  readonly jq: string;
  /** curl with HTTP/2, as alpine/k8s ships it: the script writes the Secrets with it. */
  readonly curl: string;
  readonly scriptKubectl: string;
  readonly python: string;
  readonly aws: string;
  /** CRD files (Argo CD, Flux, prometheus-operator) the examples are validated against. */
  readonly crds: readonly string[];
}

export type PrerequisiteCheck = FoundPrerequisites | { readonly ok: false; readonly why: string };

const PREREQS_HINT = 'run scripts/e2e-prereqs.sh';

export function cacheDir(): string {
  return process.env.ECR_K8S_CACHE_DIR ?? join(homedir(), '.cache', 'ecr-k8s-credentials');
}

/** The first executable `name` on PATH, or undefined. */
export function which(name: string): string | undefined {
  for (const dir of (process.env.PATH ?? '').split(delimiter)) {
    const candidate = join(dir, name);
    try {
      accessSync(candidate, constants.X_OK);
      return candidate;
    } catch {
      // not here
    }
  }
  return undefined;
}

/**
 * Finds everything the suite needs. Missing control-plane binaries are built when Go is there
 * (cached afterwards; the first build prints its progress and takes many minutes).
 */
export async function checkPrerequisites(repoRoot: string): Promise<PrerequisiteCheck> {
  const buildScript = join(repoRoot, 'scripts', 'build-control-plane.sh');
  const printed = await run('bash', [buildScript, '--print-paths']);
  const paths = printed.stdout.trim().split('\n');
  const [kubeApiserver, kubeControllerManager, kubectl, etcd, promtool, apiserver137, kcm137, kubectl137] = paths;
  if (
    printed.code !== 0 ||
    !kubeApiserver ||
    !kubeControllerManager ||
    !kubectl ||
    !etcd ||
    !promtool ||
    !apiserver137 ||
    !kcm137 ||
    !kubectl137
  ) {
    return { ok: false, why: `${buildScript} --print-paths failed: ${printed.stderr.trim()}` };
  }
  const binaries: Binaries = {
    kubeApiserver,
    kubeControllerManager,
    kubectl,
    etcd,
    promtool,
    kubernetes137: { kubeApiserver: apiserver137, kubeControllerManager: kcm137, kubectl: kubectl137 },
  };
  if (!paths.every((file) => existsSync(file))) {
    if (which('go') === undefined) {
      return {
        ok: false,
        why: `kube-apiserver/etcd are not built and Go is not installed (install Go >= 1.26, then ${PREREQS_HINT})`,
      };
    }
    const code = await runVisibly(buildScript);
    if (code !== 0) return { ok: false, why: `${buildScript} failed with exit code ${code} (see its output above)` };
  }
  const crdScript = join(repoRoot, 'scripts', 'fetch-crds.sh');
  const crdPaths = await run('bash', [crdScript, '--print-paths']);
  const crds = crdPaths.stdout.trim().split('\n');
  if (crdPaths.code !== 0) return { ok: false, why: `${crdScript} --print-paths failed: ${crdPaths.stderr.trim()}` };
  if (!crds.every((file) => existsSync(file))) {
    const code = await runVisibly(crdScript);
    if (code !== 0) return { ok: false, why: `${crdScript} failed with exit code ${code} (see its output above)` };
  }

  const busybox = which('busybox');
  if (busybox === undefined)
    return { ok: false, why: `busybox is not installed (apt-get install busybox, or ${PREREQS_HINT})` };
  const jq = which('jq');
  if (jq === undefined) return { ok: false, why: `jq is not installed (${PREREQS_HINT})` };
  const curl = which('curl');
  if (curl === undefined) return { ok: false, why: `curl is not installed (apt-get install curl)` };
  if (which('openssl') === undefined) return { ok: false, why: `openssl is not installed (${PREREQS_HINT})` };
  if (which('strace') === undefined) {
    return { ok: false, why: `strace is not installed; the argv audits need it (${PREREQS_HINT})` };
  }
  const venv = join(cacheDir(), 'venv');
  const python = join(venv, 'bin', 'python');
  const aws = join(venv, 'bin', 'aws');
  if (!existsSync(join(venv, '.requirements.sha256')) || !existsSync(python) || !existsSync(aws)) {
    return { ok: false, why: `no moto/aws CLI venv at ${venv} (${PREREQS_HINT})` };
  }
  // The machine's kubectl is the closest to the one alpine/k8s ships; the built one otherwise.
  const scriptKubectl = existsSync('/usr/bin/kubectl') ? '/usr/bin/kubectl' : binaries.kubectl;
  return { ok: true, binaries, busybox, jq, curl, scriptKubectl, python, aws, crds };
}

function runVisibly(script: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const child = spawn('bash', [script], { stdio: ['ignore', 'inherit', 'inherit'] });
    child.on('error', reject);
    child.on('exit', (code) => resolve(code ?? 1));
  });
}
