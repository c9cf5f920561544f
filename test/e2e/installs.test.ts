// Two installs side by side in one real cluster, and the size limits of the pod's environment:
// the kernel's cap on one environment string (busybox started for real) and the annotation a
// client-side kubectl apply keeps (the real API server).
import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { afterAll, describe, expect, test } from 'vitest';
import { ENV_LISTS_LIMIT, ENV_STRING_LIMIT } from '../../src/config.js';
import {
  DIST_DIR,
  bundleObject,
  busyboxPath,
  cluster,
  e2eAvailable,
  loadBundle,
  renderedSettings,
  runBusyboxScript,
  scriptEnv,
  startMoto,
  synthBundle,
  writeScriptFiles,
  type BundleObject,
} from './harness/index.js';

const SERVICE_ACCOUNT = 'ecr-credential-updater';
const SECRET = 'ecr-registry-credentials';
const REGION = 'eu-west-1';
const ACCESS_KEY = {
  AWS_ACCESS_KEY_ID: 'AKIAIOSFODNN7EXAMPLE',
  AWS_SECRET_ACCESS_KEY: 'wJalrXUtnFEMI/K7MDENGbPxRfiCYEXAMPLEKEY',
};

function kubectl(...args: Parameters<ReturnType<typeof cluster>['kubectl']>) {
  return cluster().kubectl(...args);
}

const stops: (() => Promise<void>)[] = [];
afterAll(async () => {
  await Promise.all(stops.map((stop) => stop()));
});

/** Runs the bundle's script under busybox as the install's own ServiceAccount, against moto. */
async function runInstall(dir: string, namespace: string, endpoint: string) {
  const objects = loadBundle(dir);
  const script = writeScriptFiles(objects, mkdtempSync(join(tmpdir(), 'installs-script-')));
  const env = scriptEnv({
    ...renderedSettings(bundleObject(objects, 'CronJob')),
    ...ACCESS_KEY,
    AWS_REGION: REGION,
    AWS_ENDPOINT_URL: endpoint,
    KUBECONFIG: await cluster().serviceAccountKubeconfig(namespace, SERVICE_ACCOUNT),
  });
  return runBusyboxScript(script, env);
}

/** The log lines of a run that report an error, so a failed expectation shows why. */
function errorLines(stdout: string): string[] {
  return stdout.split('\n').filter((line) => line.startsWith('level=error'));
}

async function secretNamespaces(): Promise<string[]> {
  const { stdout } = await kubectl([
    ...['get', 'secrets', '-A', '--field-selector', `metadata.name=${SECRET}`],
    ...['-o', 'jsonpath={range .items[*]}{.metadata.namespace}{"\\n"}{end}'],
  ]);
  return stdout.trim().split('\n').filter(Boolean).sort();
}

describe.skipIf(!e2eAvailable.ok)('two installs in one cluster', () => {
  test('bundles in two namespaces apply side by side, keep their own bindings, and both refresh their namespaces', async () => {
    const installs = [
      { namespace: 'installs-ecr-a', targets: 'installs-team-a-*' },
      { namespace: 'installs-ecr-b', targets: 'installs-team-b-*' },
    ];
    const dirs: string[] = [];
    for (const install of installs) {
      const dir = await synthBundle(['--namespace', install.namespace, '--target-namespaces', install.targets]);
      const applied = await kubectl(['apply', '--server-side', '--validate=strict', '-f', dir]);
      expect(applied.stderr).toBe('');
      dirs.push(dir);
    }
    for (const ns of ['installs-team-a-1', 'installs-team-b-1']) await kubectl(['create', 'namespace', ns]);

    // Applying the second bundle must not have re-pointed the first one's binding.
    for (const install of installs) {
      const subject = await kubectl([
        ...['get', 'clusterrolebinding', `ecr-k8s-credentials-${install.namespace}`],
        ...['-o', 'jsonpath={.roleRef.name} {.subjects[0].namespace}/{.subjects[0].name}'],
      ]);
      expect(subject.stdout).toBe(`ecr-k8s-credentials-${install.namespace} ${install.namespace}/${SERVICE_ACCOUNT}`);
    }

    const moto = await startMoto();
    stops.push(moto.stop);
    for (const [index, install] of installs.entries()) {
      const result = await runInstall(dirs[index] ?? '', install.namespace, moto.endpoint);
      const target = install.targets.replace('*', '1');
      expect({ code: result.code, stderr: result.stderr, errors: errorLines(result.stdout) }).toEqual({
        code: 0,
        stderr: '',
        errors: [],
      });
      expect(result.stdout).toMatch(new RegExp(`event=namespace namespace=${target} result=updated`));
      expect(result.stdout).toMatch(/event=summary .*selected=1 updated=1 /);
    }
    expect((await secretNamespaces()).filter((ns) => ns.startsWith('installs-team-'))).toEqual([
      'installs-team-a-1',
      'installs-team-b-1',
    ]);
  });
});

describe.skipIf(!e2eAvailable.ok)('upgrading from the bundle that named them ecr-credential-updater', () => {
  test('kubectl apply of the new bundle leaves the old ClusterRole and binding; the README line deletes them', async () => {
    // What the previous bundle applied: the same ClusterRole and binding, named after the
    // ServiceAccount.
    const objects = loadBundle(DIST_DIR);
    const previous = ['ClusterRole', 'ClusterRoleBinding'].map((kind) => {
      const object = structuredClone(bundleObject(objects, kind));
      object.metadata = { name: SERVICE_ACCOUNT, labels: { 'app.kubernetes.io/part-of': 'ecr-k8s-credentials' } };
      if (kind === 'ClusterRoleBinding') (object.roleRef as { name: string }).name = SERVICE_ACCOUNT;
      return object;
    });
    const input = JSON.stringify({ apiVersion: 'v1', kind: 'List', items: previous });
    expect(await kubectl(['apply', '--server-side', '-f', '-'], { input })).toMatchObject({ code: 0 });
    expect(await kubectl(['apply', '--server-side', '--validate=strict', '-f', DIST_DIR])).toMatchObject({ code: 0 });

    const rbac = async () =>
      (await kubectl(['get', 'clusterrole,clusterrolebinding', '-o', 'name'])).stdout
        .split('\n')
        .filter((name) => /(ecr-credential-updater|ecr-k8s-credentials-ecr-updater)$/.test(name))
        .sort();
    expect(await rbac()).toEqual([
      'clusterrole.rbac.authorization.k8s.io/ecr-credential-updater',
      'clusterrole.rbac.authorization.k8s.io/ecr-k8s-credentials-ecr-updater',
      'clusterrolebinding.rbac.authorization.k8s.io/ecr-credential-updater',
      'clusterrolebinding.rbac.authorization.k8s.io/ecr-k8s-credentials-ecr-updater',
    ]);
    // README, "Several installs in one cluster":
    await kubectl(['delete', 'clusterrolebinding,clusterrole', 'ecr-credential-updater']);
    expect(await rbac()).toEqual([
      'clusterrole.rbac.authorization.k8s.io/ecr-k8s-credentials-ecr-updater',
      'clusterrolebinding.rbac.authorization.k8s.io/ecr-k8s-credentials-ecr-updater',
    ]);
    const canList = await kubectl([
      ...['auth', 'can-i', 'list', 'namespaces'],
      `--as=system:serviceaccount:ecr-updater:${SERVICE_ACCOUNT}`,
    ]);
    expect(canList.stdout.trim()).toBe('yes');
  });
});

/**
 * Distinct namespace globs (at most 63 characters each, as the generator allows) that join with
 * spaces to exactly `bytes` bytes and match no namespace of the tests.
 */
function globsOfLength(prefix: string, bytes: number): string[] {
  const globs: string[] = [];
  let left = bytes + 1; // every glob takes its length plus a separator; the last has none
  for (let index = 0; left > 0; index++) {
    const head = `${prefix}${index}-`;
    // The last glob takes what is left; an earlier one leaves room for a glob after it.
    const length = left - 1 <= 63 ? left - 1 : Math.min(63, left - 1 - 21);
    if (length < head.length) throw new Error(`cannot fill ${left} bytes with a glob starting ${head}`);
    globs.push(head.padEnd(length, 'x'));
    left -= length + 1;
  }
  return globs;
}

/** Renders a bundle from a config file: lists this long do not fit on a command line. */
async function synthFromConfig(namespace: string, config: Record<string, unknown>): Promise<string> {
  const path = join(mkdtempSync(join(tmpdir(), 'installs-config-')), 'ecr.yaml');
  writeFileSync(path, stringify({ namespace, ...config }));
  return synthBundle(['--config', path]);
}

function containerEnv(cronJob: BundleObject): { name: string; value?: string }[] {
  const spec = cronJob.spec as {
    jobTemplate: { spec: { template: { spec: { containers: { env: { name: string; value?: string }[] }[] } } } };
  };
  return spec.jobTemplate.spec.template.spec.containers[0]?.env ?? [];
}

describe.skipIf(!e2eAvailable.ok)('the environment size limits', () => {
  const variable = 'ECR_EXCLUDE_NAMESPACES';
  // NAME=value and the terminating NUL make the kernel's count.
  const atLimit = ENV_STRING_LIMIT - variable.length - 2;

  test('a variable at the limit the generator allows starts busybox; one byte more fails with E2BIG', () => {
    const busybox = join(busyboxPath(), 'sh');
    const start = (value: string) =>
      spawnSync(busybox, ['-c', `printf %s "\${#${variable}}"`], { env: { [variable]: value }, encoding: 'utf8' });
    const fits = start('x'.repeat(atLimit));
    expect({ error: fits.error?.message, stdout: fits.stdout }).toEqual({ error: undefined, stdout: String(atLimit) });
    const over = start('x'.repeat(atLimit + 1));
    expect(over.error).toMatchObject({ code: 'E2BIG' });
  });

  test('a bundle at both limits applies client-side, and its script runs with the rendered lists', async () => {
    const namespace = 'installs-size';
    const exclude = globsOfLength('installs-ex', atLimit);
    // The target list takes what is left of the lists' total, less the one real target.
    const target = ['installs-size-app', ...globsOfLength('installs-tg', ENV_LISTS_LIMIT - atLimit - 18)];
    const dir = await synthFromConfig(namespace, { 'exclude-namespaces': exclude, 'target-namespaces': target });
    const env = containerEnv(bundleObject(loadBundle(dir), 'CronJob'));
    const value = (name: string) => env.find((entry) => entry.name === name)?.value ?? '';
    expect(Buffer.byteLength(`${variable}=${value(variable)}`) + 1).toBe(ENV_STRING_LIMIT);
    expect(value(variable).length + value('ECR_TARGET_NAMESPACES').length).toBe(ENV_LISTS_LIMIT);

    const applied = await kubectl(['apply', '--validate=strict', '-f', dir], { allowFail: true });
    expect({ code: applied.code, stderr: applied.stderr }).toEqual({ code: 0, stderr: '' });

    await kubectl(['create', 'namespace', 'installs-size-app']);
    const moto = await startMoto();
    stops.push(moto.stop);
    const result = await runInstall(dir, namespace, moto.endpoint);
    expect({ code: result.code, stderr: result.stderr, errors: errorLines(result.stdout) }).toEqual({
      code: 0,
      stderr: '',
      errors: [],
    });
    expect(result.stdout).toMatch(/event=namespace namespace=installs-size-app result=updated/);
  });

  test('control: the same CronJob with its exclude list twice over (which synth refuses) fails client-side apply', async () => {
    const dir = await synthFromConfig('installs-size-control', {
      'exclude-namespaces': globsOfLength('installs-ex', atLimit),
    });
    const cronJob = bundleObject(loadBundle(dir), 'CronJob');
    const env = containerEnv(cronJob);
    const exclude = env.find((entry) => entry.name === variable);
    env.push({ name: 'ECR_TARGET_NAMESPACES', value: exclude?.value ?? '' });
    await kubectl(['create', 'namespace', 'installs-size-control']);
    const applied = await kubectl(['apply', '-f', '-'], { input: JSON.stringify(cronJob), allowFail: true });
    expect(applied.code).not.toBe(0);
    expect(applied.stderr).toContain('metadata.annotations: Too long');
  });
});
