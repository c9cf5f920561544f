// A role per tenant (ECR_TENANTS), end to end: the refresh script from dist under busybox ash,
// the real kube-apiserver, and the real aws CLI against moto with its IAM checks on. moto mints
// each ECR token for the account of the caller ("AWS:<account>-auth-token"), so a Secret shows
// which role its token came from: the tenant roles live in two other accounts. moto checks the
// base principal's identity policy for sts:AssumeRole (a role it may not assume is refused), but
// not the tenant role's trust policy; bootstrap's tests check that as JSON.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import {
  cluster,
  e2eAvailable,
  requireContext,
  run,
  runBusyboxScript,
  scriptEnv,
  startMoto,
  type Moto,
} from './harness/index.js';
import {
  EXIT,
  exitOf,
  MOTO_ACCOUNT,
  prepareRefreshSuite,
  REFRESH_REGION,
  REFRESH_SECRET,
  type RefreshRun,
  type RefreshSuite,
} from './harness/refresh-runs.js';

const SUITE = 'ecr-tenants';
const ROLE_A = 'arn:aws:iam::111111111111:role/ecr-pull-team-a';
const ROLE_B = 'arn:aws:iam::222222222222:role/ecr-pull-team-b';
/** A role the base principal may not assume. */
const ROLE_C = 'arn:aws:iam::333333333333:role/ecr-pull-team-c';
const BASE_WEB_IDENTITY_ROLE = `arn:aws:iam::${MOTO_ACCOUNT}:role/ecr-base-keyless`;
const LABEL = 'tenant-test';
/** Tenant A by glob, tenant B by label selector: `ta-3` carries B's label, and A, first, wins. */
const TENANTS = [`ta-*=${ROLE_A}`, `${LABEL}=b=${ROLE_B}`].join('\n');
const TOKEN = {
  a: 'AWS:111111111111-auth-token',
  b: 'AWS:222222222222-auth-token',
  base: `AWS:${MOTO_ACCOUNT}-auth-token`,
};
const OWN_HOST = `${MOTO_ACCOUNT}.dkr.ecr.${REFRESH_REGION}.amazonaws.com`;

const TENANT_MATCHES = JSON.parse(
  readFileSync(new URL('../fixtures/tenant-matches.json', import.meta.url), 'utf8'),
) as { glob: string[]; selector: string[]; neither: string[] };

interface Keys {
  id: string;
  secret: string;
}

describe.skipIf(!e2eAvailable.ok)('tenants: a role per tenant (ECR_TENANTS)', () => {
  let suite: RefreshSuite;
  let moto: Moto;
  let baseKeys: Keys;

  /** The aws CLI against moto as `keys` (moto's default account when none are given). */
  async function aws<T>(args: readonly string[], keys: Keys & { session?: string }): Promise<T> {
    const out = await run(
      join(requireContext().tools.scriptToolsDir, 'aws'),
      [...args, '--region', REFRESH_REGION, '--output', 'json'],
      {
        env: scriptEnv({
          AWS_ENDPOINT_URL: moto.endpoint,
          AWS_EC2_METADATA_DISABLED: 'true',
          AWS_ACCESS_KEY_ID: keys.id,
          AWS_SECRET_ACCESS_KEY: keys.secret,
          ...(keys.session ? { AWS_SESSION_TOKEN: keys.session } : {}),
        }),
      },
    );
    if (out.code !== 0) throw new Error(`aws ${args.join(' ')} exited ${out.code}: ${out.stderr}`);
    return (out.stdout.trim() === '' ? null : JSON.parse(out.stdout)) as T;
  }

  /** Creates `roleArn` in its own account (moto: as a session assumed into that account) allowed to ask for ECR tokens. */
  async function createTenantRole(roleArn: string, admin: Keys): Promise<void> {
    const account = roleArn.split(':')[4] ?? '';
    const session = await aws<{ Credentials: { AccessKeyId: string; SecretAccessKey: string; SessionToken: string } }>(
      ['sts', 'assume-role', '--role-arn', `arn:aws:iam::${account}:role/admin`, '--role-session-name', 'setup'],
      admin,
    );
    const as = {
      id: session.Credentials.AccessKeyId,
      secret: session.Credentials.SecretAccessKey,
      session: session.Credentials.SessionToken,
    };
    const name = roleArn.split('/').at(-1) ?? '';
    await aws(
      [
        'iam',
        'create-role',
        '--role-name',
        name,
        '--assume-role-policy-document',
        '{"Version":"2012-10-17","Statement":[]}',
      ],
      as,
    );
    await aws(
      ['iam', 'put-role-policy', '--role-name', name, '--policy-name', 'pull', '--policy-document', ECR_TOKEN_POLICY],
      as,
    );
  }

  const ECR_TOKEN_POLICY = JSON.stringify({
    Version: '2012-10-17',
    Statement: [{ Effect: 'Allow', Action: 'ecr:GetAuthorizationToken', Resource: '*' }],
  });
  /** The base principal's policy: its own tokens, and assuming tenant roles A and B (not C). */
  const BASE_POLICY = JSON.stringify({
    Version: '2012-10-17',
    Statement: [
      { Effect: 'Allow', Action: 'ecr:GetAuthorizationToken', Resource: '*' },
      { Effect: 'Allow', Action: 'sts:AssumeRole', Resource: [ROLE_A, ROLE_B] },
    ],
  });

  beforeAll(async () => {
    suite = await prepareRefreshSuite(SUITE);
    // Tokens that expire in 12 hours, as ECR's do, so the watcher keeps them between batches.
    moto = await startMoto({ ecrTokenSeconds: 12 * 3600 });
    const admin = { id: 'AKIAIOSFODNN7EXAMPLE', secret: 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY' };
    await aws(['iam', 'create-user', '--user-name', 'ecr-base'], admin);
    await aws(
      ['iam', 'put-user-policy', '--user-name', 'ecr-base', '--policy-name', 'base', '--policy-document', BASE_POLICY],
      admin,
    );
    const key = await aws<{ AccessKey: { AccessKeyId: string; SecretAccessKey: string } }>(
      ['iam', 'create-access-key', '--user-name', 'ecr-base'],
      admin,
    );
    baseKeys = { id: key.AccessKey.AccessKeyId, secret: key.AccessKey.SecretAccessKey };
    const keylessName = BASE_WEB_IDENTITY_ROLE.split('/').at(-1) ?? '';
    await aws(
      [
        'iam',
        'create-role',
        '--role-name',
        keylessName,
        '--assume-role-policy-document',
        '{"Version":"2012-10-17","Statement":[]}',
      ],
      admin,
    );
    await aws(
      ['iam', 'put-role-policy', '--role-name', keylessName, '--policy-name', 'base', '--policy-document', BASE_POLICY],
      admin,
    );
    for (const role of [ROLE_A, ROLE_B, ROLE_C]) await createTenantRole(role, admin);
    // From here on every call needs valid keys and the IAM rights for it.
    const reset = await fetch(`${moto.endpoint}/moto-api/reset-auth`, {
      method: 'POST',
      headers: { 'Content-Type': 'text/plain' },
      body: '0',
    });
    if (reset.status !== 200) throw new Error(`moto's reset-auth answered ${reset.status}`);

    await suite.createNamespaces(['ta-1', 'ta-2', 'ta-3', 'tb-1', 'tx-1', 'tx-2', 'tc-1']);
    for (const ns of ['ta-3', 'tb-1']) await cluster().kubectl(['label', 'namespace', ns, `${LABEL}=b`]);
  });

  afterAll(async () => {
    await moto.stop();
  });

  /** A run as the base IAM user's key; `extra` last. */
  const runAs = (extra: Record<string, string>): Promise<RefreshRun> =>
    suite.run(
      suite.env(moto.endpoint, {
        AWS_ACCESS_KEY_ID: baseKeys.id,
        AWS_SECRET_ACCESS_KEY: baseKeys.secret,
        ECR_TENANTS: TENANTS,
        ...extra,
      }),
    );

  /** The decoded auth of each registry in `namespace`'s Secret; {} when there is none. */
  async function tokensIn(namespace: string): Promise<Record<string, string>> {
    const raw = await suite.rawSecret(namespace);
    if (raw === '') return {};
    const secret = JSON.parse(raw) as { data: Record<string, string> };
    const config = JSON.parse(Buffer.from(secret.data['.dockerconfigjson'] ?? '', 'base64').toString()) as {
      auths: Record<string, { auth: string }>;
    };
    return Object.fromEntries(
      Object.entries(config.auths).map(([host, entry]) => [host, Buffer.from(entry.auth, 'base64').toString()]),
    );
  }

  const results = (run: RefreshRun): Record<string, string> =>
    Object.fromEntries([...run.namespaces].map(([ns, { result }]) => [ns, result]));

  test("each namespace holds a token of its tenant role's account (glob, label selector, first match wins), the rest the base account's; one token call per role", async () => {
    const before = (await moto.stats()).getAuthorizationToken;
    const run = await runAs({ ECR_TARGET_NAMESPACES: 'ta-* tb-* tx-1' });
    expect(exitOf(run, EXIT.ok)).toBe(EXIT.ok);
    expect(results(run)).toEqual({
      'ta-1': 'updated',
      'ta-2': 'updated',
      'ta-3': 'updated',
      'tb-1': 'updated',
      'tx-1': 'updated',
    });
    expect(run.namespaceLines).toHaveLength(5);
    expect({
      'ta-1': await tokensIn('ta-1'),
      'ta-2': await tokensIn('ta-2'),
      'ta-3': await tokensIn('ta-3'),
      'tb-1': await tokensIn('tb-1'),
      'tx-1': await tokensIn('tx-1'),
    }).toEqual({
      'ta-1': { [OWN_HOST]: TOKEN.a },
      'ta-2': { [OWN_HOST]: TOKEN.a },
      'ta-3': { [OWN_HOST]: TOKEN.a },
      'tb-1': { [OWN_HOST]: TOKEN.b },
      'tx-1': { [OWN_HOST]: TOKEN.base },
    });
    expect((await moto.stats()).getAuthorizationToken - before).toBe(3);
    const tokenLines = run.records.filter((record) => record.event === 'token').map((record) => record.role ?? '');
    expect(tokenLines.sort()).toEqual(['', ROLE_A, ROLE_B].sort());
  });

  test('ECR_TENANTS_ONLY=true: a namespace no tenant matches is skipped with the reason and gets no Secret, and no base token is asked for (tokens come before the listing: one per tenant role)', async () => {
    const before = (await moto.stats()).getAuthorizationToken;
    const run = await runAs({ ECR_TARGET_NAMESPACES: 'ta-1 tx-2', ECR_TENANTS_ONLY: 'true' });
    expect(exitOf(run, EXIT.ok)).toBe(EXIT.ok);
    expect(run.namespaces.get('tx-2')).toEqual({
      result: 'skipped',
      reason: 'no tenant matches it, and ECR_TENANTS_ONLY is true',
    });
    expect(run.namespaces.get('ta-1')?.result).toBe('updated');
    expect(run.summary).toMatchObject({ selected: '2', updated: '1', skipped: '1', failed: '0' });
    expect(await suite.rawSecret('tx-2')).toBe('');
    expect((await moto.stats()).getAuthorizationToken - before).toBe(2);
    const tokenRoles = run.records.filter((record) => record.event === 'token').map((record) => record.role ?? '');
    expect(tokenRoles.sort()).toEqual([ROLE_A, ROLE_B].sort());
  });

  test('a tenant role the base principal may not assume fails only its own namespaces (exit 5, AccessDenied named); the others are written', async () => {
    const run = await runAs({
      ECR_TARGET_NAMESPACES: 'ta-1 tc-1 tx-1',
      ECR_TENANTS: `${TENANTS}\ntc-*=${ROLE_C}`,
    });
    expect(exitOf(run, EXIT.partial)).toBe(EXIT.partial);
    expect(results(run)).toEqual({ 'ta-1': 'updated', 'tc-1': 'failed', 'tx-1': 'updated' });
    expect(run.namespaces.get('tc-1')?.reason).toMatch(
      new RegExp(`^no ECR token for region ${REFRESH_REGION} as role ${ROLE_C}: .*AccessDenied`),
    );
    expect(await suite.rawSecret('tc-1')).toBe('');
    expect(await tokensIn('ta-1')).toEqual({ [OWN_HOST]: TOKEN.a });
    expect(run.summary).toMatchObject({ selected: '3', updated: '2', failed: '1' });
  });

  test('with web identity as the base, the tenant roles are assumed from the web-identity role: the same mapping', async () => {
    // moto answers AssumeRoleWithWebIdentity (an unsigned call) with a 500 while its IAM checks
    // are on, so this run has a moto of its own without them.
    const keyless = await startMoto();
    const { kubectl } = cluster();
    const token = await kubectl([
      'create',
      'token',
      SUITE,
      '-n',
      SUITE,
      '--audience',
      'sts.amazonaws.com',
      '--duration',
      '3600s',
    ]);
    const tokenFile = join(mkdtempSync(join(tmpdir(), 'tenant-wi-')), 'token');
    writeFileSync(tokenFile, token.stdout.trim(), { mode: 0o400 });
    for (const ns of ['ta-2', 'tb-1', 'tx-1']) {
      await kubectl(['delete', 'secret', REFRESH_SECRET, '-n', ns, '--ignore-not-found']);
    }
    const env = suite.env(keyless.endpoint, {
      ECR_TENANTS: TENANTS,
      ECR_TARGET_NAMESPACES: 'ta-2 tb-1 tx-1',
      AWS_ROLE_ARN: BASE_WEB_IDENTITY_ROLE,
      AWS_WEB_IDENTITY_TOKEN_FILE: tokenFile,
      AWS_ACCOUNT_ID: MOTO_ACCOUNT,
    });
    delete env.AWS_ACCESS_KEY_ID;
    delete env.AWS_SECRET_ACCESS_KEY;
    const run = await suite.run(env).finally(() => keyless.stop());
    expect(exitOf(run, EXIT.ok)).toBe(EXIT.ok);
    expect({
      'ta-2': await tokensIn('ta-2'),
      'tb-1': await tokensIn('tb-1'),
      'tx-1': await tokensIn('tx-1'),
    }).toEqual({
      'ta-2': { [OWN_HOST]: TOKEN.a },
      'tb-1': { [OWN_HOST]: TOKEN.b },
      'tx-1': { [OWN_HOST]: TOKEN.base },
    });
  });

  test('a selector the API server rejects is a configuration error (exit 2) naming ECR_TENANTS, and nothing is written', async () => {
    await cluster().kubectl(['delete', 'secret', REFRESH_SECRET, '-n', 'tx-2', '--ignore-not-found']);
    const run = await runAs({ ECR_TARGET_NAMESPACES: 'tx-2', ECR_TENANTS: `${LABEL} in (b=${ROLE_B}` });
    expect(exitOf(run, EXIT.config)).toBe(EXIT.config);
    expect(run.fatal?.reason ?? run.stdout).toMatch(/ECR_TENANTS selector "tenant-test in \(b" was rejected/);
    expect(await suite.rawSecret('tx-2')).toBe('');
  });

  test('an entry without a role ARN is a configuration error (exit 2) naming the entry, before any AWS call', async () => {
    const before = (await moto.stats()).requests;
    const run = await runAs({ ECR_TENANTS: 'ta-*=ecr-pull-team-a' });
    expect(exitOf(run, EXIT.config)).toBe(EXIT.config);
    expect(run.stdout).toContain('ECR_TENANTS entry \\"ta-*=ecr-pull-team-a\\" is not MATCH=ROLE_ARN');
    expect((await moto.stats()).requests).toBe(before);
  });

  describe('the watcher', () => {
    let watcher: ChildProcess;
    let output = '';

    beforeAll(async () => {
      const env = suite.env(moto.endpoint, {
        AWS_ACCESS_KEY_ID: baseKeys.id,
        AWS_SECRET_ACCESS_KEY: baseKeys.secret,
        ECR_TENANTS: TENANTS,
        ECR_TARGET_NAMESPACES: 'tw-* ta-w*',
        ECR_HEARTBEAT_FILE: join(suite.workDir, 'heartbeat'),
      });
      watcher = spawn(requireContext().tools.busybox, ['ash', suite.script, 'watch'], {
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

    afterAll(() => {
      watcher.kill('SIGTERM');
    });

    test("applies the same mapping to new namespaces: a glob tenant's, a label-selected tenant's and an unmatched one", async () => {
      // ta-w1 matches tenant A's glob; tw-b carries tenant B's label; tw-x matches no tenant.
      await cluster().kubectl(['apply', '-f', '-'], {
        input: JSON.stringify({
          apiVersion: 'v1',
          kind: 'List',
          items: [
            { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'ta-w1' } },
            { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'tw-b', labels: { [LABEL]: 'b' } } },
            { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'tw-x' } },
          ],
        }),
      });
      const deadline = Date.now() + 20_000;
      const names = ['ta-w1', 'tw-b', 'tw-x'];
      while ((await Promise.all(names.map((ns) => suite.rawSecret(ns)))).includes('')) {
        if (Date.now() > deadline) throw new Error(`no Secrets after 20 s:\n${output}`);
        await new Promise((resolve) => setTimeout(resolve, 250));
      }
      expect({
        'ta-w1': await tokensIn('ta-w1'),
        'tw-b': await tokensIn('tw-b'),
        'tw-x': await tokensIn('tw-x'),
      }).toEqual({
        'ta-w1': { [OWN_HOST]: TOKEN.a },
        'tw-b': { [OWN_HOST]: TOKEN.b },
        'tw-x': { [OWN_HOST]: TOKEN.base },
      });
      expect(watcher.exitCode).toBeNull();
    });

    test("keeps each role's token: a later batch for two tenants' namespaces asks AWS for none", async () => {
      const before = (await moto.stats()).getAuthorizationToken;
      const batches = output.length;
      await cluster().kubectl(['apply', '-f', '-'], {
        input: JSON.stringify({
          apiVersion: 'v1',
          kind: 'List',
          items: [
            { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'ta-w2' } },
            { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'tw-b2', labels: { [LABEL]: 'b' } } },
          ],
        }),
      });
      const deadline = Date.now() + 20_000;
      while ((await suite.rawSecret('ta-w2')) === '' || (await suite.rawSecret('tw-b2')) === '') {
        if (Date.now() > deadline) throw new Error(`no Secrets after 20 s:\n${output}`);
        await new Promise((resolve) => setTimeout(resolve, 250));
      }
      expect({ 'ta-w2': await tokensIn('ta-w2'), 'tw-b2': await tokensIn('tw-b2') }).toEqual({
        'ta-w2': { [OWN_HOST]: TOKEN.a },
        'tw-b2': { [OWN_HOST]: TOKEN.b },
      });
      expect((await moto.stats()).getAuthorizationToken - before).toBe(0);
      expect(output.slice(batches)).toMatch(/event=batch .*token_calls=0 /);
    });
  });
});

describe.skipIf(!e2eAvailable.ok)('one tenant MATCH rule in the generator and the script', () => {
  const scriptDir = join(import.meta.dirname, '..', '..', 'src', 'scripts');
  test.each([
    ...TENANT_MATCHES.glob.map((match) => ({ match, kind: 'glob' })),
    ...TENANT_MATCHES.selector.map((match) => ({ match, kind: 'selector' })),
    ...TENANT_MATCHES.neither.map((match) => ({ match, kind: 'neither' })),
  ])('tenant_match_kind "$match" -> $kind', async ({ match, kind }) => {
    const probe = join(mkdtempSync(join(tmpdir(), 'tenant-match-')), 'probe.sh');
    writeFileSync(probe, `. "${scriptDir}/ecr-tenants.sh"\ntenant_match_kind "$MATCH" || echo neither\n`);
    const result = await runBusyboxScript(probe, scriptEnv({ MATCH: match }));
    expect({ stdout: result.stdout.trim(), stderr: result.stderr }).toEqual({ stdout: kind, stderr: '' });
  });
});
