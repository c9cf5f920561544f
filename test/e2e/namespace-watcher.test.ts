// The namespace watcher (--watch-namespaces): the rendered Deployment's command run under
// busybox ash as its ServiceAccount, with moto for ECR and the real API server's watch stream.
// The Deployment itself is applied too, so the real Deployment and ReplicaSet controllers make
// its Pod (Pending: no kubelet) under Pod Security "restricted".
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import {
  bundleObject,
  cluster,
  e2eAvailable,
  loadBundle,
  scriptEnv,
  startMoto,
  synthBundle,
  writeScriptFiles,
  renderedContainer,
  renderedSettings,
  type BundleObject,
  type Moto,
} from './harness/index.js';
import { requireContext } from './harness/available.js';
import { type ControlPlane, startControlPlane } from './harness/control-plane.js';
import { writeKubeconfig } from './harness/kubeconfig.js';
import { checkPrerequisites } from './harness/prerequisites.js';
import { run } from './harness/process.js';

const REPO_ROOT = fileURLToPath(new URL('../..', import.meta.url));

const NAMESPACE = 'ecr-watch';
const SERVICE_ACCOUNT = 'ecr-watch-updater';
const SECRET = 'ecr-registry-credentials';

async function secretExists(namespace: string): Promise<boolean> {
  const out = await cluster().kubectl(['get', 'secret', SECRET, '-n', namespace, '--ignore-not-found', '-o', 'name']);
  return out.stdout.trim() !== '';
}

/** Seconds until every namespace has the Secret; fails after `timeoutS`. */
async function secondsUntilCovered(namespaces: readonly string[], since: number, timeoutS: number): Promise<number> {
  const left = new Set(namespaces);
  while (left.size > 0) {
    if ((performance.now() - since) / 1000 > timeoutS) {
      throw new Error(
        `${left.size} namespace(s) without the Secret after ${timeoutS}s: ${[...left].slice(0, 5).join(' ')}`,
      );
    }
    const out = await cluster().kubectl([
      ...['get', 'secrets', '-A', '--field-selector', `metadata.name=${SECRET}`],
      ...['-o', 'jsonpath={range .items[*]}{.metadata.namespace}{"\\n"}{end}'],
    ]);
    for (const ns of out.stdout.split('\n')) left.delete(ns);
    if (left.size > 0) await new Promise((resolve) => setTimeout(resolve, 100));
  }
  return (performance.now() - since) / 1000;
}

async function createNamespaces(names: readonly string[]): Promise<void> {
  const docs = names.map((name) => JSON.stringify({ apiVersion: 'v1', kind: 'Namespace', metadata: { name } }));
  await cluster().kubectl(['create', '-f', '-'], { input: docs.join('\n---\n') });
}

describe.skipIf(!e2eAvailable.ok)('--watch-namespaces', () => {
  let objects: BundleObject[];
  let moto: Moto;
  let watcher: ChildProcess;
  let output = '';
  let heartbeatFile: string;
  let watcherScript: string;
  let watcherEnv: NodeJS.ProcessEnv;

  beforeAll(async () => {
    const dir = await synthBundle([
      ...['--namespace', NAMESPACE, '--service-account', SERVICE_ACCOUNT, '--region', 'eu-west-1'],
      ...['--watch-namespaces', '--target-namespaces', 'watch-*', '--exclude-namespaces', 'watch-skip-*'],
      ...['--patch-service-accounts', 'default'],
    ]);
    objects = loadBundle(dir);
    await cluster().kubectl(['apply', '--server-side', '--validate=strict', '-f', dir]);
    // Tokens that expire in 12 hours, as ECR's do, so the watcher keeps its token between batches.
    moto = await startMoto({ ecrTokenSeconds: 12 * 3600 });

    const deployment = bundleObject(objects, 'Deployment');
    const command = renderedContainer(deployment).command ?? [];
    if (command.at(-1) !== 'watch') throw new Error(`the Deployment does not run watch mode: ${command.join(' ')}`);
    const plain = renderedSettings(deployment);
    const script = writeScriptFiles(objects, mkdtempSync(join(tmpdir(), 'watcher-script-')));
    heartbeatFile = join(mkdtempSync(join(tmpdir(), 'watcher-hb-')), 'heartbeat');
    const env = scriptEnv({
      ...plain,
      AWS_ACCESS_KEY_ID: 'AKIAIOSFODNN7EXAMPLE',
      AWS_SECRET_ACCESS_KEY: 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY',
      AWS_ACCOUNT_ID: '123456789012',
      AWS_REGION: 'eu-west-1',
      AWS_ENDPOINT_URL: moto.endpoint,
      ECR_HEARTBEAT_FILE: heartbeatFile,
      // Watches end every 3 s here (300 s by default), so every test also crosses resumed watches.
      ECR_WATCH_TIMEOUT_SECONDS: '3',
      KUBECONFIG: await cluster().serviceAccountKubeconfig(NAMESPACE, SERVICE_ACCOUNT),
    });
    watcherScript = script;
    watcherEnv = env;
    watcher = spawn(requireContext().tools.busybox, ['ash', script, 'watch'], {
      env,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    watcher.stdout?.on('data', (chunk: Buffer) => (output += chunk.toString('utf8')));
    watcher.stderr?.on('data', (chunk: Buffer) => (output += chunk.toString('utf8')));
    const deadline = Date.now() + 30_000;
    while (!output.includes('event=watch listed=')) {
      if (Date.now() > deadline || watcher.exitCode !== null)
        throw new Error(`watcher did not start (exit ${String(watcher.exitCode)}):\n${output}`);
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  });

  afterAll(async () => {
    watcher.kill('SIGTERM');
    await moto.stop();
  });

  test('the Deployment gets its Pod from the real controllers, admitted by PSA restricted', async () => {
    const { kubectl } = cluster();
    const deadline = Date.now() + 60_000;
    let pods = '';
    while (pods === '' && Date.now() < deadline) {
      pods = (
        await kubectl([
          'get',
          'pods',
          '-n',
          NAMESPACE,
          '-l',
          'app.kubernetes.io/name=ecr-namespace-watcher',
          '-o',
          'name',
        ])
      ).stdout.trim();
      if (pods === '') await new Promise((resolve) => setTimeout(resolve, 250));
    }
    expect(pods).toMatch(/^pod\/ecr-namespace-watcher-/);
    const failed = await kubectl([
      ...['get', 'events', '-n', NAMESPACE, '--field-selector', 'reason=FailedCreate'],
      ...['-o', 'jsonpath={.items[*].message}'],
    ]);
    expect(failed.stdout).toBe('');
  });

  test('the ClusterRole grows by exactly watch on namespaces', () => {
    expect(bundleObject(objects, 'ClusterRole').rules).toEqual([
      { apiGroups: [''], resources: ['namespaces'], verbs: ['list', 'watch'] },
      { apiGroups: [''], resources: ['secrets'], resourceNames: [SECRET], verbs: ['create', 'patch'] },
      { apiGroups: [''], resources: ['serviceaccounts'], resourceNames: ['default'], verbs: ['get', 'patch'] },
    ]);
  });

  test('a namespace created after start has the Secret within 10 s, across resumed watches', async () => {
    // Longer than a watch's 3 s here: the stream this namespace arrives on is a resumed one.
    await new Promise((resolve) => setTimeout(resolve, 4_000));
    const started = performance.now();
    await createNamespaces(['watch-one']);
    const seconds = await secondsUntilCovered(['watch-one'], started, 10);
    console.log(`[namespace-watcher] 1 new namespace covered in ${seconds.toFixed(2)} s`);
    expect(seconds).toBeLessThan(10);
    // Its `default` ServiceAccount, made by kube-controller-manager a moment after the
    // namespace, is waited for and patched after the Secret is written.
    // Under load the account may not exist yet when the Secret does: read it as "not yet".
    type Account = { imagePullSecrets?: { name: string }[] };
    const readAccount = async (): Promise<Account> => {
      const args = ['get', 'serviceaccount', 'default', '-n', 'watch-one', '--ignore-not-found', '-o', 'json'];
      const { stdout } = await cluster().kubectl(args);
      return stdout.trim() === '' ? {} : (JSON.parse(stdout) as Account);
    };
    const accountDeadline = Date.now() + 15_000;
    let account = await readAccount();
    while (account.imagePullSecrets === undefined && Date.now() < accountDeadline) {
      await new Promise((resolve) => setTimeout(resolve, 250));
      account = await readAccount();
    }
    expect(account.imagePullSecrets).toEqual([{ name: SECRET }]);
    expect(statSync(heartbeatFile).mtimeMs).toBeGreaterThan(Date.now() - 5_000);
  });

  test('200 namespaces created at once are each updated exactly once in fewer than 20 batches; the excluded and the unselected one, both in those batches, get no Secret', async () => {
    const burst = Array.from({ length: 200 }, (_, i) => `watch-burst-${i + 1}`);
    const logStart = output.length;
    const started = performance.now();
    await createNamespaces([...burst, 'watch-skip-1', 'other-team']);
    const seconds = await secondsUntilCovered(burst, started, 120);
    console.log(`[namespace-watcher] 200 new namespaces covered in ${seconds.toFixed(2)} s`);
    // Every one of the 202 namespaces went through a finished batch (the batch line comes after
    // the batch's ServiceAccounts are patched), so what follows is the whole story, not a prefix.
    const batchedSoFar = () =>
      [...output.slice(logStart).matchAll(/event=batch namespaces=(\d+)/g)].reduce((sum, m) => sum + Number(m[1]), 0);
    const batchDeadline = Date.now() + 60_000;
    while (batchedSoFar() < 202) {
      if (Date.now() > batchDeadline) {
        throw new Error(
          `only ${batchedSoFar()} of 202 namespaces in finished batches after 60 s:\n${output.slice(-4_000)}`,
        );
      }
      await new Promise((resolve) => setTimeout(resolve, 250));
    }
    const log = output.slice(logStart);
    expect(batchedSoFar()).toBe(202);
    expect(log.match(/event=batch /g)?.length ?? 0).toBeLessThan(20);
    const updatedLines = burst.map(
      (name) => log.match(new RegExp(`event=namespace namespace=${name} result=updated$`, 'gm'))?.length ?? 0,
    );
    expect(updatedLines.filter((count) => count !== 1)).toEqual([]);
    expect(log).not.toMatch(/result=(failed|conflict)|event=retry /);
    expect(log).toMatch(
      /event=namespace namespace=watch-skip-1 result=skipped reason="excluded by ECR_EXCLUDE_NAMESPACES"/,
    );
    expect(log).not.toMatch(/namespace=other-team /);
    expect(await secretExists('watch-skip-1')).toBe(false);
    expect(await secretExists('other-team')).toBe(false);
    expect(watcher.exitCode).toBeNull();
  });

  test("a ServiceAccount that may list but not watch gets the API server's refusal in the log, and the watcher keeps trying", async () => {
    const name = 'list-only';
    const rbac = [
      { apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name, namespace: NAMESPACE } },
      {
        apiVersion: 'rbac.authorization.k8s.io/v1',
        kind: 'ClusterRole',
        metadata: { name: 'watcher-e2e-list-only' },
        rules: [{ apiGroups: [''], resources: ['namespaces'], verbs: ['list'] }],
      },
      {
        apiVersion: 'rbac.authorization.k8s.io/v1',
        kind: 'ClusterRoleBinding',
        metadata: { name: 'watcher-e2e-list-only' },
        roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: 'watcher-e2e-list-only' },
        subjects: [{ kind: 'ServiceAccount', name, namespace: NAMESPACE }],
      },
    ];
    await cluster().kubectl(['apply', '-f', '-'], {
      input: JSON.stringify({ apiVersion: 'v1', kind: 'List', items: rbac }),
    });
    const refused = spawn(requireContext().tools.busybox, ['ash', watcherScript, 'watch'], {
      env: {
        ...watcherEnv,
        KUBECONFIG: await cluster().serviceAccountKubeconfig(NAMESPACE, name),
        ECR_HEARTBEAT_FILE: join(mkdtempSync(join(tmpdir(), 'watcher-hb-')), 'heartbeat'),
        // None of the namespaces the tests above created within the hour: this account may not
        // write them, and the refusal of the watch is what is tested here.
        ECR_TARGET_NAMESPACES: 'watch-refused-none',
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let log = '';
    refused.stdout.on('data', (chunk: Buffer) => (log += chunk.toString('utf8')));
    refused.stderr.on('data', (chunk: Buffer) => (log += chunk.toString('utf8')));
    try {
      // 60 s: alone it takes about 4 s, but on a machine busy with other suites the first list
      // alone once took longer than 20 s.
      const deadline = Date.now() + 60_000;
      // Refused twice: the first refusal did not end the watcher.
      while ((log.match(/event=watch reason="watch refused: HTTP 403: /g) ?? []).length < 2) {
        if (Date.now() > deadline || refused.exitCode !== null) {
          throw new Error(`no refusal logged twice (exit ${String(refused.exitCode)}):\n${log}`);
        }
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
      expect(log).toMatch(/event=watch listed=/);
      expect(log).toMatch(/watch refused: HTTP 403: namespaces is forbidden: .*cannot watch resource \\"namespaces\\"/);
      expect(refused.exitCode).toBeNull();
    } finally {
      refused.kill('SIGTERM');
    }
  });
});

describe.skipIf(!e2eAvailable.ok)('--watch-namespaces across an API server restart', () => {
  // A control plane of this test's own: the shared one must not go down under other tests.
  let controlPlane: ControlPlane;
  let kubectlBin: string;
  let moto: Moto;
  let watcher: ChildProcess | undefined;
  let output = '';

  const kubectl = async (args: string[], input?: string): Promise<string> => {
    const out = await run(kubectlBin, ['--kubeconfig', controlPlane.info.adminKubeconfig, ...args], { input });
    if (out.code !== 0) throw new Error(`kubectl ${args.join(' ')} exited ${out.code}: ${out.stderr}`);
    return out.stdout;
  };

  beforeAll(async () => {
    const found = await checkPrerequisites(REPO_ROOT);
    if (!found.ok) throw new Error(found.why);
    kubectlBin = found.binaries.kubectl;
    controlPlane = await startControlPlane(
      { etcd: found.binaries.etcd, kubeApiserver: found.binaries.kubeApiserver },
      mkdtempSync(join(tmpdir(), 'watcher-restart-')),
    );
    moto = await startMoto();
  });

  afterAll(async () => {
    watcher?.kill('SIGTERM');
    await moto.stop();
    await controlPlane.stop();
  });

  test('the watcher lists again and covers a namespace created after kube-apiserver came back', async () => {
    const dir = await synthBundle(['--watch-namespaces', '--no-initial-job']);
    await kubectl(['apply', '--server-side', '-f', dir]);
    const objects = loadBundle(dir);
    const token = (await kubectl(['create', 'token', 'ecr-credential-updater', '-n', 'ecr-updater'])).trim();
    const kubeconfig = join(mkdtempSync(join(tmpdir(), 'watcher-restart-kc-')), 'kubeconfig');
    writeKubeconfig(kubeconfig, {
      server: controlPlane.info.server,
      caFile: controlPlane.info.caFile,
      user: { token },
    });
    const script = writeScriptFiles(objects, mkdtempSync(join(tmpdir(), 'watcher-restart-script-')));
    const env = scriptEnv({
      AWS_ACCESS_KEY_ID: 'AKIAIOSFODNN7EXAMPLE',
      AWS_SECRET_ACCESS_KEY: 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY',
      AWS_ACCOUNT_ID: '123456789012',
      AWS_REGION: 'eu-west-1',
      AWS_ENDPOINT_URL: moto.endpoint,
      ECR_HEARTBEAT_FILE: join(mkdtempSync(join(tmpdir(), 'watcher-restart-hb-')), 'heartbeat'),
      KUBECONFIG: kubeconfig,
    });
    const started = spawn(requireContext().tools.busybox, ['ash', script, 'watch'], {
      env,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    watcher = started;
    started.stdout.on('data', (chunk: Buffer) => (output += chunk.toString('utf8')));
    started.stderr.on('data', (chunk: Buffer) => (output += chunk.toString('utf8')));
    const until = async (what: () => Promise<boolean> | boolean, timeoutMs: number, label: string) => {
      const deadline = Date.now() + timeoutMs;
      while (!(await what())) {
        if (Date.now() > deadline) throw new Error(`timed out waiting for ${label}:\n${output}`);
        await new Promise((resolve) => setTimeout(resolve, 200));
      }
    };
    await until(() => output.includes('event=watch listed='), 30_000, 'the first list');

    await controlPlane.restartApiServer(3_000);
    await kubectl(['create', 'namespace', 'after-restart']);
    const since = performance.now();
    await until(
      async () =>
        (await kubectl(['get', 'secret', SECRET, '-n', 'after-restart', '--ignore-not-found', '-o', 'name'])) !== '',
      60_000,
      'the Secret in after-restart',
    );
    console.log(`[namespace-watcher] covered ${((performance.now() - since) / 1000).toFixed(1)} s after the restart`);
    // The lost stream was reported, and the process never stopped.
    expect(output).toMatch(/level=warn event=watch reason=/);
    expect(started.exitCode).toBeNull();
  });
});
