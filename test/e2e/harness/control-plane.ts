import { mkdirSync, readFileSync } from 'node:fs';
import { request } from 'node:https';
import { join } from 'node:path';
import type { ClusterInfo } from './context.js';
import { startDaemon, type Daemon } from './daemon.js';
import { writeKubeconfig } from './kubeconfig.js';
import { createPki, type Pki } from './pki.js';
import { freePort, run, waitFor } from './process.js';

export interface ControlPlaneBinaries {
  readonly etcd: string;
  readonly kubeApiserver: string;
  /**
   * Omitted by the benchmark: controllers would add their own work (a ServiceAccount and a
   * ConfigMap per namespace) to the API server's load being measured.
   */
  readonly controllers?: {
    readonly kubeControllerManager: string;
    readonly kubectl: string;
    /** kube-controller-manager's --controllers. @default CONTROLLERS (1.34's names) */
    readonly enabled?: string;
  };
}

export interface ControlPlane {
  readonly info: ClusterInfo;
  readonly pids: { readonly etcd: number; readonly kubeApiserver: number; readonly kubeControllerManager?: number };
  /** Stops kube-apiserver and starts it again on the same port and etcd, as an upgrade would. */
  restartApiServer(downMs?: number): Promise<void>;
  stop(): Promise<void>;
}

/**
 * Every controller that needs neither nodes nor a cloud: Jobs get Pods (Pending: no kubelet),
 * namespaces finish terminating, `default` ServiceAccounts appear, finished Jobs expire.
 */
const CONTROLLERS = '*,-nodeipam,-nodelifecycle,-route,-cloud-node-lifecycle,-service-lb-controller';

/**
 * The same for kube-controller-manager 1.37, which no longer has the cloud controllers: naming
 * one it does not know is an error that stops it.
 */
export const CONTROLLERS_1_37 = '*,-nodeipam,-nodelifecycle';

const READY_TIMEOUT_MS = 90_000;

/**
 * The ServiceAccount token issuer, set up as a self-hosted web-identity cluster would be: an S3
 * bucket URL where bootstrap-iam.sh --publish-discovery puts the discovery document and JWKS.
 */
export const SERVICE_ACCOUNT_ISSUER = 'https://ecr-k8s-e2e-oidc.s3.eu-west-1.amazonaws.com/cluster-a';

export interface ControlPlaneOptions {
  /** The ServiceAccount token issuer (and, under it, the JWKS URI). @default SERVICE_ACCOUNT_ISSUER */
  readonly serviceAccountIssuer?: string;
}

/** etcd + kube-apiserver + kube-controller-manager on free loopback ports, all state under `workDir`. */
export async function startControlPlane(
  bin: ControlPlaneBinaries,
  workDir: string,
  opts: ControlPlaneOptions = {},
): Promise<ControlPlane> {
  const issuer = opts.serviceAccountIssuer ?? SERVICE_ACCOUNT_ISSUER;
  const pkiDir = join(workDir, 'pki');
  mkdirSync(pkiDir, { recursive: true });
  const pki = await createPki(pkiDir);

  const etcd = await startEtcd(bin.etcd, workDir);
  let apiserver: Daemon | undefined;
  let controllerManager: Daemon | undefined;
  try {
    const port = await freePort();
    const server = `https://127.0.0.1:${port}`;
    apiserver = startDaemon(
      'kube-apiserver',
      bin.kubeApiserver,
      apiserverArgs(pki, port, etcd.clientUrl, workDir, issuer),
      join(workDir, 'kube-apiserver.log'),
    );
    await waitForReadyz(apiserver, server, pki);
    const adminKubeconfig = join(workDir, 'admin.kubeconfig');
    writeKubeconfig(adminKubeconfig, {
      server,
      caFile: pki.caFile,
      user: { certFile: pki.adminCertFile, keyFile: pki.adminKeyFile },
    });
    if (bin.controllers) {
      const controllerManagerKubeconfig = join(workDir, 'controller-manager.kubeconfig');
      writeKubeconfig(controllerManagerKubeconfig, {
        server,
        caFile: pki.caFile,
        user: { certFile: pki.controllerManagerCertFile, keyFile: pki.controllerManagerKeyFile },
      });
      controllerManager = startDaemon(
        'kube-controller-manager',
        bin.controllers.kubeControllerManager,
        controllerManagerArgs(pki, controllerManagerKubeconfig, bin.controllers.enabled ?? CONTROLLERS),
        join(workDir, 'kube-controller-manager.log'),
      );
      await waitForDefaultServiceAccount(controllerManager, bin.controllers.kubectl, adminKubeconfig);
    }
    const started = { apiserver, controllerManager };
    const startApiserver = (): Daemon =>
      startDaemon(
        'kube-apiserver',
        bin.kubeApiserver,
        apiserverArgs(pki, port, etcd.clientUrl, workDir, issuer),
        join(workDir, 'kube-apiserver.log'),
      );
    return {
      info: { server, adminKubeconfig, caFile: pki.caFile, workDir },
      pids: {
        etcd: etcd.daemon.pid,
        kubeApiserver: started.apiserver.pid,
        kubeControllerManager: started.controllerManager?.pid,
      },
      async restartApiServer(downMs = 3_000): Promise<void> {
        await started.apiserver.stop();
        await new Promise((resolve) => setTimeout(resolve, downMs));
        started.apiserver = startApiserver();
        await waitForReadyz(started.apiserver, server, pki);
      },
      async stop(): Promise<void> {
        await started.controllerManager?.stop();
        await started.apiserver.stop();
        await etcd.daemon.stop();
      },
    };
  } catch (err) {
    await controllerManager?.stop(2_000);
    await apiserver?.stop(2_000);
    await etcd.daemon.stop(2_000);
    throw err;
  }
}

function apiserverArgs(pki: Pki, port: number, etcdUrl: string, workDir: string, issuer: string): string[] {
  return [
    `--etcd-servers=${etcdUrl}`,
    '--bind-address=127.0.0.1',
    `--secure-port=${port}`,
    // No controllers run here, and loopback is not a valid Endpoints address: skip the
    // `kubernetes` Service endpoint reconciler rather than need a routable address.
    '--advertise-address=127.0.0.1',
    '--endpoint-reconciler-type=none',
    `--cert-dir=${join(workDir, 'apiserver-certs')}`,
    `--tls-cert-file=${pki.servingCertFile}`,
    `--tls-private-key-file=${pki.servingKeyFile}`,
    `--client-ca-file=${pki.caFile}`,
    '--authorization-mode=RBAC',
    // As in kubeadm/EKS/GKE clusters; with false, validation rejects privileged pods before
    // Pod Security admission gets to judge them.
    '--allow-privileged=true',
    // Both are on by default; named so that a changed default cannot silently weaken the tests.
    '--enable-admission-plugins=PodSecurity,ValidatingAdmissionPolicy',
    `--service-account-issuer=${issuer}`,
    `--service-account-jwks-uri=${issuer}/openid/v1/jwks`,
    `--service-account-key-file=${pki.serviceAccountPublicKeyFile}`,
    `--service-account-signing-key-file=${pki.serviceAccountKeyFile}`,
    '--service-cluster-ip-range=10.0.0.0/24',
    '--profiling=false',
  ];
}

function controllerManagerArgs(pki: Pki, kubeconfig: string, controllers: string): string[] {
  return [
    `--kubeconfig=${kubeconfig}`,
    `--controllers=${controllers}`,
    // Each controller acts with a token of its own ServiceAccount (kube-system), as in kubeadm:
    // RBAC then judges the Job controller's Pod creation as it would on a real cluster.
    '--use-service-account-credentials=true',
    `--service-account-private-key-file=${pki.serviceAccountKeyFile}`,
    `--root-ca-file=${pki.caFile}`,
    '--leader-elect=false',
    // No serving port: nothing here scrapes or probes it.
    '--secure-port=0',
    '--profiling=false',
  ];
}

/** The ServiceAccount controller's first act; proves the controllers got their credentials. */
async function waitForDefaultServiceAccount(daemon: Daemon, kubectl: string, kubeconfig: string): Promise<void> {
  await waitFor(
    async () => {
      if (daemon.exited() !== undefined) throw new Error('exited');
      const got = await run(kubectl, ['--kubeconfig', kubeconfig, 'get', 'serviceaccount', 'default', '-n', 'default']);
      return got.code === 0;
    },
    READY_TIMEOUT_MS,
    () => startupError(daemon, 'ServiceAccount default/default'),
  );
}

async function startEtcd(binary: string, workDir: string): Promise<{ daemon: Daemon; clientUrl: string }> {
  const clientUrl = `http://127.0.0.1:${await freePort()}`;
  const peerUrl = `http://127.0.0.1:${await freePort()}`;
  const daemon = startDaemon(
    'etcd',
    binary,
    [
      '--name=e2e',
      `--data-dir=${join(workDir, 'etcd')}`,
      `--listen-client-urls=${clientUrl}`,
      `--advertise-client-urls=${clientUrl}`,
      `--listen-peer-urls=${peerUrl}`,
      `--initial-advertise-peer-urls=${peerUrl}`,
      `--initial-cluster=e2e=${peerUrl}`,
      // Throw-away data: durability buys nothing and fsync dominates on slow disks.
      '--unsafe-no-fsync',
      '--log-level=warn',
    ],
    join(workDir, 'etcd.log'),
  );
  try {
    await waitFor(
      async () => {
        if (daemon.exited() !== undefined) throw new Error('exited');
        const res = await fetch(`${clientUrl}/health`);
        return res.ok;
      },
      READY_TIMEOUT_MS,
      () => startupError(daemon, `${clientUrl}/health`),
    );
  } catch (err) {
    await daemon.stop(2_000);
    throw err;
  }
  return { daemon, clientUrl };
}

async function waitForReadyz(apiserver: Daemon, server: string, pki: Pki): Promise<void> {
  const ca = readFileSync(pki.caFile);
  const cert = readFileSync(pki.adminCertFile);
  const key = readFileSync(pki.adminKeyFile);
  let lastAnswer = '';
  await waitFor(
    async () => {
      if (apiserver.exited() !== undefined) throw new Error('exited');
      const { status, body } = await httpsGet(`${server}/readyz`, { ca, cert, key });
      lastAnswer = `HTTP ${status}: ${body.slice(-500)}`;
      return status === 200;
    },
    READY_TIMEOUT_MS,
    () => startupError(apiserver, `${server}/readyz`, lastAnswer),
  );
}

function startupError(daemon: Daemon, url: string, lastAnswer = ''): string {
  const state = daemon.exited();
  return [
    state === undefined
      ? `${daemon.name} (pid ${daemon.pid}) not ready at ${url} after ${READY_TIMEOUT_MS / 1000}s`
      : `${daemon.name} exited (${state}) before ${url} was ready`,
    lastAnswer && `last answer: ${lastAnswer}`,
    `--- last lines of ${daemon.logFile} ---`,
    daemon.logTail(),
  ]
    .filter(Boolean)
    .join('\n');
}

function httpsGet(
  url: string,
  tls: { ca: Buffer; cert: Buffer; key: Buffer },
): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request(url, { ...tls, timeout: 5_000 }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') }));
    });
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.on('error', reject);
    req.end();
  });
}
