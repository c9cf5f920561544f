import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import { diagnose, type PackageScripts } from '../../src/status/diagnose.js';
import type { ClusterState, ConfigMap, Job, Pod, Secret } from '../../src/status/kube-objects.js';
import { renderTable } from '../../src/status/render-table.js';

/**
 * The objects status read from kube-apiserver 1.34.4 in the e2e setup (test/e2e/status.test.ts):
 * the bundle in ecr-status after a refresh and a completed first-run Job, and one namespace per
 * broken case (st-missing, st-expired, st-registry, st-late, st-foreign) with the pod status a
 * kubelet would write. Other namespaces of that cluster are left out.
 */
const fixture = JSON.parse(
  readFileSync(join(import.meta.dirname, '..', 'fixtures', 'status', 'cluster-state.json'), 'utf8'),
) as {
  capturedAt: string;
  state: ClusterState;
};
const state = fixture.state;
const capturedAt = Date.parse(fixture.capturedAt);
const HOUR = 3_600_000;

const scriptConfigMap = state.configMaps.find(
  (item) => item.metadata.name === 'ecr-credential-refresh-script',
) as ConfigMap;
/** The package as the one that rendered the bundle. */
const samePackage: PackageScripts = { version: '0.1.0', scripts: scriptConfigMap.data ?? {} };

const only = (namespaces: readonly string[]): ClusterState => ({
  ...state,
  namespaces: state.namespaces.filter((item) => namespaces.includes(item.metadata.name)),
  pods: state.pods.filter((pod) => namespaces.includes(pod.metadata.namespace ?? '')),
});

describe('diagnose, over objects read from a real API server', () => {
  const report = diagnose(state, samePackage, capturedAt);
  const rowOf = (namespace: string) => report.namespaces.find((row) => row.namespace === namespace);

  test('each broken namespace gets its cause', () => {
    expect(Object.fromEntries(report.blockedPods.map((pod) => [pod.namespace, pod.cause]))).toEqual({
      'st-expired': 'secret-expired',
      'st-foreign': 'secret-foreign',
      'st-late': 'pod-older-than-service-account-patch',
      'st-missing': 'secret-missing',
      'st-registry': 'registry-not-in-secret',
    });
  });

  test('namespace states: fresh, expired, missing, conflict', () => {
    expect(Object.fromEntries(report.namespaces.map((row) => [row.namespace, row.state]))).toEqual({
      'st-expired': 'expired',
      'st-foreign': 'conflict',
      'st-late': 'fresh',
      'st-missing': 'missing',
      'st-ok': 'fresh',
      'st-registry': 'fresh',
    });
    expect(rowOf('st-foreign')?.fieldManagers).toEqual(['kubectl-create']);
    expect(rowOf('st-ok')?.fieldManagers).toEqual(['ecr-k8s-credentials']);
  });

  test('exit code 1 with one problem per broken namespace and per blocked pod', () => {
    expect(report.exitCode).toBe(1);
    expect(report.summary).toEqual({
      targetNamespaces: 6,
      fresh: 3,
      notFresh: 3,
      blockedPods: 5,
      problems: 8,
      warnings: 0,
    });
  });

  test('only the fresh namespaces: exit 0', () => {
    const clean = diagnose(only(['st-ok', 'st-late']), samePackage, capturedAt);
    // st-late's pod is still blocked: restart it and the namespace is clean.
    expect(clean.blockedPods.map((pod) => pod.cause)).toEqual(['pod-older-than-service-account-patch']);
    const ok = diagnose(only(['st-ok']), samePackage, capturedAt);
    expect({ exitCode: ok.exitCode, problems: ok.problems }).toEqual({ exitCode: 0, problems: [] });
  });

  test('13 hours later every Secret has expired and the refresh is overdue', () => {
    const later = diagnose(only(['st-ok']), samePackage, capturedAt + 13 * HOUR);
    expect(later.namespaces.map((row) => row.state)).toEqual(['expired']);
    expect(later.bundle.cronJob).toMatchObject({ severity: 'problem', overdueAfterMinutes: 390 });
    expect(later.bundle.cronJob.detail).toMatch(
      /^the last successful refresh was 13h(\dm)? ago \(overdue after 6h30m\)$/,
    );
  });

  test('7 hours later the Secret is stale: refreshed longer ago than the overdue threshold, not yet expired', () => {
    const later = diagnose(only(['st-ok']), samePackage, capturedAt + 7 * HOUR);
    expect(later.namespaces.map((row) => row.state)).toEqual(['stale']);
    expect(later.exitCode).toBe(1);
  });

  test('a suspended CronJob is a problem, with the command that resumes it', () => {
    const suspended = { ...state.cronJob, spec: { ...state.cronJob.spec, suspend: true } };
    const result = diagnose({ ...only(['st-ok']), cronJob: suspended }, samePackage, capturedAt);
    expect(result.exitCode).toBe(1);
    expect(result.bundle.cronJob.detail).toBe(
      `the CronJob is suspended: no refresh runs (kubectl -n ecr-status patch cronjob ecr-credential-refresh -p '{"spec":{"suspend":false}}')`,
    );
  });

  test('a failed last Job with a RefreshIncomplete Event: the counts, and a problem', () => {
    const [job] = state.jobs as Job[];
    const failed: Job = {
      ...job!,
      metadata: {
        ...job!.metadata,
        name: 'ecr-credential-refresh-29412360',
        uid: 'uid-failed',
        creationTimestamp: fixture.capturedAt,
      },
      status: {
        startTime: fixture.capturedAt,
        conditions: [{ type: 'Failed', status: 'True', reason: 'PodFailurePolicy' }],
      },
    };
    const message =
      '1 of 2 selected namespace(s) not refreshed: 0 failed, 1 conflicted (another field manager owns the Secret; see --adopt-existing-secrets); 1 updated, 0 skipped. The pod log has one result=failed or result=conflict line per namespace.';
    const event = {
      metadata: { name: 'ecr-credential-refresh-29412360.1', namespace: 'ecr-status' },
      reason: 'RefreshIncomplete',
      message,
      count: 1,
      involvedObject: { kind: 'Job', name: failed.metadata.name, uid: 'uid-failed' },
    };
    const result = diagnose(
      { ...only(['st-ok']), jobs: [...state.jobs, failed], events: [event] },
      samePackage,
      capturedAt,
    );
    expect(result.bundle.lastJob).toMatchObject({
      name: 'ecr-credential-refresh-29412360',
      result: 'failed',
      reason: 'PodFailurePolicy',
      severity: 'problem',
      refreshIncomplete: { events: 1, selected: 2, failed: 0, conflicted: 1, updated: 1, skipped: 0 },
    });
    expect(result.exitCode).toBe(1);
  });

  test('a watcher Deployment without a ready replica is a problem; with one it is ok', () => {
    const watcher = (ready: number) => ({
      kind: 'Deployment' as const,
      metadata: { name: 'ecr-namespace-watcher', namespace: 'ecr-status' },
      spec: { replicas: 1 },
      status: { replicas: 1, readyReplicas: ready },
    });
    const down = diagnose({ ...only(['st-ok']), deployments: [watcher(0)] }, samePackage, capturedAt);
    expect(down.bundle.watcher).toMatchObject({ replicas: 1, readyReplicas: 0, severity: 'problem' });
    expect(down.exitCode).toBe(1);
    const up = diagnose({ ...only(['st-ok']), deployments: [watcher(1)] }, samePackage, capturedAt);
    expect(up.bundle.watcher).toMatchObject({ severity: 'ok', detail: '1/1 ready' });
    expect(up.exitCode).toBe(0);
  });

  test('scripts of another package version: a warning naming the files, exit code unchanged', () => {
    const other: PackageScripts = {
      version: '0.2.0',
      scripts: { ...samePackage.scripts, 'ecr-write.sh': '# changed\n', 'ecr-new.sh': '# new\n' },
    };
    const result = diagnose(only(['st-ok']), other, capturedAt);
    expect(result.bundle.scripts).toMatchObject({
      matchesPackage: false,
      differingFiles: ['ecr-new.sh', 'ecr-write.sh'],
      severity: 'warning',
    });
    expect({ exitCode: result.exitCode, warnings: result.summary.warnings }).toEqual({ exitCode: 0, warnings: 1 });
  });

  test('a pod whose own imagePullSecrets lack the Secret: patch the owner template', () => {
    const pod = state.pods.find((item) => item.metadata.namespace === 'st-late') as Pod;
    const own: Pod = {
      ...pod,
      metadata: { ...pod.metadata, creationTimestamp: new Date(capturedAt).toISOString() },
      spec: { ...pod.spec, imagePullSecrets: [{ name: 'team-registry' }] },
    };
    const result = diagnose({ ...only(['st-late']), pods: [own] }, samePackage, capturedAt);
    expect(result.blockedPods[0]).toMatchObject({
      cause: 'no-image-pull-secrets',
      fix: [
        `kubectl patch deployment/web -n st-late --type=json -p '[{"op":"add","path":"/spec/template/spec/imagePullSecrets/-","value":{"name":"ecr-registry-credentials"}}]'`,
      ],
    });
  });

  test('a registry the bundle is configured with but the Secret lacks: refresh now, no re-synthesis', () => {
    const container = state.cronJob.spec.jobTemplate.spec.template.spec.containers[0]!;
    const env = (container.env ?? []).map((variable) =>
      variable.name === 'ECR_REGISTRIES'
        ? { name: 'ECR_REGISTRIES', value: '210987654321.dkr.ecr.us-east-1.amazonaws.com' }
        : variable,
    );
    const template = state.cronJob.spec.jobTemplate.spec.template;
    const cronJob = {
      ...state.cronJob,
      spec: {
        ...state.cronJob.spec,
        jobTemplate: { spec: { template: { spec: { ...template.spec, containers: [{ ...container, env }] } } } },
      },
    };
    const result = diagnose({ ...only(['st-registry']), cronJob }, samePackage, capturedAt);
    expect(result.blockedPods[0]).toMatchObject({
      cause: 'registry-not-in-secret',
      fix: [
        'kubectl -n ecr-status create job --from=cronjob/ecr-credential-refresh ecr-credential-refresh-manual-$(date +%s)',
      ],
    });
    expect(result.blockedPods[0]?.detail).toContain(
      'the bundle is configured with it, but no refresh has written it since',
    );
  });

  test('everything on our side is right: pull-refused, with the kubelet message', () => {
    const pod = state.pods.find((item) => item.metadata.namespace === 'st-missing') as Pod;
    const inOk: Pod = { ...pod, metadata: { ...pod.metadata, namespace: 'st-ok' } };
    const result = diagnose({ ...only(['st-ok']), pods: [inOk] }, samePackage, capturedAt);
    expect(result.blockedPods[0]).toMatchObject({
      cause: 'pull-refused',
      fix: [`kubectl describe pod ${pod.metadata.name} -n st-ok`],
    });
    expect(result.blockedPods[0]?.detail).toContain('ErrImagePull: pull access denied (written by the test)');
  });

  test('neither the pod nor its ServiceAccount lists the Secret: patch the account, then restart the owner', () => {
    const pod = state.pods.find((item) => item.metadata.namespace === 'st-late') as Pod;
    const accounts = state.serviceAccounts.map((account) =>
      account.metadata.namespace === 'st-late' && account.metadata.name === 'default'
        ? { metadata: account.metadata }
        : account,
    );
    const result = diagnose({ ...only(['st-late']), pods: [pod], serviceAccounts: accounts }, samePackage, capturedAt);
    expect(result.blockedPods[0]).toMatchObject({
      cause: 'no-image-pull-secrets',
      fix: [
        `kubectl patch serviceaccount default -n st-late --type=json -p '[{"op":"add","path":"/imagePullSecrets","value":[{"name":"ecr-registry-credentials"}]}]'`,
        'kubectl rollout restart deployment/web -n st-late',
      ],
    });
  });

  test('a pod in a namespace the refresh leaves out: namespace-not-targeted', () => {
    const pod = state.pods.find((item) => item.metadata.namespace === 'st-missing') as Pod;
    const elsewhere: Pod = { ...pod, metadata: { ...pod.metadata, namespace: 'team-x' } };
    const teamX = { metadata: { name: 'team-x' }, status: { phase: 'Active' } };
    const result = diagnose(
      { ...only(['st-ok']), namespaces: [...only(['st-ok']).namespaces, teamX], pods: [elsewhere] },
      samePackage,
      capturedAt,
    );
    expect(result.blockedPods[0]).toMatchObject({ namespace: 'team-x', cause: 'namespace-not-targeted' });
    expect(result.blockedPods[0]?.detail).toBe(
      'the refresh leaves namespace team-x out: not matched by ECR_TARGET_NAMESPACES (st-*)',
    );
  });

  test('a pod on Docker Hub or in ContainerCreating is not reported', () => {
    const pod = state.pods.find((item) => item.metadata.namespace === 'st-missing') as Pod;
    const hub: Pod = { ...pod, spec: { ...pod.spec, containers: [{ name: 'web', image: 'nginx:1.27' }] } };
    const creating: Pod = {
      ...pod,
      status: { containerStatuses: [{ name: 'web', state: { waiting: { reason: 'ContainerCreating' } } }] },
    };
    expect(diagnose({ ...only(['st-missing']), pods: [hub, creating] }, samePackage, capturedAt).blockedPods).toEqual(
      [],
    );
  });

  test('a Secret without managedFields (kubectl hides them unless asked) counts as a conflict, not as ours', () => {
    const secret = state.secrets.find((item) => item.metadata.namespace === 'st-ok') as Secret;
    const bare: Secret = { ...secret, metadata: { ...secret.metadata, managedFields: [] } };
    const result = diagnose({ ...only(['st-ok']), secrets: [bare] }, samePackage, capturedAt);
    expect(result.namespaces[0]?.state).toBe('conflict');
  });

  test('the table, without colour: the bundle, the namespaces, each blocked pod with cause and fix', () => {
    const text = renderTable(report, false);
    expect(text).not.toContain('\u001b[');
    expect(text).toContain('Target namespaces 3 of 6 fresh');
    expect(text).toContain('    cause: secret-missing: Secret ecr-registry-credentials does not exist in st-missing');
    expect(text).toContain('    fix:   kubectl rollout restart deployment/web -n st-late');
    expect(text.trimEnd().split('\n').at(-9)).toBe('8 problem(s):');
  });

  test('above 30 target namespaces the table lists only those not fresh; JSON keeps every one', () => {
    const secret = state.secrets.find((item) => item.metadata.namespace === 'st-ok') as Secret;
    const names = Array.from({ length: 31 }, (_, i) => `st-many-${i}`);
    const many = diagnose(
      {
        ...only([]),
        namespaces: names.map((name) => ({ metadata: { name }, status: { phase: 'Active' } })),
        // Every namespace but the last has a fresh Secret.
        secrets: names.slice(0, -1).map((name) => ({ ...secret, metadata: { ...secret.metadata, namespace: name } })),
      },
      samePackage,
      capturedAt,
    );
    expect(many.namespaces).toHaveLength(31);
    const text = renderTable(many, false);
    expect(text).toContain('Target namespaces 30 of 31 fresh (only those not fresh are listed)');
    expect(text).toMatch(/^ {2}st-many-30 +missing /m);
    expect(text).not.toMatch(/^ {2}st-many-0 /m);
  });

  test('the table on a terminal: states in colour', () => {
    expect(renderTable(report, true)).toContain('\u001b[31mexpired\u001b[0m');
  });
});

describe('diagnose, with --ecr-public', () => {
  const PUBLIC_IMAGE = 'public.ecr.aws/docker/library/nginx:1.27';
  const okPod = state.pods.find((item) => item.metadata.namespace === 'st-missing') as Pod;
  /** The st-ok pod waiting on a failed pull of an ECR Public image. */
  const publicPod: Pod = {
    ...okPod,
    metadata: { ...okPod.metadata, namespace: 'st-ok' },
    spec: {
      ...okPod.spec,
      containers: okPod.spec.containers.map((container) => ({ ...container, image: PUBLIC_IMAGE })),
    },
    status: {
      ...okPod.status,
      containerStatuses: (okPod.status?.containerStatuses ?? []).map((status) => ({ ...status, image: PUBLIC_IMAGE })),
    },
  };
  /** The bundle's CronJob, with ECR_PUBLIC=true when `ecrPublic`. */
  const cronJobWith = (ecrPublic: boolean) => {
    const container = state.cronJob.spec.jobTemplate.spec.template.spec.containers[0]!;
    const env = [...(container.env ?? []), ...(ecrPublic ? [{ name: 'ECR_PUBLIC', value: 'true' }] : [])];
    const template = state.cronJob.spec.jobTemplate.spec.template;
    return {
      ...state.cronJob,
      spec: {
        ...state.cronJob.spec,
        jobTemplate: { spec: { template: { spec: { ...template.spec, containers: [{ ...container, env }] } } } },
      },
    };
  };
  /** The st-ok Secret, with public.ecr.aws added to its docker config when `withPublic`. */
  const secretsWith = (withPublic: boolean): Secret[] =>
    state.secrets.map((secret) => {
      if (secret.metadata.namespace !== 'st-ok' || !withPublic) return secret;
      const config = JSON.parse(Buffer.from(secret.data?.['.dockerconfigjson'] ?? '', 'base64').toString()) as {
        auths: Record<string, unknown>;
      };
      config.auths['public.ecr.aws'] = { auth: Buffer.from('AWS:public').toString('base64') };
      return {
        ...secret,
        data: { ...secret.data, '.dockerconfigjson': Buffer.from(JSON.stringify(config)).toString('base64') },
      };
    });
  const diagnosed = (ecrPublic: boolean, withPublic: boolean) =>
    diagnose(
      { ...only(['st-ok']), pods: [publicPod], cronJob: cronJobWith(ecrPublic), secrets: secretsWith(withPublic) },
      samePackage,
      capturedAt,
    ).blockedPods;

  test('a public.ecr.aws image the fresh Secret holds is served by it: pull-refused, our side is right', () => {
    expect(diagnosed(true, true)).toMatchObject([{ namespace: 'st-ok', cause: 'pull-refused' }]);
  });

  test('a Secret not yet holding public.ecr.aws under a bundle with ECR_PUBLIC: refresh now, no re-synthesis', () => {
    const [blocked] = diagnosed(true, false);
    expect(blocked?.cause).toBe('registry-not-in-secret');
    expect(blocked?.detail).toContain('not public.ecr.aws; the bundle is configured with it');
  });

  test("without ECR_PUBLIC a public.ecr.aws pull is anonymous, not the Secret's: no blocked pod reported", () => {
    expect(diagnosed(false, false)).toEqual([]);
  });
});
