// --argocd-repo-creds against the real API server: the script from a rendered bundle, run as its
// ServiceAccount with only the bundle's RBAC, writes Argo CD's repo-creds Secrets (one for Helm
// OCI charts, one for OCI sources, per registry) into the `argocd` namespace and nowhere else.
// No Argo CD runs here: what Argo CD reads of them is checked against its v3.6.1 code, cited
// below, by rebuilding its URL match on the Secrets written.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import {
  accountingErrors,
  bundleObject,
  cluster,
  e2eAvailable,
  loadBundle,
  parseLogfmt,
  renderedSettings,
  runBusyboxScript,
  scriptEnv,
  startMoto,
  synthBundle,
  writeScriptFiles,
  type BundleObject,
  type Moto,
} from './harness/index.js';

const NAMESPACE = 'ecr-argo';
const SERVICE_ACCOUNT = 'ecr-argo-updater';
const ARGOCD = 'argocd';
const OWN = '123456789012.dkr.ecr.eu-west-1.amazonaws.com';
const EXTRA = '210987654321.dkr.ecr.eu-west-1.amazonaws.com';
const NAMES = [0, 1].flatMap((index) => [
  `ecr-registry-credentials-argocd-helm-${index}`,
  `ecr-registry-credentials-argocd-oci-${index}`,
]);

interface RepoCreds {
  metadata: { name: string; labels: Record<string, string>; managedFields: { manager: string }[] };
  type: string;
  data: Record<string, string>;
}

const decode = (value: string | undefined): string => Buffer.from(value ?? '', 'base64').toString('utf8');

/**
 * Argo CD v3.6.1's choice of credentials for a repository URL: among the Secrets labelled
 * repo-creds, the one whose `url` is the longest prefix of the repository's, both normalised
 * (util/db/repository_secrets.go, getRepositoryCredentialIndex; util/git/git.go, NormalizeGitURL:
 * lower-cased, trimmed, ".git" cut; the URL parse leaves these URLs as they are).
 */
function argocdCredsFor(repoURL: string, secrets: readonly RepoCreds[]): RepoCreds | undefined {
  const normalize = (url: string) =>
    url
      .trim()
      .toLowerCase()
      .replace(/\.git$/, '');
  const repo = normalize(repoURL);
  return secrets
    .filter((secret) => secret.metadata.labels['argocd.argoproj.io/secret-type'] === 'repo-creds')
    .filter((secret) => repo.startsWith(normalize(decode(secret.data.url))))
    .sort((a, b) => decode(b.data.url).length - decode(a.data.url).length)[0];
}

describe.skipIf(!e2eAvailable.ok)('--argocd-repo-creds argocd', () => {
  let objects: BundleObject[];
  let moto: Moto;
  let script: string;
  let settings: Record<string, string>;

  const kubectl = (args: string[], input?: string) => cluster().kubectl(args, { input });

  async function repoCreds(): Promise<RepoCreds[]> {
    const out = await kubectl(['get', 'secrets', '-n', ARGOCD, '--show-managed-fields', '-o', 'json']);
    return (JSON.parse(out.stdout) as { items: RepoCreds[] }).items.filter((secret) =>
      NAMES.includes(secret.metadata.name),
    );
  }

  async function refresh(extra: Record<string, string> = {}) {
    const run = await runBusyboxScript(
      script,
      scriptEnv({
        ...settings,
        AWS_ACCESS_KEY_ID: 'AKIAIOSFODNN7EXAMPLE',
        AWS_SECRET_ACCESS_KEY: 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY',
        AWS_REGION: 'eu-west-1',
        AWS_ACCOUNT_ID: '123456789012',
        AWS_ENDPOINT_URL: moto.endpoint,
        KUBECONFIG: await cluster().serviceAccountKubeconfig(NAMESPACE, SERVICE_ACCOUNT),
        ...extra,
      }),
    );
    expect(accountingErrors(run.stdout)).toEqual([]);
    return run;
  }

  beforeAll(async () => {
    await kubectl(['create', 'namespace', ARGOCD]);
    await kubectl(['create', 'namespace', 'argo-app']);
    // Argo CD's own Secret: the updater must not be able to touch it.
    await kubectl(['create', 'secret', 'generic', 'argocd-secret', '-n', ARGOCD, '--from-literal=admin.password=x']);
    const dir = await synthBundle([
      ...['--namespace', NAMESPACE, '--service-account', SERVICE_ACCOUNT, '--no-initial-job'],
      ...['--target-namespaces', 'argo-app', '--registry', EXTRA, '--argocd-repo-creds', ARGOCD],
    ]);
    objects = loadBundle(dir);
    await kubectl(['apply', '--server-side', '--validate=strict', '-f', dir]);
    script = writeScriptFiles(objects, mkdtempSync(join(tmpdir(), 'argocd-script-')));
    settings = renderedSettings(bundleObject(objects, 'CronJob'));
    moto = await startMoto();
  });

  afterAll(async () => {
    await moto.stop();
  });

  test('the bundle: a Role in argocd for exactly the repo-creds names, create and patch only', () => {
    expect(settings.ECR_ARGOCD_NAMESPACE).toBe(ARGOCD);
    const role = objects.find((object) => object.kind === 'Role' && object.metadata.namespace === ARGOCD);
    expect(role?.rules).toEqual([
      { apiGroups: [''], resources: ['secrets'], resourceNames: NAMES, verbs: ['create', 'patch'] },
    ]);
  });

  test('a run writes one Helm OCI and one OCI repo-creds Secret per registry, each a result line', async () => {
    const run = await refresh();
    expect({ code: run.code, stderr: run.stderr }).toEqual({ code: 0, stderr: '' });
    const results = parseLogfmt(run.stdout).filter((record) => record.event === 'argocd-repo-creds');
    expect(results.map((record) => [record.secret, record.result]).sort()).toEqual(
      NAMES.map((name) => [name, 'updated']).sort(),
    );
    expect(run.stdout).toMatch(/event=summary .*argocd_updated=4 argocd_failed=0/);

    const secrets = await repoCreds();
    const fields = Object.fromEntries(
      secrets.map((secret) => [
        secret.metadata.name,
        Object.fromEntries(Object.entries(secret.data).map(([key, value]) => [key, decode(value)])),
      ]),
    );
    // moto's token for account 123456789012 is "AWS:123456789012-auth-token"; one token serves the
    // region's registries, so both hosts get it.
    const password = '123456789012-auth-token';
    expect(fields).toEqual({
      [NAMES[0] as string]: { url: OWN, username: 'AWS', password, type: 'helm', enableOCI: 'true' },
      [NAMES[1] as string]: { url: `oci://${OWN}`, username: 'AWS', password, type: 'oci' },
      [NAMES[2] as string]: { url: EXTRA, username: 'AWS', password, type: 'helm', enableOCI: 'true' },
      [NAMES[3] as string]: { url: `oci://${EXTRA}`, username: 'AWS', password, type: 'oci' },
    });
    for (const secret of secrets) {
      expect(secret.metadata.labels['argocd.argoproj.io/secret-type']).toBe('repo-creds');
      expect(secret.metadata.managedFields.map((entry) => entry.manager)).toEqual(['ecr-k8s-credentials']);
    }
  });

  test.each([
    // Helm charts in an OCI registry: repoURL without a scheme, the chart named apart.
    [`${OWN}/charts`, 0, 'helm'],
    [`${EXTRA}/team/charts`, 2, 'helm'],
    // Argo CD 3 OCI sources.
    [`oci://${OWN}/platform/manifests`, 1, 'oci'],
    [`OCI://${EXTRA.toUpperCase()}/apps`, 3, 'oci'],
  ] as const)('Argo CD would pick the right Secret for %s', async (repoURL, index, type) => {
    const chosen = argocdCredsFor(repoURL, await repoCreds());
    expect(chosen?.metadata.name).toBe(NAMES[index]);
    expect(decode(chosen?.data.type)).toBe(type);
  });

  test('RBAC: nothing wider than the repo-creds names in argocd', async () => {
    const asUpdater = await cluster().serviceAccountKubeconfig(NAMESPACE, SERVICE_ACCOUNT);
    const canI = async (...args: string[]) =>
      (await cluster().kubectl(['auth', 'can-i', ...args], { kubeconfig: asUpdater, allowFail: true })).stdout.trim();
    expect(await canI('patch', `secret/${NAMES[0] as string}`, '-n', ARGOCD)).toBe('yes');
    expect(await canI('patch', 'secret/argocd-secret', '-n', ARGOCD)).toBe('no');
    expect(await canI('get', 'secret/argocd-secret', '-n', ARGOCD)).toBe('no');
    expect(await canI('get', `secret/${NAMES[0] as string}`, '-n', ARGOCD)).toBe('no');
    expect(await canI('list', 'secrets', '-n', ARGOCD)).toBe('no');
    expect(await canI('delete', `secret/${NAMES[0] as string}`, '-n', ARGOCD)).toBe('no');
    expect(await canI('patch', `secret/${NAMES[0] as string}`, '-n', 'argo-app')).toBe('no');
  });

  test('a same-named Secret of another owner is a conflict (exit 5), the others are written; adopting takes it over', async () => {
    const name = NAMES[3] as string;
    await kubectl(['delete', 'secret', name, '-n', ARGOCD]);
    await kubectl(['create', 'secret', 'generic', name, '-n', ARGOCD, '--from-literal=url=oci://elsewhere']);
    const run = await refresh();
    expect(run.code).toBe(5);
    expect(run.stdout).toMatch(
      new RegExp(
        `event=argocd-repo-creds namespace=argocd secret=${name} result=conflict reason="Secret ${name} belongs to another field manager`,
      ),
    );
    expect(run.stdout).toMatch(/event=summary .*argocd_updated=3 argocd_failed=1/);
    const kept = (await repoCreds()).find((secret) => secret.metadata.name === name);
    expect(decode(kept?.data.url)).toBe('oci://elsewhere');

    const adopted = await refresh({ ECR_ADOPT_EXISTING: 'true' });
    expect(adopted.code).toBe(0);
    const taken = (await repoCreds()).find((secret) => secret.metadata.name === name);
    expect(decode(taken?.data.url)).toBe(`oci://${EXTRA}`);
  });

  test("with ECR_PUBLIC=true the pull secret gains public.ecr.aws, and Argo CD still gets exactly the private registries' repo-creds", async () => {
    const run = await refresh({ ECR_PUBLIC: 'true', ECR_ADOPT_EXISTING: 'true' });
    expect({ code: run.code, stderr: run.stderr }).toEqual({ code: 0, stderr: '' });
    const results = parseLogfmt(run.stdout).filter((record) => record.event === 'argocd-repo-creds');
    expect(results.map((record) => [record.secret, record.result]).sort()).toEqual(
      NAMES.map((name) => [name, 'updated']).sort(),
    );
    const pull = await kubectl(['get', 'secret', 'ecr-registry-credentials', '-n', 'argo-app', '-o', 'json']);
    const data = (JSON.parse(pull.stdout) as { data: Record<string, string> }).data['.dockerconfigjson'] ?? '';
    expect(Object.keys((JSON.parse(decode(data)) as { auths: object }).auths)).toContain('public.ecr.aws');
  });
});
