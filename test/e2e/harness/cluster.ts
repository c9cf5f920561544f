import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { requireContext } from './available.js';
import { run } from './process.js';
import { writeKubeconfig } from './kubeconfig.js';

export interface KubectlResult {
  stdout: string;
  stderr: string;
  code: number;
}

export interface KubectlOptions {
  /** Written to kubectl's stdin (for `-f -`). */
  input?: string;
  /** @default the admin kubeconfig (client cert in system:masters) */
  kubeconfig?: string;
  /** Base environment; KUBECONFIG is always set from `kubeconfig`. @default process.env */
  env?: NodeJS.ProcessEnv;
  /** Resolve with the non-zero code instead of throwing. @default false */
  allowFail?: boolean;
}

// Function-typed members, not methods: they are closures, safe to destructure
// (`const { kubectl } = cluster()`).
export interface Cluster {
  /** https://127.0.0.1:PORT */
  server: string;
  /** Path of a kubeconfig with cluster-admin rights. */
  adminKubeconfig: string;
  /** The CA file the API server's serving certificate is checked against. */
  caFile: string;
  /** Runs kubectl (the API server's version); throws on a non-zero exit unless allowFail. */
  kubectl: (args: string[], opts?: KubectlOptions) => Promise<KubectlResult>;
  /** Path of a kubeconfig authenticating as the ServiceAccount with a 1h TokenRequest token. */
  /** `via`: reach the API server at another address (e.g. through a forwarder), checked as `tlsServerName`. */
  serviceAccountKubeconfig: (
    namespace: string,
    name: string,
    via?: { server: string; tlsServerName: string },
  ) => Promise<string>;
}

let instance: Cluster | undefined;

/** The run's control plane, started once by globalSetup. */
export function cluster(): Cluster {
  instance ??= createCluster();
  return instance;
}

function createCluster(): Cluster {
  const { cluster: info, tools } = requireContext();
  const kubeconfigDir = join(info.workDir, 'kubeconfigs');
  mkdirSync(kubeconfigDir, { recursive: true });
  // Discovery cache per run: every run has a new port, so ~/.kube/cache would only grow.
  const cacheDir = join(info.workDir, 'kube-cache');

  async function kubectl(args: string[], opts: KubectlOptions = {}): Promise<KubectlResult> {
    const env = {
      ...(opts.env ?? process.env),
      KUBECONFIG: opts.kubeconfig ?? info.adminKubeconfig,
      KUBECACHEDIR: cacheDir,
    };
    const { stdout, stderr, code } = await run(tools.kubectl, args, { input: opts.input, env });
    if (code !== 0 && opts.allowFail !== true) {
      throw new Error(`kubectl ${args.join(' ')} exited ${code}\n${stderr}${stdout}`);
    }
    return { stdout, stderr, code };
  }

  async function serviceAccountKubeconfig(
    namespace: string,
    name: string,
    via?: { server: string; tlsServerName: string },
  ): Promise<string> {
    const { stdout } = await kubectl(['create', 'token', name, '-n', namespace, '--duration=1h']);
    const file = join(kubeconfigDir, `${namespace}.${name}.${randomBytes(4).toString('hex')}.json`);
    writeKubeconfig(file, {
      server: via?.server ?? info.server,
      tlsServerName: via?.tlsServerName,
      caFile: info.caFile,
      user: { token: stdout.trim() },
      namespace,
    });
    return file;
  }

  return {
    server: info.server,
    adminKubeconfig: info.adminKubeconfig,
    caFile: info.caFile,
    kubectl,
    serviceAccountKubeconfig,
  };
}
