// Every exit code the refresh script documents (its header, README "Exit codes") and every one of
// bootstrap-iam.sh (README "Credentials"), each produced by a cause a real cluster or AWS account
// has: credentials STS refuses, an ECR endpoint nobody answers, one region failing after another
// answered, RBAC refusing the namespace list, a writer process killed. Ctrl-C (bootstrap, 130)
// is in bootstrap-iam.test.ts.
import { existsSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { cluster, e2eAvailable, scriptEnv, startMoto, type Moto } from './harness/index.js';
import { freePort, run } from './harness/process.js';
import {
  EXIT,
  exitOf,
  MOTO_ACCOUNT,
  prepareRefreshSuite,
  REFRESH_REGION,
  type RefreshSuite,
} from './harness/refresh-runs.js';

const BOOTSTRAP = fileURLToPath(new URL('../../scripts/bootstrap-iam.sh', import.meta.url));
const US_HOST = '210987654321.dkr.ecr.us-east-1.amazonaws.com';

describe.skipIf(!e2eAvailable.ok)('exit codes of refresh-ecr-credentials.sh, each from a realistic cause', () => {
  let suite: RefreshSuite;
  let moto: Moto;

  beforeAll(async () => {
    suite = await prepareRefreshSuite('exit-codes-e2e');
    moto = await startMoto();
  });

  afterAll(async () => {
    await moto.stop();
  });

  test('refresh exits 0 when every selected namespace is written or skipped', async () => {
    await suite.createNamespaces(['code0-a', 'code0-b', 'code0-excluded']);
    const run = await suite.run(
      suite.env(moto.endpoint, { ECR_TARGET_NAMESPACES: 'code0-*', ECR_EXCLUDE_NAMESPACES: 'code0-excluded' }),
    );
    expect(exitOf(run, EXIT.ok)).toBe(EXIT.ok);
    expect(run.summary).toMatchObject({ selected: '3', updated: '2', skipped: '1', exit_code: '0', level: 'info' });
  });

  test('refresh exits 1 when a writer process is killed (SIGKILL, as the OOM killer does); the other writer still writes its batch', async () => {
    const names = ['code1-a1', 'code1-a2', 'code1-a3', 'code1-b1', 'code1-b2', 'code1-b3'];
    await suite.createNamespaces(names);
    const marks = mkdtempSync(join(suite.workDir, 'marks-'));
    // Two writers, one batch of three each. The curl of the first batch to start is the real one;
    // the other writer (curl's parent) is killed with its curl, before it reports anything.
    const run = await suite.runWithCurl(
      suite.env(moto.endpoint, {
        ECR_TARGET_NAMESPACES: 'code1-*',
        AWS_ACCOUNT_ID: MOTO_ACCOUNT,
        ECR_APPLY_BATCH_SIZE: '3',
        ECR_APPLY_PARALLELISM: '2',
      }),
      [
        'config=$(cat)',
        'case $config in',
        `  *upload-file*) mkdir '${marks}/first' 2>/dev/null || { kill -9 "$PPID"; kill -9 $$; } ;;`,
        'esac',
        'printf "%s\\n" "$config" | "$REAL_CURL" "$@"',
      ],
    );
    expect(exitOf(run, EXIT.unexpected)).toBe(EXIT.unexpected);
    expect(run.summary).toMatchObject({ lost_workers: '1', updated: '3', failed: '3', exit_code: '1', level: 'error' });
    // The surviving writer's batch is written; the lost one's namespaces are reported failed, once each.
    expect(run.namespaceLines.map((line) => line.namespace).sort()).toEqual(names);
    const updated = names.filter((name) => run.namespaces.get(name)?.result === 'updated');
    expect([names.slice(0, 3), names.slice(3)]).toContainEqual(updated);
    for (const name of names.filter((name) => !updated.includes(name))) {
      expect(run.namespaces.get(name)?.reason).toMatch(
        /^no result reported: the process writing it ended early \(writer process \d+ exit 137\)/,
      );
    }
    for (const name of names) expect((await suite.rawSecret(name)) !== '').toBe(updated.includes(name));
  });

  test('refresh exits 6 when the only failures may pass: a curl writer killed before answering leaves each of its namespaces failed, once', async () => {
    const names = ['cut-1', 'cut-2', 'cut-3', 'cut-4', 'cut-5', 'cut-6'];
    await suite.createNamespaces(names);
    const marks = mkdtempSync(join(suite.workDir, 'marks-'));
    // One writer, two batches: the first batch's curl is the real one, the second is killed.
    const run = await suite.runWithCurl(
      suite.env(moto.endpoint, {
        ECR_TARGET_NAMESPACES: 'cut-*',
        AWS_ACCOUNT_ID: MOTO_ACCOUNT,
        ECR_APPLY_BATCH_SIZE: '3',
        ECR_APPLY_PARALLELISM: '1',
      }),
      [
        'config=$(cat)',
        'case $config in',
        `  *upload-file*) mkdir '${marks}/first' 2>/dev/null || kill -9 $$ ;;`,
        'esac',
        'printf "%s\\n" "$config" | "$REAL_CURL" "$@"',
      ],
    );
    expect(exitOf(run, EXIT.transient)).toBe(EXIT.transient);
    // One line per namespace, whatever happened, and the counts add up.
    expect(run.namespaceLines.map((line) => line.namespace).sort()).toEqual(names);
    expect(names.map((name) => run.namespaces.get(name)?.result)).toEqual([
      ...['updated', 'updated', 'updated'],
      ...['failed', 'failed', 'failed'],
    ]);
    for (const name of names.slice(3)) {
      expect(run.namespaces.get(name)?.reason).toMatch(/^no result from curl: /);
    }
    expect(run.summary).toMatchObject({ selected: '6', updated: '3', failed: '3', lost_workers: '0', exit_code: '6' });
  });

  test('refresh exits 2 on a bad setting, before any AWS or Kubernetes call', async () => {
    await suite.createNamespaces(['code2-a']);
    const before = (await moto.stats()).requests;
    const { run, front } = await suite.runThroughFront(
      suite.env(moto.endpoint, { ECR_TARGET_NAMESPACES: 'code2-*', ECR_APPLY_BATCH_SIZE: '0' }),
      () => undefined,
    );
    expect(exitOf(run, EXIT.config)).toBe(EXIT.config);
    expect(run.fatal?.reason).toMatch(/^ECR_APPLY_BATCH_SIZE "0" must be a positive integer/);
    expect((await moto.stats()).requests).toBe(before);
    expect(front.log).toEqual([]);
    expect(await suite.rawSecret('code2-a')).toBe('');
  });

  test('refresh exits 3 when STS refuses the credentials (no AWS_ACCOUNT_ID given), and writes nothing', async () => {
    await suite.createNamespaces(['code3-sts']);
    // Authentication on from the first call: the key in the environment belongs to no IAM user.
    const checking = await startMoto({ initialNoAuthActionCount: 0 });
    try {
      const run = await suite.run(suite.env(checking.endpoint, { ECR_TARGET_NAMESPACES: 'code3-sts' }));
      expect(exitOf(run, EXIT.aws)).toBe(EXIT.aws);
      expect(run.fatal?.reason).toMatch(
        /^cannot determine the AWS account id .*InvalidClientTokenId.*nothing was written$/,
      );
      // The STS call only: no token was asked for, no namespace touched.
      expect(await checking.stats()).toMatchObject({ requests: 1, getAuthorizationToken: 0 });
      expect(run.namespaceLines).toEqual([]);
      expect(await suite.rawSecret('code3-sts')).toBe('');
    } finally {
      await checking.stop();
    }
  });

  test('refresh exits 3 when the ECR endpoint is unreachable, after its tries, and writes nothing', async () => {
    await suite.createNamespaces(['code3-down']);
    const closed = `http://127.0.0.1:${await freePort()}`;
    const run = await suite.run(
      // Two tries, 1 s apart; no answer at all gets no further round.
      suite.env(closed, { ECR_TARGET_NAMESPACES: 'code3-down', AWS_ACCOUNT_ID: MOTO_ACCOUNT, AWS_MAX_ATTEMPTS: '2' }),
    );
    expect(exitOf(run, EXIT.aws)).toBe(EXIT.aws);
    const tokens = run.records.filter((record) => record.event === 'token');
    expect(tokens.map((record) => [record.level, record.attempt])).toEqual([['error', '1']]);
    expect(tokens[0]?.reason).toContain(`no answer from ${closed}/`);
    expect(run.fatal?.reason).toBe(`no ECR token for region ${REFRESH_REGION}; nothing was written`);
    expect(run.namespaceLines).toEqual([]);
    expect(await suite.rawSecret('code3-down')).toBe('');
  });

  test("refresh exits 3 when the second region's token call fails after the first succeeded, and leaves the Secrets byte-identical", async () => {
    await suite.createNamespaces(['code3-region']);
    const settings = { ECR_TARGET_NAMESPACES: 'code3-region', AWS_ACCOUNT_ID: MOTO_ACCOUNT, ECR_REGISTRIES: US_HOST };
    const good = await suite.run(suite.env(moto.endpoint, settings));
    expect(exitOf(good, EXIT.ok)).toBe(EXIT.ok);
    const before = await suite.rawSecret('code3-region');
    expect(before).not.toBe('');

    const failing = await startMoto({ failEcrRegion: 'us-east-1' });
    try {
      const run = await suite.run(suite.env(failing.endpoint, settings));
      expect(exitOf(run, EXIT.aws)).toBe(EXIT.aws);
      const tokens = run.records.filter((record) => record.event === 'token');
      expect(tokens.map((record) => [record.level, record.region])).toEqual([
        ['info', REFRESH_REGION],
        ['error', 'us-east-1'],
      ]);
      expect(run.fatal?.reason).toBe('no ECR token for region us-east-1; nothing was written');
      expect(await failing.stats()).toMatchObject({ getAuthorizationToken: 2, failed: 1 });
      expect(run.namespaceLines).toEqual([]);
      expect(await suite.rawSecret('code3-region')).toBe(before);
    } finally {
      await failing.stop();
    }
  });

  test('refresh exits 4 when RBAC refuses the namespace list, and writes nothing', async () => {
    await suite.createNamespaces(['code4-a']);
    // A ServiceAccount that may write the Secret but not list namespaces.
    const name = 'exit-codes-no-list';
    await cluster().kubectl(['apply', '-f', '-'], {
      input: JSON.stringify({
        apiVersion: 'v1',
        kind: 'List',
        items: [
          { apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name, namespace: 'exit-codes-e2e' } },
          {
            apiVersion: 'rbac.authorization.k8s.io/v1',
            kind: 'ClusterRole',
            metadata: { name },
            rules: [{ apiGroups: [''], resources: ['secrets'], verbs: ['create', 'patch'] }],
          },
          {
            apiVersion: 'rbac.authorization.k8s.io/v1',
            kind: 'ClusterRoleBinding',
            metadata: { name },
            roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name },
            subjects: [{ kind: 'ServiceAccount', name, namespace: 'exit-codes-e2e' }],
          },
        ],
      }),
    });
    const kubeconfig = await cluster().serviceAccountKubeconfig('exit-codes-e2e', name);
    const run = await suite.run(
      suite.env(moto.endpoint, {
        ECR_TARGET_NAMESPACES: 'code4-*',
        AWS_ACCOUNT_ID: MOTO_ACCOUNT,
        KUBECONFIG: kubeconfig,
      }),
    );
    expect(exitOf(run, EXIT.kubernetes)).toBe(EXIT.kubernetes);
    expect(run.fatal?.reason).toMatch(
      /^cannot list namespaces: HTTP 403: namespaces is forbidden: User "system:serviceaccount:exit-codes-e2e:exit-codes-no-list" cannot list resource "namespaces".*; nothing was written$/,
    );
    expect(run.namespaceLines).toEqual([]);
    expect(await suite.rawSecret('code4-a')).toBe('');
  });

  test("refresh exits 4 when the namespace list is answered by a load balancer's 503 page, after the retries", async () => {
    await suite.createNamespaces(['code4-page']);
    const { run, front } = await suite.runThroughFront(
      suite.env(moto.endpoint, { ECR_TARGET_NAMESPACES: 'code4-*', AWS_ACCOUNT_ID: MOTO_ACCOUNT }),
      (method, path) =>
        method === 'GET' && path.startsWith('/api/v1/namespaces?')
          ? { status: 503, body: 'no healthy upstream' }
          : undefined,
    );
    expect(exitOf(run, EXIT.kubernetes)).toBe(EXIT.kubernetes);
    expect(run.fatal?.reason).toBe('cannot list namespaces: HTTP 503: no healthy upstream; nothing was written');
    expect(front.log.filter((line) => line.startsWith('GET /api/v1/namespaces?'))).toHaveLength(5);
    expect(run.namespaceLines).toEqual([]);
    expect(await suite.rawSecret('code4-page')).toBe('');
  });

  test('refresh exits 5 when one namespace conflicts; the others are written', async () => {
    await suite.createNamespaces(['code5-a', 'code5-foreign', 'code5-b']);
    await cluster().kubectl([
      ...['-n', 'code5-foreign', 'create', 'secret', 'generic', 'ecr-registry-credentials'],
      '--from-literal=owner=someone-else',
    ]);
    const run = await suite.run(
      suite.env(moto.endpoint, { ECR_TARGET_NAMESPACES: 'code5-*', AWS_ACCOUNT_ID: MOTO_ACCOUNT }),
    );
    expect(exitOf(run, EXIT.partial)).toBe(EXIT.partial);
    expect(run.namespaces.get('code5-foreign')?.result).toBe('conflict');
    expect(run.summary).toMatchObject({ updated: '2', conflict: '1', failed: '0', exit_code: '5', level: 'error' });
  });
});

describe.skipIf(!e2eAvailable.ok)('exit codes of bootstrap-iam.sh, each from a realistic cause', () => {
  let moto: Moto;
  let workDir: string;

  beforeAll(async () => {
    // Authentication on from the first call: keys that belong to no IAM user are refused.
    moto = await startMoto({ initialNoAuthActionCount: 0 });
    workDir = mkdtempSync(join(tmpdir(), 'exit-codes-bootstrap-'));
  });

  afterAll(async () => {
    await moto.stop();
  });

  const bootstrap = (args: readonly string[]) =>
    run('/bin/bash', [BOOTSTRAP, ...args], {
      env: scriptEnv({
        AWS_ENDPOINT_URL: moto.endpoint,
        AWS_EC2_METADATA_DISABLED: 'true',
        AWS_CONFIG_FILE: '/nonexistent',
        AWS_SHARED_CREDENTIALS_FILE: '/nonexistent',
        AWS_ACCESS_KEY_ID: 'AKIAIOSFODNN7EXAMPLE',
        AWS_SECRET_ACCESS_KEY: 'revoked',
        KUBECONFIG: cluster().adminKubeconfig,
      }),
    });

  test('bootstrap-iam.sh create --dry-run exits 0 and sends AWS nothing', async () => {
    const before = (await moto.stats()).requests;
    const out = await bootstrap(['create', '--name', 'code0', '--region', REFRESH_REGION, '--dry-run']);
    expect({ code: out.code, stderr: out.stderr }).toEqual({ code: 0, stderr: '' });
    expect(out.stdout).toContain('aws iam create-user');
    expect((await moto.stats()).requests).toBe(before);
  });

  test('bootstrap-iam.sh exits 1 when STS refuses the credentials, after that one call', async () => {
    const before = (await moto.stats()).requests;
    const output = join(workDir, 'code1.yaml');
    const out = await bootstrap(['create', '--name', 'code1', '--region', REFRESH_REGION, '--output', output]);
    expect(out.code).toBe(1);
    expect(out.stderr).toMatch(/error: .*sts get-caller-identity.*InvalidClientTokenId/s);
    expect((await moto.stats()).requests - before).toBe(1);
    expect(existsSync(output)).toBe(false);
  });

  test('bootstrap-iam.sh exits 2 on an unknown option, naming it, before any AWS call', async () => {
    const before = (await moto.stats()).requests;
    const out = await bootstrap(['create', '--regoin', REFRESH_REGION]);
    expect(out.code).toBe(2);
    expect(out.stderr).toContain('--regoin');
    expect((await moto.stats()).requests).toBe(before);
  });
});
