// `ecr-k8s-credentials status` against the real API server: a bundle applied and a refresh run
// (the script from the bundle's ConfigMap, as its ServiceAccount, against moto), then one broken
// case per test. There is no kubelet: a pod that cannot pull gets its container status written
// through the pod's status subresource, as the kubelet writes it (a stand-in for the kubelet).
// The broken cases accumulate in their own namespaces; each test checks its own pod's cause.
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import type { BlockedPodReport, NamespaceReport, StatusReport } from '../../src/status/report.js';
import { installPackedPackage } from '../pack/install.js';
import {
  bundleObject,
  cluster,
  e2eAvailable,
  loadBundle,
  requireContext,
  run,
  runBusyboxScript,
  scriptEnv,
  startMoto,
  synthBundle,
  writeScriptFiles,
  type Moto,
  type RunResult,
} from './harness/index.js';
import { REPO_ROOT } from './harness/bundle.js';

const NAMESPACE = 'ecr-status';
const SERVICE_ACCOUNT = 'ecr-status-updater';
const SECRET = 'ecr-registry-credentials';
/** The credentials' own registry: the one every Secret holds. */
const OWN_REGISTRY = '123456789012.dkr.ecr.eu-west-1.amazonaws.com';
/** A registry the bundle was never told about. */
const OTHER_REGISTRY = '210987654321.dkr.ecr.us-east-1.amazonaws.com';

describe.skipIf(!e2eAvailable.ok)('ecr-k8s-credentials status', () => {
  let moto: Moto;
  let script: string;
  let initialJob: string;
  const kubectl = (args: string[], input?: string) => cluster().kubectl(args, { input });

  /** The command as `npm run status --` runs it, with the test cluster's kubectl first on PATH. */
  async function status(args: string[] = [], kubeconfig = cluster().adminKubeconfig): Promise<RunResult> {
    const { tools } = requireContext();
    return run(join(REPO_ROOT, 'node_modules', '.bin', 'tsx'), [join(REPO_ROOT, 'src', 'main.ts'), 'status', ...args], {
      env: { ...process.env, PATH: `${dirname(tools.kubectl)}:${process.env.PATH ?? ''}`, KUBECONFIG: kubeconfig },
    });
  }

  async function statusJson(): Promise<{ code: number; report: StatusReport }> {
    const result = await status(['--namespace', NAMESPACE, '--output', 'json']);
    if (result.code > 1) throw new Error(`status exited ${result.code}: ${result.stderr}`);
    return { code: result.code, report: JSON.parse(result.stdout) as StatusReport };
  }

  async function refresh(targets: string): Promise<void> {
    const result = await runBusyboxScript(
      script,
      scriptEnv({
        AWS_ACCESS_KEY_ID: 'AKIAIOSFODNN7EXAMPLE',
        AWS_SECRET_ACCESS_KEY: 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY',
        AWS_REGION: 'eu-west-1',
        AWS_ACCOUNT_ID: '123456789012',
        AWS_ENDPOINT_URL: moto.endpoint,
        ECR_TARGET_NAMESPACES: targets,
        ECR_PATCH_SERVICE_ACCOUNTS: 'default',
        KUBECONFIG: await cluster().serviceAccountKubeconfig(NAMESPACE, SERVICE_ACCOUNT),
      }),
    );
    if (result.code !== 0) throw new Error(`refresh exited ${result.code}\n${result.stdout}\n${result.stderr}`);
  }

  async function createNamespace(name: string): Promise<void> {
    await kubectl(['create', 'namespace', name]);
    // Pods need their ServiceAccount; kube-controller-manager makes `default` a moment later.
    await kubectl(['wait', '--for=create', 'serviceaccount/default', '-n', name, '--timeout=60s']);
  }

  /** A one-replica Deployment `web` of `image`; resolves with its pod's name once the ReplicaSet made it. */
  async function deployWeb(namespace: string, image: string, pullSecret: boolean): Promise<string> {
    await kubectl(
      ['apply', '-f', '-'],
      JSON.stringify({
        apiVersion: 'apps/v1',
        kind: 'Deployment',
        metadata: { name: 'web', namespace },
        spec: {
          replicas: 1,
          selector: { matchLabels: { app: 'web' } },
          template: {
            metadata: { labels: { app: 'web' } },
            spec: {
              ...(pullSecret ? { imagePullSecrets: [{ name: SECRET }] } : {}),
              containers: [{ name: 'web', image }],
            },
          },
        },
      }),
    );
    await kubectl(['wait', '--for=create', 'pod', '-l', 'app=web', '-n', namespace, '--timeout=60s']);
    return (
      await kubectl(['get', 'pods', '-l', 'app=web', '-n', namespace, '-o', 'jsonpath={.items[0].metadata.name}'])
    ).stdout;
  }

  /** Stand-in for the kubelet: the pod's container waits in ImagePullBackOff, written through the status subresource. */
  async function kubeletReportsPullFailure(namespace: string, pod: string, image: string): Promise<void> {
    const status = {
      status: {
        phase: 'Pending',
        containerStatuses: [
          {
            name: 'web',
            ready: false,
            restartCount: 0,
            image,
            imageID: '',
            state: {
              waiting: {
                reason: 'ImagePullBackOff',
                message: `Back-off pulling image "${image}": ErrImagePull: pull access denied (written by the test)`,
              },
            },
          },
        ],
      },
    };
    await kubectl([
      ...['patch', 'pod', pod, '-n', namespace, '--subresource=status', '--type=merge'],
      ...['-p', JSON.stringify(status)],
    ]);
  }

  const blocked = (report: StatusReport, namespace: string): BlockedPodReport | undefined =>
    report.blockedPods.find((pod) => pod.namespace === namespace);
  const row = (report: StatusReport, namespace: string): NamespaceReport | undefined =>
    report.namespaces.find((item) => item.namespace === namespace);

  beforeAll(async () => {
    const dir = await synthBundle([
      ...['--namespace', NAMESPACE, '--service-account', SERVICE_ACCOUNT],
      ...['--target-namespaces', 'st-*', '--patch-service-accounts', 'default'],
    ]);
    const objects = loadBundle(dir);
    initialJob = bundleObject(objects, 'Job').metadata.name;
    await kubectl(['apply', '--server-side', '--validate=strict', '-f', dir]);
    script = writeScriptFiles(objects, mkdtempSync(join(tmpdir(), 'status-script-')));
    moto = await startMoto({ ecrTokenSeconds: 12 * 3600 });
    await createNamespace('st-ok');
    await refresh('st-*');
    // The first-run Job's pod succeeds, as a kubelet would report it; the Job controller completes the Job.
    await kubectl(['wait', '--for=create', 'pod', '-n', NAMESPACE, `-l=batch.kubernetes.io/job-name=${initialJob}`]);
    const pod = (
      await kubectl([
        ...['get', 'pods', '-n', NAMESPACE, `-l=batch.kubernetes.io/job-name=${initialJob}`],
        ...['-o', 'jsonpath={.items[0].metadata.name}'],
      ])
    ).stdout;
    await kubectl([
      ...['patch', 'pod', pod, '-n', NAMESPACE, '--subresource=status', '--type=merge'],
      ...['-p', '{"status":{"phase":"Succeeded"}}'],
    ]);
    await kubectl(['wait', '--for=condition=Complete', `job/${initialJob}`, '-n', NAMESPACE, '--timeout=60s']);
  });

  afterAll(async () => {
    await moto.stop();
  });

  test('a bundle applied and a run done: exit 0, every target namespace fresh, no blocked pod', async () => {
    const result = await status(['--namespace', NAMESPACE]);
    expect({ code: result.code, stderr: result.stderr }).toEqual({ code: 0, stderr: '' });
    expect(result.stdout).toContain('OK: every target namespace is fresh and no pod is blocked.');
    const { code, report } = await statusJson();
    expect(code).toBe(0);
    expect(report.summary).toMatchObject({ fresh: 1, notFresh: 0, blockedPods: 0, problems: 0 });
    expect(row(report, 'st-ok')).toMatchObject({
      state: 'fresh',
      registries: [OWN_REGISTRY],
      fieldManagers: ['ecr-k8s-credentials'],
      serviceAccounts: ['default'],
    });
    expect(report.bundle.lastJob).toMatchObject({ name: initialJob, result: 'succeeded', refreshIncomplete: null });
    expect(report.bundle.cronJob).toMatchObject({ severity: 'ok', suspended: false, lastSuccessfulTime: null });
    expect(report.bundle.scripts).toMatchObject({ matchesPackage: true, differingFiles: [], packageVersion: '0.1.0' });
  });

  test('Secret missing: the pod references a Secret the namespace lacks; cause secret-missing, exit 1', async () => {
    await createNamespace('st-missing');
    const pod = await deployWeb('st-missing', `${OWN_REGISTRY}/web:1`, true);
    await kubeletReportsPullFailure('st-missing', pod, `${OWN_REGISTRY}/web:1`);
    const { code, report } = await statusJson();
    expect(code).toBe(1);
    expect(row(report, 'st-missing')?.state).toBe('missing');
    expect(blocked(report, 'st-missing')).toMatchObject({
      pod,
      cause: 'secret-missing',
      owner: { kind: 'Deployment', name: 'web' },
      containers: [{ name: 'web', image: `${OWN_REGISTRY}/web:1`, reason: 'ImagePullBackOff' }],
      fix: [
        `kubectl -n ${NAMESPACE} create job --from=cronjob/ecr-credential-refresh ecr-credential-refresh-manual-$(date +%s)`,
      ],
    });
  });

  test('Secret expired (refreshed-at 13 h ago): cause secret-expired, exit 1', async () => {
    await createNamespace('st-expired');
    await refresh('st-expired');
    const hoursAgo = (hours: number) => new Date(Date.now() - hours * 3_600_000).toISOString().replace(/\.\d+Z$/, 'Z');
    await kubectl([
      ...['annotate', 'secret', SECRET, '-n', 'st-expired', '--overwrite'],
      `ecr-k8s-credentials/refreshed-at=${hoursAgo(13)}`,
      `ecr-k8s-credentials/expires-at=${hoursAgo(1)}`,
    ]);
    const pod = await deployWeb('st-expired', `${OWN_REGISTRY}/web:1`, true);
    await kubeletReportsPullFailure('st-expired', pod, `${OWN_REGISTRY}/web:1`);
    const { code, report } = await statusJson();
    expect(code).toBe(1);
    expect(row(report, 'st-expired')).toMatchObject({ state: 'expired', fieldManagers: ['ecr-k8s-credentials'] });
    expect(row(report, 'st-expired')?.detail).toBe('expired 1h ago');
    expect(blocked(report, 'st-expired')).toMatchObject({ pod, cause: 'secret-expired' });
  });

  test('registry host not in the Secret: cause registry-not-in-secret naming the host, exit 1', async () => {
    await createNamespace('st-registry');
    await refresh('st-registry');
    const image = `${OTHER_REGISTRY}/shop/api:2`;
    const pod = await deployWeb('st-registry', image, true);
    await kubeletReportsPullFailure('st-registry', pod, image);
    const { code, report } = await statusJson();
    expect(code).toBe(1);
    expect(row(report, 'st-registry')?.state).toBe('fresh');
    const found = blocked(report, 'st-registry');
    expect(found).toMatchObject({ pod, cause: 'registry-not-in-secret' });
    expect(found?.detail).toBe(`Secret ${SECRET} holds ${OWN_REGISTRY}, not ${OTHER_REGISTRY}`);
    expect(found?.fix[0]).toContain(`--registry ${OTHER_REGISTRY}`);
  });

  test("pod older than its ServiceAccount's patch: cause pod-older-than-service-account-patch, fix is the owner's rollout restart, exit 1", async () => {
    await createNamespace('st-late');
    // The pod comes first, without imagePullSecrets; then the refresh patches `default`.
    const pod = await deployWeb('st-late', `${OWN_REGISTRY}/web:1`, false);
    await kubeletReportsPullFailure('st-late', pod, `${OWN_REGISTRY}/web:1`);
    // managedFields times have one-second resolution: the patch must land in a later second.
    await new Promise((resolve) => setTimeout(resolve, 1_100));
    await refresh('st-late');
    const { code, report } = await statusJson();
    expect(code).toBe(1);
    expect(row(report, 'st-late')).toMatchObject({ state: 'fresh', serviceAccounts: ['default'] });
    expect(blocked(report, 'st-late')).toMatchObject({
      pod,
      serviceAccount: 'default',
      cause: 'pod-older-than-service-account-patch',
      fix: ['kubectl rollout restart deployment/web -n st-late'],
    });
  });

  test('foreign-owned Secret: namespace in conflict, cause secret-foreign naming the owner, exit 1', async () => {
    await createNamespace('st-foreign');
    await kubectl([
      ...['create', 'secret', 'docker-registry', SECRET, '-n', 'st-foreign'],
      ...[`--docker-server=${OWN_REGISTRY}`, '--docker-username=AWS', '--docker-password=someone-elses'],
    ]);
    const pod = await deployWeb('st-foreign', `${OWN_REGISTRY}/web:1`, true);
    await kubeletReportsPullFailure('st-foreign', pod, `${OWN_REGISTRY}/web:1`);
    const { code, report } = await statusJson();
    expect(code).toBe(1);
    expect(row(report, 'st-foreign')).toMatchObject({
      state: 'conflict',
      fieldManagers: ['kubectl-create'],
      registries: [OWN_REGISTRY],
    });
    expect(blocked(report, 'st-foreign')).toMatchObject({
      pod,
      cause: 'secret-foreign',
      fix: [
        `kubectl delete secret ${SECRET} -n st-foreign`,
        `kubectl -n ${NAMESPACE} create job --from=cronjob/ecr-credential-refresh ecr-credential-refresh-manual-$(date +%s)`,
      ],
    });
  });

  test('the table names each blocked pod with its cause and fix, and ends with the problems', async () => {
    const result = await status(['--namespace', NAMESPACE]);
    expect(result.code).toBe(1);
    expect(result.stdout).not.toContain('\u001b[');
    expect(result.stdout).toContain('cause: pod-older-than-service-account-patch:');
    expect(result.stdout).toContain('fix:   kubectl rollout restart deployment/web -n st-late');
    expect(result.stdout).toMatch(/^\d+ problem\(s\):$/m);
    // Printed for the README's Troubleshooting sample.
    console.log(result.stdout);
  });

  test('the JSON shape: every key and the type of every value', async () => {
    const { report } = await statusJson();
    const shape = (value: unknown): unknown =>
      Array.isArray(value)
        ? value.length === 0
          ? []
          : [shape(value[0])]
        : value !== null && typeof value === 'object'
          ? Object.fromEntries(Object.entries(value).map(([key, item]) => [key, shape(item)]))
          : value === null
            ? 'null'
            : typeof value;
    // The blocked pod with an owner and the bundle's finished Job show every field.
    const pod = blocked(report, 'st-late');
    expect(shape({ ...report, blockedPods: [pod] })).toMatchSnapshot();
  });

  test("bounded API load: one LIST per kind (with kubectl's pages of 500), no GET per namespace", async () => {
    const { tools } = requireContext();
    for (let i = 0; i < 10; i++) await kubectl(['create', 'namespace', `load-${i}`]);
    // A kubectl on PATH that runs the real one with request logging (-v=6) into a file.
    const bin = mkdtempSync(join(tmpdir(), 'status-kubectl-'));
    const log = join(bin, 'requests.log');
    writeFileSync(join(bin, 'kubectl'), `#!/bin/sh\nexec '${tools.kubectl}' -v=6 "$@" 2>>'${log}'\n`, { mode: 0o755 });
    const result = await run(
      join(REPO_ROOT, 'node_modules', '.bin', 'tsx'),
      [join(REPO_ROOT, 'src', 'main.ts'), 'status', '--namespace', NAMESPACE],
      {
        env: { ...process.env, PATH: `${bin}:${process.env.PATH ?? ''}`, KUBECONFIG: cluster().adminKubeconfig },
      },
    );
    // 0 or 1 as the earlier cases left the cluster; 2 would mean the check failed.
    expect(result.code).toBeLessThan(2);
    const responses = [
      ...readFileSync(log, 'utf8').matchAll(/"Response" verb="(\w+)" url="https:\/\/[^/]+([^"?]*)(\?[^"]*)?"/g),
    ]
      .map(([, verb, path, query]) => ({ request: `${verb} ${path}`, page: /[?&]continue=/.test(query ?? '') }))
      // API discovery (kubectl caches it) reads no object of the cluster.
      .filter(({ request }) => !/^GET \/(api|api\/v1|apis|apis\/[^/]+\/[^/]+|openapi\/.*|version)$/.test(request));
    // kubectl reads a list in pages of 500 (the rest of the suite may leave more objects than
    // that): a page is one more request of the same LIST, never a request per namespace.
    const requests = responses.filter(({ page }) => !page).map(({ request }) => request);
    const pages = responses.filter(({ page }) => page).map(({ request }) => request);
    expect(pages.filter((request) => !requests.includes(request))).toEqual([]);
    const namespaces = (await kubectl(['get', 'namespaces', '-o', 'name'])).stdout.trim().split('\n').length;
    expect(namespaces).toBeGreaterThanOrEqual(16);
    expect(requests.sort()).toEqual([
      'GET /api/v1/namespaces',
      `GET /api/v1/namespaces/${NAMESPACE}/configmaps`,
      `GET /api/v1/namespaces/${NAMESPACE}/events`,
      'GET /api/v1/pods',
      'GET /api/v1/secrets',
      'GET /api/v1/serviceaccounts',
      `GET /apis/apps/v1/namespaces/${NAMESPACE}/deployments`,
      `GET /apis/batch/v1/namespaces/${NAMESPACE}/cronjobs`,
      `GET /apis/batch/v1/namespaces/${NAMESPACE}/jobs`,
    ]);
  });

  test('on a terminal: progress lines on stderr and colour', async () => {
    const { tools } = requireContext();
    const command = [join(REPO_ROOT, 'node_modules', '.bin', 'tsx'), join(REPO_ROOT, 'src', 'main.ts'), 'status']
      .concat(['--namespace', NAMESPACE])
      .join(' ');
    // `script` gives the command a pseudo-terminal for stdout and stderr alike.
    const result = await run('script', ['-qec', command, '/dev/null'], {
      env: {
        ...process.env,
        PATH: `${dirname(tools.kubectl)}:${process.env.PATH ?? ''}`,
        KUBECONFIG: cluster().adminKubeconfig,
      },
    });
    expect(result.code).toBe(1);
    expect(result.stdout).toMatch(/^status: read \d+ unfinished pods in \d+\.\d s\r?$/m);
    expect(result.stdout).toContain('\u001b[31mpod-older-than-service-account-patch\u001b[0m');
  });

  test("a list the API refuses (RBAC): exit 2 with the API server's message", async () => {
    // May read everything status lists except pods.
    await kubectl(
      ['apply', '-f', '-'],
      JSON.stringify({
        apiVersion: 'v1',
        kind: 'List',
        items: [
          { apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name: 'status-reader', namespace: NAMESPACE } },
          {
            apiVersion: 'rbac.authorization.k8s.io/v1',
            kind: 'ClusterRole',
            metadata: { name: 'status-reader-no-pods' },
            rules: [
              {
                apiGroups: [''],
                resources: ['namespaces', 'secrets', 'serviceaccounts', 'configmaps', 'events'],
                verbs: ['list'],
              },
              { apiGroups: ['batch'], resources: ['cronjobs', 'jobs'], verbs: ['list'] },
              { apiGroups: ['apps'], resources: ['deployments'], verbs: ['list'] },
            ],
          },
          {
            apiVersion: 'rbac.authorization.k8s.io/v1',
            kind: 'ClusterRoleBinding',
            metadata: { name: 'status-reader-no-pods' },
            roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: 'status-reader-no-pods' },
            subjects: [{ kind: 'ServiceAccount', name: 'status-reader', namespace: NAMESPACE }],
          },
        ],
      }),
    );
    const result = await status(
      ['--namespace', NAMESPACE],
      await cluster().serviceAccountKubeconfig(NAMESPACE, 'status-reader'),
    );
    expect(result.code).toBe(2);
    expect(result.stdout).toBe('');
    expect(result.stderr).toContain(
      `Error from server (Forbidden): pods is forbidden: User "system:serviceaccount:${NAMESPACE}:status-reader" cannot list resource "pods" in API group "" at the cluster scope`,
    );
  });

  test('no bundle in the namespace: exit 2 naming the namespace and --namespace', async () => {
    const result = await status(['--namespace', 'st-ok']);
    expect(result.code).toBe(2);
    expect(result.stderr).toBe(
      'error: no CronJob ecr-credential-refresh (label app.kubernetes.io/part-of=ecr-k8s-credentials) in namespace st-ok: is the bundle applied there? Name its namespace with --namespace\n',
    );
  });

  describe('as a kubectl plugin from the installed package', () => {
    const work = mkdtempSync(join(tmpdir(), 'status-plugin-'));
    const app = join(work, 'app');
    const pluginPath = () =>
      `${join(app, 'node_modules', '.bin')}:${dirname(requireContext().tools.kubectl)}:${dirname(process.execPath)}:/usr/bin:/bin`;

    beforeAll(async () => {
      mkdirSync(work, { recursive: true });
      await installPackedPackage(work, app);
    }, 240_000);

    afterAll(() => rmSync(work, { recursive: true, force: true }));

    test('kubectl plugin list finds kubectl-ecr_credentials', async () => {
      const result = await run(join(dirname(requireContext().tools.kubectl), 'kubectl'), ['plugin', 'list'], {
        env: { PATH: pluginPath(), HOME: work },
      });
      expect(result.stdout).toContain(join(app, 'node_modules', '.bin', 'kubectl-ecr_credentials'));
    });

    test('kubectl ecr-credentials without arguments prints the help and writes nothing where it stands', async () => {
      const here = mkdtempSync(join(work, 'cwd-'));
      const result = await run(join(dirname(requireContext().tools.kubectl), 'kubectl'), ['ecr-credentials'], {
        env: { PATH: pluginPath(), HOME: work },
        cwd: here,
      });
      expect(result.code).toBe(0);
      expect(result.stdout).toContain('status');
      expect(readdirSync(here)).toEqual([]);
    });

    test('kubectl ecr-credentials status runs the installed command against the cluster', async () => {
      const result = await run(
        join(dirname(requireContext().tools.kubectl), 'kubectl'),
        ['ecr-credentials', 'status', '--namespace', NAMESPACE, '--output', 'json'],
        { env: { PATH: pluginPath(), HOME: work, KUBECONFIG: cluster().adminKubeconfig } },
      );
      expect(result.code).toBe(1);
      const report = JSON.parse(result.stdout) as StatusReport;
      expect(report.bundle.namespace).toBe(NAMESPACE);
      expect(blocked(report, 'st-late')?.cause).toBe('pod-older-than-service-account-patch');
    });
  });
});
