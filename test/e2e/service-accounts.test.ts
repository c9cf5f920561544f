// --patch-service-accounts against the real API server: the script from a rendered bundle, run
// as its ServiceAccount with only the bundle's RBAC, appends the pull secret to the named
// ServiceAccounts' imagePullSecrets. kube-controller-manager makes each namespace's `default`.
import { existsSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import {
  accountingErrors,
  bundleObject,
  cluster,
  e2eAvailable,
  loadBundle,
  runBusyboxScript,
  scriptEnv,
  startMoto,
  synthBundle,
  writeScriptFiles,
  type BundleObject,
  type Moto,
} from './harness/index.js';

const NAMESPACE = 'ecr-sa';
const SERVICE_ACCOUNT = 'ecr-sa-updater';
const SECRET = 'ecr-registry-credentials';

interface Account {
  metadata: { resourceVersion: string };
  imagePullSecrets?: { name: string }[];
}

describe.skipIf(!e2eAvailable.ok)('--patch-service-accounts default,builder', () => {
  let objects: BundleObject[];
  let moto: Moto;
  let script: string;

  const kubectl = (args: string[], input?: string) => cluster().kubectl(args, { input });

  async function account(namespace: string, name: string): Promise<Account> {
    return JSON.parse(
      (await kubectl(['get', 'serviceaccount', name, '-n', namespace, '-o', 'json'])).stdout,
    ) as Account;
  }

  /** One run; every run is checked for one result line per namespace and a summary that adds up. */
  async function refresh(
    extra: Record<string, string> = {},
  ): Promise<{ code: number; stdout: string; stderr: string }> {
    const run = await runBusyboxScript(
      script,
      scriptEnv({
        AWS_ACCESS_KEY_ID: 'AKIAIOSFODNN7EXAMPLE',
        AWS_SECRET_ACCESS_KEY: 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY',
        AWS_REGION: 'eu-west-1',
        AWS_ACCOUNT_ID: '123456789012',
        AWS_ENDPOINT_URL: moto.endpoint,
        ECR_TARGET_NAMESPACES: 'sa-*',
        ECR_PATCH_SERVICE_ACCOUNTS: 'default builder',
        KUBECONFIG: await cluster().serviceAccountKubeconfig(NAMESPACE, SERVICE_ACCOUNT),
        ...extra,
      }),
    );
    expect(accountingErrors(run.stdout)).toEqual([]);
    return run;
  }

  beforeAll(async () => {
    const dir = await synthBundle([
      ...['--namespace', NAMESPACE, '--service-account', SERVICE_ACCOUNT, '--no-initial-job'],
      ...['--patch-service-accounts', 'default,builder'],
    ]);
    objects = loadBundle(dir);
    await kubectl(['apply', '--server-side', '--validate=strict', '-f', dir]);
    script = writeScriptFiles(objects, mkdtempSync(join(tmpdir(), 'sa-script-')));
    moto = await startMoto();
    for (const ns of ['sa-1', 'sa-2']) {
      await kubectl(['create', 'namespace', ns]);
      await kubectl(['wait', '--for=create', 'serviceaccount/default', '-n', ns, '--timeout=60s']);
    }
    // Someone else's account with an entry of theirs; sa-2 has no `builder` at all.
    await kubectl(
      ['create', '-f', '-'],
      JSON.stringify({
        apiVersion: 'v1',
        kind: 'ServiceAccount',
        metadata: { name: 'builder', namespace: 'sa-1' },
        imagePullSecrets: [{ name: 'team-registry' }, { name: 'mirror' }],
      }),
    );
  });

  afterAll(async () => {
    await moto.stop();
  });

  test('RBAC: get and patch on the named accounts only, as the bundle renders it', () => {
    expect(bundleObject(objects, 'ClusterRole').rules).toContainEqual({
      apiGroups: [''],
      resources: ['serviceaccounts'],
      resourceNames: ['default', 'builder'],
      verbs: ['get', 'patch'],
    });
  });

  test('the Secret is appended after the entries of others, in their order; a missing account is skipped, not created', async () => {
    const run = await refresh();
    expect({ code: run.code, stderr: run.stderr }).toEqual({ code: 0, stderr: '' });
    expect((await account('sa-1', 'default')).imagePullSecrets).toEqual([{ name: SECRET }]);
    expect((await account('sa-1', 'builder')).imagePullSecrets).toEqual([
      { name: 'team-registry' },
      { name: 'mirror' },
      { name: SECRET },
    ]);
    expect((await account('sa-2', 'default')).imagePullSecrets).toEqual([{ name: SECRET }]);
    expect(run.stdout).toContain('event=serviceaccount namespace=sa-1 name=builder result=patched');
    expect(run.stdout).toMatch(
      /event=serviceaccount namespace=sa-2 name=builder result=skipped reason="ServiceAccount builder not found/,
    );
    const missing = await kubectl([
      'get',
      'serviceaccount',
      'builder',
      '-n',
      'sa-2',
      '--ignore-not-found',
      '-o',
      'name',
    ]);
    expect(missing.stdout).toBe('');
  });

  test('a second run writes nothing: the resourceVersions stay', async () => {
    const before = await Promise.all([account('sa-1', 'default'), account('sa-1', 'builder')]);
    const run = await refresh();
    expect(run.code).toBe(0);
    const after = await Promise.all([account('sa-1', 'default'), account('sa-1', 'builder')]);
    expect(after.map((a) => a.metadata.resourceVersion)).toEqual(before.map((a) => a.metadata.resourceVersion));
    expect(run.stdout).toContain('event=serviceaccount namespace=sa-1 name=builder result=unchanged');
    expect(run.stdout).not.toContain('result=patched');
  });

  test('RBAC refuses the updater any other ServiceAccount', async () => {
    await kubectl(['create', 'serviceaccount', 'other', '-n', 'sa-1']);
    const asUpdater = await cluster().serviceAccountKubeconfig(NAMESPACE, SERVICE_ACCOUNT);
    for (const verb of [
      ['get', 'serviceaccount', 'other', '-n', 'sa-1'],
      [
        'patch',
        'serviceaccount',
        'other',
        '-n',
        'sa-1',
        '--type=json',
        '-p',
        '[{"op":"add","path":"/imagePullSecrets","value":[]}]',
      ],
    ]) {
      const out = await cluster().kubectl(verb, { kubeconfig: asUpdater, allowFail: true });
      expect(out.code).not.toBe(0);
      expect(out.stderr).toContain('forbidden');
    }
  });

  test('why not server-side apply: imagePullSecrets is an atomic list, and a forced apply replaces it whole', async () => {
    await kubectl(
      ['create', '-f', '-'],
      JSON.stringify({
        apiVersion: 'v1',
        kind: 'ServiceAccount',
        metadata: { name: 'ssa-probe', namespace: 'sa-1' },
        imagePullSecrets: [{ name: 'team-registry' }],
      }),
    );
    const applied = await cluster().kubectl(
      ['apply', '--server-side', '--force-conflicts', '--field-manager=probe', '-f', '-'],
      {
        input: JSON.stringify({
          apiVersion: 'v1',
          kind: 'ServiceAccount',
          metadata: { name: 'ssa-probe', namespace: 'sa-1' },
          imagePullSecrets: [{ name: SECRET }],
        }),
      },
    );
    expect(applied.code).toBe(0);
    expect((await account('sa-1', 'ssa-probe')).imagePullSecrets).toEqual([{ name: SECRET }]);
  });

  test('a ServiceAccount read the API server refuses (its RBAC rule removed) is failed with the reason, never skipped, and the run exits 5', async () => {
    const role = bundleObject(objects, 'ClusterRole') as BundleObject & { rules: { resources: string[] }[] };
    const without = { ...role, rules: role.rules.filter((rule) => !rule.resources.includes('serviceaccounts')) };
    await kubectl(['apply', '--server-side', '--force-conflicts', '-f', '-'], JSON.stringify(without));
    try {
      const asUpdater = `system:serviceaccount:${NAMESPACE}:${SERVICE_ACCOUNT}`;
      // The authorizer's cache follows the role within a moment.
      for (let i = 0; i < 50; i++) {
        const can = await cluster().kubectl(
          ['auth', 'can-i', 'get', 'serviceaccount/default', '-n', 'sa-1', '--as', asUpdater],
          {
            allowFail: true,
          },
        );
        if (can.stdout.trim() === 'no') break;
        await new Promise((resolve) => setTimeout(resolve, 200));
      }
      const run = await refresh();
      expect(run.code).toBe(5);
      for (const ns of ['sa-1', 'sa-2']) {
        for (const name of ['default', 'builder']) {
          expect(run.stdout).toMatch(
            new RegExp(
              `^level=error event=serviceaccount namespace=${ns} name=${name} result=failed reason="read: HTTP 403: serviceaccounts \\\\"${name}\\\\" is forbidden: `,
              'm',
            ),
          );
        }
      }
      expect(run.stdout).not.toMatch(/event=serviceaccount .*result=skipped/);
      expect(run.stdout).toMatch(/event=summary .*failed=0 .*accounts_failed=4 .*exit_code=5$/m);
    } finally {
      await kubectl(['apply', '--server-side', '--force-conflicts', '-f', '-'], JSON.stringify(role));
    }
  });

  test('an account changed between its read and its patch: the guarded patch is refused, the account read again and patched, the change kept', async () => {
    await kubectl(['create', 'namespace', 'sa-race']);
    await kubectl(['wait', '--for=create', 'serviceaccount/default', '-n', 'sa-race', '--timeout=60s']);
    // jq reads the accounts the script just fetched; right after that first read, someone else
    // annotates sa-race's default account, so the resourceVersion the patch tests is stale.
    const shimDir = mkdtempSync(join(tmpdir(), 'sa-race-'));
    const base = scriptEnv({});
    const [busybox, tools] = (base.PATH ?? '').split(':');
    const marker = join(shimDir, 'changed');
    writeFileSync(
      join(shimDir, 'jq'),
      [
        '#!/bin/sh',
        `"${join(tools ?? '', 'jq')}" "$@"`,
        'rc=$?',
        `case "$*" in *input_filename*) if [ ! -e "${marker}" ]; then : >"${marker}"`,
        `  KUBECONFIG="${cluster().adminKubeconfig}" "${join(tools ?? '', 'kubectl')}" annotate serviceaccount default -n sa-race e2e/touched=yes >/dev/null 2>&1; fi ;;`,
        'esac',
        'exit $rc',
        '',
      ].join('\n'),
      { mode: 0o755 },
    );
    const run = await refresh({ PATH: `${busybox}:${shimDir}:${tools}`, ECR_TARGET_NAMESPACES: 'sa-race' });
    expect(existsSync(marker)).toBe(true);
    expect(run.code).toBe(0);
    expect(run.stdout).toContain('event=serviceaccount namespace=sa-race name=default result=patched');
    const raced = JSON.parse(
      (await kubectl(['get', 'serviceaccount', 'default', '-n', 'sa-race', '-o', 'json'])).stdout,
    ) as Account & {
      metadata: { annotations?: Record<string, string> };
    };
    expect(raced.imagePullSecrets).toEqual([{ name: SECRET }]);
    expect(raced.metadata.annotations?.['e2e/touched']).toBe('yes');
  });
});
