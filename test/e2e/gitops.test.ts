// The GitOps examples against the real CRDs (Argo CD, Flux; from their Go modules) on the real
// API server with strict field validation, and the prod overlay built by kubectl's kustomize and
// applied. A bundle rendered for each tool applies the same way.
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { parseAllDocuments } from 'yaml';
import { beforeAll, describe, expect, test } from 'vitest';
import { bundleObject, cluster, e2eAvailable, installCrds, loadBundle, synthBundle } from './harness/index.js';
import { REPO_ROOT } from './harness/bundle.js';

const EXAMPLES = join(REPO_ROOT, 'examples');
const EXAMPLE_FILES = [
  'argocd/application.yaml',
  'flux/git-repository.yaml',
  'flux/ecr-k8s-credentials.yaml',
  'flux/oci-repository.yaml',
  'flux/helm-repository.yaml',
];

interface Loose {
  kind: string;
  metadata: { name: string; namespace?: string; labels?: Record<string, string>; annotations?: Record<string, string> };
  spec?: Record<string, unknown>;
}

describe.skipIf(!e2eAvailable.ok)('GitOps examples', () => {
  const kubectl = (args: string[], input?: string) => cluster().kubectl(args, { input, allowFail: true });

  beforeAll(async () => {
    await installCrds();
    for (const namespace of ['argocd', 'flux-system']) {
      await cluster().kubectl(['apply', '-f', '-'], {
        input: JSON.stringify({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: namespace } }),
      });
    }
  });

  test.each(EXAMPLE_FILES)('%s is accepted by its CRD with strict field validation', async (file) => {
    const result = await kubectl(['apply', '--dry-run=server', '--validate=strict', '-f', join(EXAMPLES, file)]);
    expect({ code: result.code, stderr: result.stderr }).toEqual({ code: 0, stderr: '' });
    expect(result.stdout).toMatch(/created \(server dry run\)/);
  });

  test.each(EXAMPLE_FILES)('%s with a misspelt field is rejected (the schema is enforced)', async (file) => {
    const [object] = parseAllDocuments(readFileSync(join(EXAMPLES, file), 'utf8')).map((doc) => doc.toJS() as Loose);
    const broken = { ...object, spec: { ...object?.spec, intervall: '5m' } };
    const result = await kubectl(['apply', '--dry-run=server', '--validate=strict', '-f', '-'], JSON.stringify(broken));
    expect(result.code).not.toBe(0);
    expect(result.stderr).toContain('unknown field "spec.intervall"');
  });

  test.each(['argocd', 'flux'])('a bundle rendered with --gitops %s applies with strict validation', async (gitops) => {
    const namespace = `ecr-gitops-${gitops}`;
    const dir = await synthBundle([
      '--namespace',
      namespace,
      '--service-account',
      `${namespace}-sa`,
      '--gitops',
      gitops,
    ]);
    const job = bundleObject(loadBundle(dir), 'Job') as Loose;
    const applied = await kubectl(['apply', '--server-side', '--validate=strict', '-k', dir]);
    expect({ code: applied.code, stderr: applied.stderr }).toEqual({ code: 0, stderr: '' });
    const live = JSON.parse(
      (await cluster().kubectl(['get', 'job', job.metadata.name, '-n', namespace, '-o', 'json'])).stdout,
    ) as Loose;
    expect(live.metadata.annotations).toMatchObject(job.metadata.annotations ?? { missing: 'annotations' });
  });
});

describe.skipIf(!e2eAvailable.ok)('examples/overlays/prod', () => {
  // The overlay applies dist's names into dist's namespace, which other test files use. A
  // wrapper moves it into a namespace and names of its own; the overlay itself is unchanged.
  const NAMESPACE = 'ecr-overlay-e2e';
  let built: Loose[];

  beforeAll(async () => {
    const wrapper = mkdtempSync(join(tmpdir(), 'overlay-'));
    writeFileSync(
      join(wrapper, 'kustomization.yaml'),
      JSON.stringify({
        resources: [relative(wrapper, join(EXAMPLES, 'overlays', 'prod'))],
        namespace: NAMESPACE,
        nameSuffix: '-e2e',
      }),
    );
    const { stdout } = await cluster().kubectl(['kustomize', wrapper]);
    built = parseAllDocuments(stdout).map((doc) => doc.toJS() as Loose);
    await cluster().kubectl(['apply', '--server-side', '--validate=strict', '-k', wrapper]);
  });

  test('builds with kubectl kustomize from dist as its base', async () => {
    const { stdout } = await cluster().kubectl(['kustomize', join(EXAMPLES, 'overlays', 'prod')]);
    const kinds = parseAllDocuments(stdout).map((doc) => (doc.toJS() as Loose).kind);
    expect(kinds.sort()).toEqual(
      loadBundle(join(REPO_ROOT, 'dist'))
        .map((object) => object.kind)
        .sort(),
    );
  });

  test('the applied CronJob runs on the overlay schedule with the pinned digest', async () => {
    const cronJob = JSON.parse(
      (await cluster().kubectl(['get', 'cronjob', 'ecr-credential-refresh-e2e', '-n', NAMESPACE, '-o', 'json'])).stdout,
    ) as {
      spec: { schedule: string; jobTemplate: { spec: { template: { spec: { containers: { image: string }[] } } } } };
    };
    expect(cronJob.spec.schedule).toBe('30 */4 * * *');
    expect(cronJob.spec.jobTemplate.spec.template.spec.containers[0]?.image).toBe(
      `alpine/k8s@sha256:${'0'.repeat(64)}`,
    );
  });

  test('the first-run Job gets the digest too, and every object the extra label', async () => {
    const job = built.find((object) => object.kind === 'Job') as Loose;
    const live = JSON.parse(
      (await cluster().kubectl(['get', 'job', job.metadata.name, '-n', NAMESPACE, '-o', 'json'])).stdout,
    ) as { spec: { template: { spec: { containers: { image: string }[] } } } };
    expect(live.spec.template.spec.containers[0]?.image).toBe(`alpine/k8s@sha256:${'0'.repeat(64)}`);
    const labelled = await cluster().kubectl([
      ...['get', 'namespace,serviceaccount,role,rolebinding,networkpolicy,configmap,cronjob,job'],
      ...['-n', NAMESPACE, '-l', 'team=platform', '-o', 'name'],
    ]);
    expect(labelled.stdout.trim().split('\n')).toHaveLength(
      built.filter((object) => !['ClusterRole', 'ClusterRoleBinding'].includes(object.kind)).length,
    );
    expect(built.every((object) => object.metadata.labels?.team === 'platform')).toBe(true);
  });
});
