import { spawn } from 'node:child_process';
import { PART_OF } from '../constructs/labels.js';
import { RefreshCronJob } from '../constructs/refresh-cron-job.js';
import type {
  ClusterState,
  ConfigMap,
  CronJob,
  Deployment,
  Event,
  Job,
  Namespace,
  Pod,
  Secret,
  ServiceAccount,
} from './kube-objects.js';
import { runSettings } from './refresh-settings.js';

/*
 * The cluster is read through kubectl's JSON, not @kubernetes/client-node: kubectl is already on
 * every machine that applies the bundle (and is what runs this as a kubectl plugin), and it
 * authenticates exactly as the user's kubeconfig says (exec plugins, OIDC, proxies, contexts)
 * with no dependency of ours to keep in step with it. Load stays bounded: one LIST per kind
 * (kubectl pages them in chunks of 500), never a GET per namespace.
 */

/** The check itself failed (exit 2): the API refused a list, kubectl is missing, the bundle is not there. */
export class StatusCheckError extends Error {}

/** Where kubectl runs: the environment carries KUBECONFIG; the path defaults to `kubectl` on PATH. */
export interface KubectlRunner {
  readonly kubectl?: string;
  readonly env?: NodeJS.ProcessEnv;
}

const PART_OF_SELECTOR = Object.entries(PART_OF)
  .map(([key, value]) => `${key}=${value}`)
  .join(',');

function runKubectl(args: readonly string[], runner: KubectlRunner): Promise<string> {
  const command = runner.kubectl ?? 'kubectl';
  return new Promise((resolve, reject) => {
    // Lists of a large cluster run to hundreds of MB: collect chunks, no maxBuffer to trip.
    const child = spawn(command, args, { env: runner.env ?? process.env, stdio: ['ignore', 'pipe', 'pipe'] });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout.on('data', (chunk: Buffer) => out.push(chunk));
    child.stderr.on('data', (chunk: Buffer) => err.push(chunk));
    child.on('error', (error: NodeJS.ErrnoException) => {
      reject(
        new StatusCheckError(
          error.code === 'ENOENT'
            ? `${command} not found on PATH: status reads the cluster with kubectl; install it or put it on PATH`
            : `${command}: ${error.message}`,
        ),
      );
    });
    child.on('close', (code) => {
      if (code === 0) {
        resolve(Buffer.concat(out).toString('utf8'));
        return;
      }
      // kubectl's last line is the API server's answer, e.g. `Error from server (Forbidden): ...`.
      const message = Buffer.concat(err).toString('utf8').trim().split('\n').filter(Boolean).pop();
      reject(new StatusCheckError(`kubectl ${args.join(' ')} failed: ${message ?? `exit code ${code}`}`));
    });
  });
}

async function list<T>(args: readonly string[], runner: KubectlRunner): Promise<T[]> {
  const text = await runKubectl(['get', ...args, '-o', 'json'], runner);
  try {
    return (JSON.parse(text) as { items?: T[] }).items ?? [];
  } catch {
    throw new StatusCheckError(`kubectl get ${args.join(' ')} did not print JSON: ${text.slice(0, 200)}`);
  }
}

/** One line of progress per list read (to stderr): large clusters take seconds per list. */
export type Progress = (line: string) => void;

async function timed<T extends unknown[]>(what: string, progress: Progress, read: () => Promise<T>): Promise<T> {
  const start = Date.now();
  const items = await read();
  progress(`read ${items.length} ${what} in ${((Date.now() - start) / 1000).toFixed(1)} s`);
  return items;
}

/**
 * Everything the diagnosis needs, in two rounds: the bundle's objects first (its CronJob names
 * the Secret and the namespace selector), then the cluster-wide lists, side by side.
 */
export async function readCluster(
  bundleNamespace: string,
  runner: KubectlRunner,
  progress: Progress = () => undefined,
): Promise<ClusterState> {
  type BundleItem = CronJob | Job | Deployment | ConfigMap;
  const ns = ['-n', bundleNamespace];
  const [bundleItems, events] = await Promise.all([
    timed(`objects of the bundle in ${bundleNamespace}`, progress, () =>
      list<BundleItem>(['cronjobs,jobs,deployments,configmaps', ...ns, '-l', PART_OF_SELECTOR], runner),
    ),
    timed('RefreshIncomplete events', progress, () =>
      list<Event>(['events', ...ns, '--field-selector=reason=RefreshIncomplete'], runner),
    ),
  ]);
  const cronJob = bundleItems.find(
    (item): item is CronJob => item.kind === 'CronJob' && item.metadata.name === RefreshCronJob.NAME,
  );
  if (cronJob === undefined) {
    throw new StatusCheckError(
      `no CronJob ${RefreshCronJob.NAME} (label ${PART_OF_SELECTOR}) in namespace ${bundleNamespace}: is the bundle applied there? Name its namespace with --namespace`,
    );
  }
  const settings = runSettings(cronJob);
  const selector = settings.namespaceSelector === '' ? [] : ['-l', settings.namespaceSelector];
  // managedFields say who owns a Secret and when a ServiceAccount's list was written; kubectl hides them unless asked.
  const [namespaces, secrets, serviceAccounts, pods] = await Promise.all([
    timed('namespaces', progress, () => list<Namespace>(['namespaces', ...selector], runner)),
    timed(`Secrets named ${settings.secretName}`, progress, () =>
      list<Secret>(
        ['secrets', '-A', `--field-selector=metadata.name=${settings.secretName}`, '--show-managed-fields'],
        runner,
      ),
    ),
    timed('ServiceAccounts', progress, () =>
      list<ServiceAccount>(['serviceaccounts', '-A', '--show-managed-fields'], runner),
    ),
    timed('unfinished pods', progress, () =>
      list<Pod>(['pods', '-A', '--field-selector=status.phase!=Succeeded,status.phase!=Failed'], runner),
    ),
  ]);
  return {
    bundleNamespace,
    cronJob,
    jobs: bundleItems.filter((item): item is Job => item.kind === 'Job'),
    deployments: bundleItems.filter((item): item is Deployment => item.kind === 'Deployment'),
    configMaps: bundleItems.filter((item): item is ConfigMap => item.kind === 'ConfigMap'),
    events,
    namespaces,
    secrets,
    serviceAccounts,
    pods,
  };
}
