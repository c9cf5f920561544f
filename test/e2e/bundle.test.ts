// dist/ judged by a real kube-apiserver: apply paths, Pod Security, the updater's RBAC, and the
// one RBAC fact the ClusterRole is built on (create + resourceNames is enough for server-side
// apply to create a Secret).
import { existsSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import {
  accountingErrors,
  DIST_DIR,
  bundleObject,
  cluster,
  e2eAvailable,
  loadBundle,
  runBusyboxScript,
  scriptEnv,
  startMoto,
  synthBundle,
  writeScriptFiles,
  renderedSettings,
  type BundleObject,
  type KubectlResult,
} from './harness/index.js';

const NAMESPACE = 'ecr-updater';
const SERVICE_ACCOUNT = 'ecr-credential-updater';
const SECRET = 'ecr-registry-credentials';
const SA_USER = `system:serviceaccount:${NAMESPACE}:${SERVICE_ACCOUNT}`;

function kubectl(args: string[], opts?: Parameters<ReturnType<typeof cluster>['kubectl']>[1]): Promise<KubectlResult> {
  return cluster().kubectl(args, opts);
}

function applyDist(): Promise<KubectlResult> {
  return kubectl(['apply', '--server-side', '--validate=strict', '-f', DIST_DIR]);
}

/** resourceVersion of every object in `dir`, keyed kind/namespace/name. */
async function resourceVersions(dir: string): Promise<Record<string, string>> {
  const { stdout } = await kubectl(['get', '-f', dir, '-o', 'json']);
  const list = JSON.parse(stdout) as { items: { kind: string; metadata: Record<string, string> }[] };
  return Object.fromEntries(
    list.items.map((item) => [
      `${item.kind}/${item.metadata.namespace ?? ''}/${item.metadata.name ?? ''}`,
      item.metadata.resourceVersion ?? '',
    ]),
  );
}

async function createNamespace(name: string, labels: string[] = []): Promise<void> {
  await kubectl(['create', 'namespace', name]);
  if (labels.length > 0) await kubectl(['label', 'namespace', name, ...labels]);
}

function dockerConfigSecret(name: string, namespace: string, auths: Record<string, unknown> = {}): string {
  return JSON.stringify({
    apiVersion: 'v1',
    kind: 'Secret',
    metadata: { name, namespace },
    type: 'kubernetes.io/dockerconfigjson',
    data: { '.dockerconfigjson': Buffer.from(JSON.stringify({ auths })).toString('base64') },
  });
}

/** Polls `check` every 250 ms until it holds; fails naming `what` after `timeoutMs`. */
async function waitUntil(check: () => Promise<boolean>, what: string, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs / 1000}s waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
}

function podTemplate(object: BundleObject): { metadata: Record<string, unknown>; spec: Record<string, unknown> } {
  const spec = object.spec as Record<string, unknown>;
  const template =
    object.kind === 'CronJob'
      ? ((spec.jobTemplate as { spec: { template: unknown } }).spec.template as Record<string, unknown>)
      : (spec.template as Record<string, unknown>);
  return template as { metadata: Record<string, unknown>; spec: Record<string, unknown> };
}

describe.skipIf(!e2eAvailable.ok)('kubectl apply of dist/', () => {
  test('server-side apply with strict field validation creates every object, warns about nothing', async () => {
    const objects = loadBundle(DIST_DIR);
    const result = await applyDist();
    expect(result.stderr).toBe('');
    for (const object of objects) {
      expect(result.stdout).toMatch(new RegExp(`^\\S+/${object.metadata.name} serverside-applied$`, 'm'));
    }
    // The AWS key template under templates/ must never be applied with the bundle.
    expect(result.stdout).not.toContain('aws-ecr-credentials');
    expect(objects.map((object) => object.kind).sort()).toEqual(
      [
        'ClusterRole',
        'ClusterRoleBinding',
        'ConfigMap',
        'CronJob',
        'Job',
        'Namespace',
        'NetworkPolicy',
        'Role',
        'RoleBinding',
        'ServiceAccount',
      ].sort(),
    );
  });

  test('re-applying is a no-op: nothing is written, nothing differs', async () => {
    await applyDist();
    const before = await resourceVersions(DIST_DIR);
    const again = await applyDist();
    expect(again.stderr).toBe('');
    expect(await resourceVersions(DIST_DIR)).toEqual(before);
    const diff = await kubectl(['diff', '--server-side', '-f', DIST_DIR], { allowFail: true });
    expect(diff.stdout).toBe('');
    expect(diff.code).toBe(0);
  });

  test('kubectl apply -k works for a fresh namespace, and again without changes', async () => {
    const namespace = 'bundle-kustomize';
    const serviceAccount = 'bundle-kustomize-updater';
    const dir = await synthBundle(['--namespace', namespace, '--service-account', serviceAccount]);
    expect(existsSync(join(dir, 'Kustomization'))).toBe(true);

    const first = await kubectl(['apply', '-k', dir]);
    expect(first.stderr).toBe('');
    expect(first.stdout).toContain(`namespace/${namespace} created`);
    const cronJob = await kubectl(['get', 'cronjob', '-n', namespace, '-o', 'jsonpath={.items[*].metadata.name}']);
    expect(cronJob.stdout).toBe('ecr-credential-refresh');
    const subject = await kubectl([
      'get',
      'clusterrolebinding',
      `ecr-k8s-credentials-${namespace}`,
      '-o',
      'jsonpath={.subjects[0].namespace}/{.subjects[0].name}',
    ]);
    expect(subject.stdout).toBe(`${namespace}/${serviceAccount}`);

    const second = await kubectl(['apply', '-k', dir]);
    const lines = second.stdout.trim().split('\n');
    expect(lines.length).toBeGreaterThanOrEqual(7);
    expect(lines.filter((line) => !line.endsWith(' unchanged'))).toEqual([]);
  });

  test.each([
    { mode: 'server-side', apply: ['apply', '--server-side', '--validate=strict', '-f'] },
    { mode: 'client-side', apply: ['apply', '--validate=strict', '-f'] },
  ])('$mode apply after changing --image, --schedule and --no-network-policy succeeds', async ({ mode, apply }) => {
    const namespace = `bundle-upgrade-${mode}`;
    const base = ['--namespace', namespace, '--service-account', `${namespace}-updater`];
    const dir = await synthBundle(base);
    await kubectl([...apply, dir]);

    await synthBundle(
      [...base, '--image', 'alpine/k8s:1.31.4', '--schedule', '0 */4 * * *', '--no-network-policy'],
      dir,
    );
    const changed = await kubectl([...apply, dir], { allowFail: true });
    expect(changed.stderr).toBe('');
    expect(changed.code).toBe(0);

    const cronJob = JSON.parse(
      (await kubectl(['get', 'cronjob', 'ecr-credential-refresh', '-n', namespace, '-o', 'json'])).stdout,
    ) as {
      spec: { schedule: string; jobTemplate: { spec: { template: { spec: { containers: { image: string }[] } } } } };
    };
    expect(cronJob.spec.schedule).toBe('0 */4 * * *');
    expect(cronJob.spec.jobTemplate.spec.template.spec.containers[0]?.image).toBe('alpine/k8s:1.31.4');
    // A Job's pod template is immutable: the changed bundle must bring a Job of a new name.
    const jobImages = await kubectl([
      'get',
      'jobs',
      '-n',
      namespace,
      '-o',
      'jsonpath={range .items[*]}{.spec.template.spec.containers[0].image}{"\\n"}{end}',
    ]);
    expect(jobImages.stdout.trim().split('\n').sort()).toEqual(['alpine/k8s:1.30.7', 'alpine/k8s:1.31.4']);
  });
});

describe.skipIf(!e2eAvailable.ok)('Pod Security', () => {
  const namespace = 'bundle-restricted';
  beforeAll(async () => {
    await createNamespace(namespace, [
      'pod-security.kubernetes.io/enforce=restricted',
      'pod-security.kubernetes.io/enforce-version=latest',
    ]);
    // The ServiceAccount admission plugin rejects pods whose ServiceAccount does not exist.
    await kubectl(['create', 'serviceaccount', SERVICE_ACCOUNT, '-n', namespace]);
  });

  function podOf(kind: string, strip = false): string {
    const template = podTemplate(bundleObject(loadBundle(DIST_DIR), kind));
    const spec = structuredClone(template.spec);
    if (strip) {
      delete spec.securityContext;
      for (const container of spec.containers as Record<string, unknown>[]) delete container.securityContext;
    }
    return JSON.stringify({
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { ...template.metadata, name: `from-${kind.toLowerCase()}`, namespace },
      spec,
    });
  }

  test.each(['CronJob', 'Job'])('the %s pod template is admitted under enforce=restricted', async (kind) => {
    const result = await kubectl(['create', '--dry-run=server', '-f', '-'], { input: podOf(kind), allowFail: true });
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
  });

  test('control: the same pod without its securityContext is rejected there', async () => {
    const result = await kubectl(['create', '--dry-run=server', '-f', '-'], {
      input: podOf('CronJob', true),
      allowFail: true,
    });
    expect(result.code).not.toBe(0);
    expect(result.stderr).toContain('violates PodSecurity "restricted:latest"');
  });
});

describe.skipIf(!e2eAvailable.ok)('the real Job controller runs the bundle', () => {
  const initialJob = (): string => bundleObject(loadBundle(DIST_DIR), 'Job').metadata.name;

  /** The Pod the Job controller made for `job` (there is no kubelet: it stays Pending). */
  async function podOfJob(job: string): Promise<{ name: string; phase: string }> {
    let found: { name: string; phase: string } | undefined;
    await waitUntil(async () => {
      const pods = await kubectl([
        ...['get', 'pods', '-n', NAMESPACE, '-l', `batch.kubernetes.io/job-name=${job}`],
        ...['-o', 'jsonpath={range .items[*]}{.metadata.name} {.status.phase}{"\\n"}{end}'],
      ]);
      const [name, phase] = pods.stdout.trim().split('\n')[0]?.split(' ') ?? [];
      if (name && phase) found = { name, phase };
      return found !== undefined;
    }, `a Pod of Job ${job}`);
    return found as { name: string; phase: string };
  }

  /** Events that say the Job controller could not create a Pod (Pod Security, quota, RBAC...). */
  async function failedCreates(job: string): Promise<string> {
    const events = await kubectl([
      ...['get', 'events', '-n', NAMESPACE, '--field-selector', `involvedObject.name=${job},reason=FailedCreate`],
      ...['-o', 'jsonpath={.items[*].message}'],
    ]);
    return events.stdout;
  }

  beforeAll(async () => {
    await applyDist();
  });

  test('the first-run Job gets a Pod that Pod Security restricted admits', async () => {
    const labels = JSON.parse(
      (await kubectl(['get', 'namespace', NAMESPACE, '-o', 'jsonpath={.metadata.labels}'])).stdout,
    ) as Record<string, string>;
    expect(labels['pod-security.kubernetes.io/enforce']).toBe('restricted');
    const pod = await podOfJob(initialJob());
    expect(pod.phase).toBe('Pending');
    expect(await failedCreates(initialJob())).toBe('');
  });

  test('kubectl create job --from=cronjob gets a Pod that Pod Security restricted admits', async () => {
    await kubectl(['create', 'job', 'bundle-manual-run', '--from=cronjob/ecr-credential-refresh', '-n', NAMESPACE]);
    const pod = await podOfJob('bundle-manual-run');
    expect(pod.phase).toBe('Pending');
    expect(await failedCreates('bundle-manual-run')).toBe('');
  });

  /** The kubelet's report of the container's exit, written as it would write it. */
  async function exitPod(pod: string, exitCode: number): Promise<void> {
    const status = {
      status: {
        phase: 'Failed',
        containerStatuses: [
          {
            name: 'refresh',
            ready: false,
            restartCount: 0,
            image: 'alpine/k8s:1.30.7',
            imageID: '',
            state: { terminated: { exitCode, reason: 'Error' } },
          },
        ],
      },
    };
    await kubectl([
      ...['patch', 'pod', pod, '-n', NAMESPACE, '--subresource=status', '--type=merge'],
      ...['-p', JSON.stringify(status)],
    ]);
  }

  async function podsOfJob(job: string): Promise<string[]> {
    const pods = await kubectl([
      ...['get', 'pods', '-n', NAMESPACE, '-l', `batch.kubernetes.io/job-name=${job}`, '-o', 'name'],
    ]);
    return pods.stdout.trim().split('\n').filter(Boolean);
  }

  test.each([
    [2, 'configuration', 'bundle-permanent-failure'],
    [5, 'a conflict or a refused write', 'bundle-conflict'],
  ])('a run that exits %i (%s) fails its Job at once: no retry pods', async (exitCode, _what, job) => {
    await kubectl(['create', 'job', job, '--from=cronjob/ecr-credential-refresh', '-n', NAMESPACE]);
    const pod = await podOfJob(job);
    await exitPod(pod.name, exitCode);
    await kubectl(['wait', '--for=condition=Failed', `job/${job}`, '-n', NAMESPACE, '--timeout=60s']);
    const reason = await kubectl([
      ...['get', 'job', job, '-n', NAMESPACE],
      ...['-o', 'jsonpath={.status.conditions[?(@.type=="Failed")].reason}'],
    ]);
    expect(reason.stdout).toBe('PodFailurePolicy');
    // Past the Job controller's first backoff (10 s): still the one Pod.
    await new Promise((resolve) => setTimeout(resolve, 12_000));
    expect(await podsOfJob(job)).toHaveLength(1);
  });

  test('a run that exits 6 (only failures that may pass: no answer, 429, 5xx) is retried: the Job controller starts a second Pod', async () => {
    const job = 'bundle-transient-failure';
    await kubectl(['create', 'job', job, '--from=cronjob/ecr-credential-refresh', '-n', NAMESPACE]);
    const pod = await podOfJob(job);
    await exitPod(pod.name, 6);
    // The controller's backoff before the next Pod is 10 s.
    await waitUntil(async () => (await podsOfJob(job)).length === 2, `a second Pod of Job ${job}`);
    const failed = await kubectl([
      ...[
        'get',
        'job',
        job,
        '-n',
        NAMESPACE,
        '-o',
        'jsonpath={.status.failed} {.status.conditions[?(@.type=="Failed")].status}',
      ],
    ]);
    expect(failed.stdout.trim()).toBe('1');
  });

  test('a finished first-run Job stays, and re-applying dist/ neither recreates nor changes it', async () => {
    const job = initialJob();
    const pod = await podOfJob(job);
    // There is no kubelet: the Pod's success is written to its status the way a kubelet would.
    // The Job controller does the rest.
    await kubectl([
      ...['patch', 'pod', pod.name, '-n', NAMESPACE, '--subresource=status', '--type=merge'],
      ...['-p', '{"status":{"phase":"Succeeded"}}'],
    ]);
    await kubectl(['wait', '--for=condition=Complete', `job/${job}`, '-n', NAMESPACE, '--timeout=60s']);
    const uid = async () =>
      (await kubectl(['get', 'job', job, '-n', NAMESPACE, '-o', 'jsonpath={.metadata.uid}'])).stdout;
    const before = await uid();
    // No TTL: a GitOps controller would see a TTL-deleted Job missing and create it again.
    const ttl = await kubectl(['get', 'job', job, '-n', NAMESPACE, '-o', 'jsonpath={.spec.ttlSecondsAfterFinished}']);
    expect(ttl.stdout).toBe('');
    const applied = await applyDist();
    expect(applied.stdout).toMatch(new RegExp(`^job.batch/${job} serverside-applied$`, 'm'));
    expect(await uid()).toBe(before);
    const diff = await kubectl(['diff', '--server-side', '-f', DIST_DIR], { allowFail: true });
    expect({ code: diff.code, stdout: diff.stdout }).toEqual({ code: 0, stdout: '' });
  });
});

describe.skipIf(!e2eAvailable.ok)('RBAC of the updater ServiceAccount', () => {
  const namespace = 'bundle-rbac';
  beforeAll(async () => {
    await applyDist();
    await createNamespace(namespace);
  });

  /** `kubectl auth can-i` as the updater; "verb resource[/name] [--subresource=x] [@ns]". */
  async function canI(check: string): Promise<boolean> {
    const [verb = '', resource = '', ...rest] = check.split(' ');
    const at = rest.find((part) => part.startsWith('@'));
    const flags = rest.filter((part) => !part.startsWith('@'));
    const args = ['auth', 'can-i', verb, resource, ...flags, `--as=${SA_USER}`, '-n', at ? at.slice(1) : namespace];
    const result = await kubectl(args, { allowFail: true });
    if (result.stdout.trim() === 'yes' && result.code === 0) return true;
    if (result.stdout.trim() === 'no' && result.code === 1) return false;
    throw new Error(`kubectl ${args.join(' ')}: ${result.stderr}${result.stdout}`);
  }

  async function answers(checks: string[]): Promise<Record<string, boolean>> {
    const entries: [string, boolean][] = [];
    for (const check of checks) entries.push([check, await canI(check)]);
    return Object.fromEntries(entries);
  }

  test('allows what the script needs, in any namespace', async () => {
    const checks = [
      'list namespaces',
      `create secrets/${SECRET}`,
      `patch secrets/${SECRET}`,
      `create secrets/${SECRET} @kube-system`,
      `patch secrets/${SECRET} @default`,
    ];
    expect(await answers(checks)).toEqual(Object.fromEntries(checks.map((check) => [check, true])));
  });

  test('denies reading any secret, other names, deletes and every other write', async () => {
    const writes = ['create', 'update', 'patch', 'delete'];
    const checks = [
      ...['get', 'list', 'watch'].flatMap((verb) => [
        `${verb} secrets`,
        `${verb} secrets/${SECRET}`,
        `${verb} secrets/other`,
      ]),
      'create secrets',
      'create secrets/other',
      'patch secrets/other',
      `update secrets/${SECRET}`,
      `delete secrets/${SECRET}`,
      'delete secrets',
      'deletecollection secrets',
      ...['get', 'watch', 'create', 'patch', 'update', 'delete'].map((verb) => `${verb} namespaces`),
      ...[
        'pods',
        'deployments.apps',
        'configmaps',
        'serviceaccounts',
        'roles.rbac.authorization.k8s.io',
        'rolebindings.rbac.authorization.k8s.io',
        'clusterroles.rbac.authorization.k8s.io',
        'clusterrolebindings.rbac.authorization.k8s.io',
      ].flatMap((resource) => writes.map((verb) => `${verb} ${resource}`)),
      'create serviceaccounts --subresource=token',
      `create serviceaccounts/${SERVICE_ACCOUNT} --subresource=token @${NAMESPACE}`,
      'create pods --subresource=exec',
      'bind clusterroles.rbac.authorization.k8s.io',
      'escalate clusterroles.rbac.authorization.k8s.io',
      'impersonate serviceaccounts',
      '* *',
    ];
    expect(await answers(checks)).toEqual(Object.fromEntries(checks.map((check) => [check, false])));
  });

  test('holds no rule beyond those two (besides what every authenticated user gets)', async () => {
    const { stdout } = await kubectl(['auth', 'can-i', '--list', `--as=${SA_USER}`, '-n', namespace]);
    const rules = stdout
      .trim()
      .split('\n')
      .slice(1)
      .map((line) => line.trim().split(/\s{2,}/))
      .filter(([resource]) => !/(selfsubject|reviews|^\[)/.test(resource ?? ''))
      .sort((a, b) => (a[0] ?? '').localeCompare(b[0] ?? ''));
    expect(rules).toEqual([
      ['namespaces', '[]', '[]', '[list]'],
      ['secrets', '[]', `[${SECRET}]`, '[create patch]'],
    ]);
  });
});

describe.skipIf(!e2eAvailable.ok)('create + resourceNames and server-side apply', () => {
  const namespace = 'bundle-ssa-create';
  let asUpdater: string;
  beforeAll(async () => {
    await applyDist();
    await createNamespace(namespace);
    asUpdater = await cluster().serviceAccountKubeconfig(NAMESPACE, SERVICE_ACCOUNT);
  });

  function applyAsUpdater(secret: string): Promise<KubectlResult> {
    return kubectl(['apply', '--server-side', '--field-manager=ecr-k8s-credentials', '-f', '-'], {
      kubeconfig: asUpdater,
      input: secret,
      allowFail: true,
    });
  }

  test('server-side apply CREATES a new Secret with the allowed name', async () => {
    const result = await applyAsUpdater(dockerConfigSecret(SECRET, namespace, { a: { auth: 'Zmlyc3Q=' } }));
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    const type = await kubectl(['get', 'secret', SECRET, '-n', namespace, '-o', 'jsonpath={.type}']);
    expect(type.stdout).toBe('kubernetes.io/dockerconfigjson');
  });

  test('server-side apply UPDATES it (patch)', async () => {
    const secret = dockerConfigSecret(SECRET, namespace, { a: { auth: 'c2Vjb25k' } });
    const result = await applyAsUpdater(secret);
    expect(result.code).toBe(0);
    const data = await kubectl([
      'get',
      'secret',
      SECRET,
      '-n',
      namespace,
      '-o',
      'jsonpath={.data.\\.dockerconfigjson}',
    ]);
    expect(Buffer.from(data.stdout, 'base64').toString()).toContain('c2Vjb25k');
  });

  test('server-side apply of any other name is forbidden and writes nothing', async () => {
    const result = await applyAsUpdater(dockerConfigSecret('other-name', namespace));
    expect(result.code).not.toBe(0);
    expect(result.stderr).toMatch(/secrets "other-name" is forbidden/);
    const get = await kubectl(['get', 'secret', 'other-name', '-n', namespace], { allowFail: true });
    expect(get.stderr).toContain('NotFound');
  });

  test('a plain create (POST) of even the allowed name is forbidden: RBAC sees no name there', async () => {
    await createNamespace('bundle-ssa-post');
    const result = await kubectl(['create', '-f', '-'], {
      kubeconfig: asUpdater,
      input: dockerConfigSecret(SECRET, 'bundle-ssa-post'),
      allowFail: true,
    });
    expect(result.code).not.toBe(0);
    expect(result.stderr).toContain('cannot create resource "secrets"');
  });

  test('patch alone cannot create: the create verb is what makes the first run work', async () => {
    const ns = 'bundle-ssa-patch-only';
    await createNamespace(ns);
    await kubectl(['create', 'serviceaccount', 'patch-only', '-n', ns]);
    await kubectl([
      'create',
      'role',
      'patch-only',
      '-n',
      ns,
      '--verb=patch',
      '--resource=secrets',
      `--resource-name=${SECRET}`,
    ]);
    await kubectl([
      'create',
      'rolebinding',
      'patch-only',
      '-n',
      ns,
      '--role=patch-only',
      `--serviceaccount=${ns}:patch-only`,
    ]);
    const patchOnly = await cluster().serviceAccountKubeconfig(ns, 'patch-only');
    const result = await kubectl(['apply', '--server-side', '-f', '-'], {
      kubeconfig: patchOnly,
      input: dockerConfigSecret(SECRET, ns),
      allowFail: true,
    });
    expect(result.code).not.toBe(0);
    expect(result.stderr).toContain('cannot create resource "secrets"');
  });

  test('the updater cannot read the Secret it wrote', async () => {
    const result = await kubectl(['get', 'secret', SECRET, '-n', namespace], {
      kubeconfig: asUpdater,
      allowFail: true,
    });
    expect(result.code).not.toBe(0);
    expect(result.stderr).toContain('forbidden');
  });
});

describe.skipIf(!e2eAvailable.ok)('the script from dist/ with only the bundle RBAC', () => {
  const namespaces = ['bundle-script-a', 'bundle-script-b'];
  const region = 'eu-west-1';
  const registry = `123456789012.dkr.ecr.${region}.amazonaws.com`;
  const stops: (() => Promise<void>)[] = [];
  afterAll(async () => {
    await Promise.all(stops.map((stop) => stop()));
  });

  test('writes a valid pull secret into each selected namespace, and updates it on the next run', async () => {
    await applyDist();
    for (const ns of namespaces) await createNamespace(ns);
    const moto = await startMoto();
    stops.push(moto.stop);

    const objects = loadBundle(DIST_DIR);
    const script = writeScriptFiles(objects, mkdtempSync(join(tmpdir(), 'bundle-script-')));

    // The container's env as the CronJob sets it; secret-backed values and paths from the test.
    const env = scriptEnv({
      ...renderedSettings(bundleObject(objects, 'CronJob')),
      AWS_ACCESS_KEY_ID: 'AKIAIOSFODNN7EXAMPLE',
      AWS_SECRET_ACCESS_KEY: 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY',
      AWS_REGION: region,
      AWS_ENDPOINT_URL: moto.endpoint,
      ECR_TARGET_NAMESPACES: 'bundle-script-*',
      KUBECONFIG: await cluster().serviceAccountKubeconfig(NAMESPACE, SERVICE_ACCOUNT),
    });

    // moto hands out the same token every time, so the token alone cannot show the second run
    // wrote anything: the refreshed-at annotation (whole seconds) and the resourceVersion can.
    const written: Record<string, { resourceVersion: string; refreshedAt: string }[]> = {};
    for (const run of ['first', 'second']) {
      if (run === 'second') await new Promise((resolve) => setTimeout(resolve, 1_100));
      const result = await runBusyboxScript(script, env);
      expect({ run, code: result.code, stderr: result.stderr }).toEqual({ run, code: 0, stderr: '' });
      expect(accountingErrors(result.stdout)).toEqual([]);
      for (const ns of namespaces) {
        expect(result.stdout).toMatch(new RegExp(`event=namespace namespace=${ns} result=updated`));
        const secret = JSON.parse((await kubectl(['get', 'secret', SECRET, '-n', ns, '-o', 'json'])).stdout) as {
          metadata: { resourceVersion: string; annotations: Record<string, string> };
          type: string;
          data: Record<string, string>;
        };
        (written[ns] ??= []).push({
          resourceVersion: secret.metadata.resourceVersion,
          refreshedAt: secret.metadata.annotations['ecr-k8s-credentials/refreshed-at'] ?? '',
        });
        expect(secret.type).toBe('kubernetes.io/dockerconfigjson');
        const config = JSON.parse(Buffer.from(secret.data['.dockerconfigjson'] ?? '', 'base64').toString()) as {
          auths: Record<string, { auth: string }>;
        };
        expect(Object.keys(config.auths)).toEqual([registry]);
        expect(Buffer.from(config.auths[registry]?.auth ?? '', 'base64').toString()).toBe(
          'AWS:123456789012-auth-token',
        );
      }
    }
    for (const ns of namespaces) {
      const [first, second] = written[ns] ?? [];
      expect(second?.resourceVersion).not.toBe(first?.resourceVersion);
      expect(second?.refreshedAt).not.toBe(first?.refreshedAt);
      expect(second?.refreshedAt).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
    }
  });
});
