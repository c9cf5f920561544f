// scripts/bootstrap-iam.sh create/delete --tenant and create --ecr-public, against moto with
// authentication ON (every call signed and checked against IAM policies) and the real aws CLI.
//
// What moto checks, read from moto 5.2.1 (moto/iam/access_control.py) and shown by the tests
// below: sts:AssumeRole needs BOTH an identity policy of the caller allowing sts:AssumeRole on the
// role's ARN AND a trust policy whose Principal.AWS equals the caller's ARN. moto names a user
// caller arn:aws:iam::ACCOUNT:user/NAME whatever the user's path, so its trust check can only
// match a user at path "/": the assume tests use such a base user (the script reads the ARN from
// GetUser, so it trusts whatever ARN IAM reports); the /system/ user the script itself creates is
// checked by its exact trust JSON. moto names a role session arn:aws:sts::...:assumed-role/R/S and
// never matches it to a role ARN principal, so with a web-identity base only the JSON is checked.
// moto checks ECR permissions against Resource "*" only: the repository scope is checked as JSON.
// moto has no ecr-public service: --ecr-public is checked by its policy JSON.
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { e2eAvailable, scriptEnv, startMoto, type Moto } from './harness/index.js';

const SCRIPT = fileURLToPath(new URL('../../scripts/bootstrap-iam.sh', import.meta.url));
const REGION = 'eu-west-1';
const ACCOUNT = '123456789012';
const TAG = { Key: 'ecr-k8s-credentials:managed-by', Value: 'bootstrap-iam.sh' };
const ADMIN_POLICY = JSON.stringify({
  Version: '2012-10-17',
  Statement: [{ Effect: 'Allow', Action: '*', Resource: '*' }],
});

interface Creds {
  readonly id: string;
  readonly secret: string;
  readonly token?: string;
}

interface Result {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

function exec(command: string, args: readonly string[], env: NodeJS.ProcessEnv, input = ''): Promise<Result> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { env, stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString('utf8')));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString('utf8')));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code: code ?? 1, stdout, stderr }));
    child.stdin.on('error', () => undefined);
    child.stdin.end(input);
  });
}

/** The tenant role's pull policy the script must write for `repositories` (names in REGION). */
function tenantPolicy(resources: readonly string[]) {
  return {
    Version: '2012-10-17',
    Statement: [
      { Sid: 'EcrLogin', Effect: 'Allow', Action: 'ecr:GetAuthorizationToken', Resource: '*' },
      {
        Sid: 'EcrPullTenantRepositories',
        Effect: 'Allow',
        Action: ['ecr:BatchGetImage', 'ecr:GetDownloadUrlForLayer'],
        Resource: resources,
      },
    ],
  };
}

function trustOf(principal: string) {
  return {
    Version: '2012-10-17',
    Statement: [{ Sid: 'BasePrincipal', Effect: 'Allow', Principal: { AWS: principal }, Action: 'sts:AssumeRole' }],
  };
}

function grantOf(roleArn: string) {
  return {
    Version: '2012-10-17',
    Statement: [{ Sid: 'AssumeTenantRole', Effect: 'Allow', Action: 'sts:AssumeRole', Resource: roleArn }],
  };
}

const repoArn = (name: string): string => `arn:aws:ecr:${REGION}:${ACCOUNT}:repository/${name}`;

describe.skipIf(!e2eAvailable.ok)('scripts/bootstrap-iam.sh --tenant and --ecr-public', () => {
  let moto: Moto;
  let admin: Creds;
  let toolsPath: string;
  let realAws: string;

  function env(creds: Creds): NodeJS.ProcessEnv {
    return scriptEnv({
      AWS_ENDPOINT_URL: moto.endpoint,
      AWS_EC2_METADATA_DISABLED: 'true',
      BOOTSTRAP_IAM_PROOF_INTERVAL: '1',
      AWS_ACCESS_KEY_ID: creds.id,
      AWS_SECRET_ACCESS_KEY: creds.secret,
    });
  }

  function bootstrap(args: readonly string[], creds: Creds = admin): Promise<Result> {
    return exec('/bin/bash', [SCRIPT, ...args], env(creds));
  }

  function aws(args: readonly string[], creds: Creds | null = admin): Promise<Result> {
    return exec(realAws, [...args, '--region', REGION], {
      PATH: toolsPath,
      HOME: tmpdir(),
      AWS_ENDPOINT_URL: moto.endpoint,
      AWS_EC2_METADATA_DISABLED: 'true',
      AWS_CONFIG_FILE: '/nonexistent',
      AWS_SHARED_CREDENTIALS_FILE: '/nonexistent',
      ...(creds
        ? {
            AWS_ACCESS_KEY_ID: creds.id,
            AWS_SECRET_ACCESS_KEY: creds.secret,
            ...(creds.token === undefined ? {} : { AWS_SESSION_TOKEN: creds.token }),
          }
        : {}),
    });
  }

  async function awsJson<T>(args: readonly string[], creds: Creds | null = admin): Promise<T> {
    const out = await aws([...args, '--output', 'json'], creds);
    if (out.code !== 0) throw new Error(`aws ${args.join(' ')} exited ${out.code}: ${out.stderr}`);
    return (out.stdout.trim() === '' ? null : JSON.parse(out.stdout)) as T;
  }

  async function awsDo(args: readonly string[], creds: Creds | null = admin): Promise<void> {
    const out = await aws(args, creds);
    if (out.code !== 0) throw new Error(`aws ${args.join(' ')} exited ${out.code}: ${out.stderr}`);
  }

  async function createKey(user: string): Promise<Creds> {
    const out = await awsJson<{ AccessKey: { AccessKeyId: string; SecretAccessKey: string } }>([
      'iam',
      'create-access-key',
      '--user-name',
      user,
    ]);
    return { id: out.AccessKey.AccessKeyId, secret: out.AccessKey.SecretAccessKey };
  }

  async function roleNames(): Promise<string[]> {
    const out = await awsJson<{ Roles: { RoleName: string }[] }>(['iam', 'list-roles']);
    return out.Roles.map((role) => role.RoleName).sort();
  }

  async function userPolicyNames(user: string): Promise<string[]> {
    const out = await awsJson<{ PolicyNames: string[] }>(['iam', 'list-user-policies', '--user-name', user]);
    return [...out.PolicyNames].sort();
  }

  async function userPolicy(user: string, policy: string): Promise<unknown> {
    const out = await awsJson<{ PolicyDocument: unknown }>([
      'iam',
      'get-user-policy',
      '--user-name',
      user,
      '--policy-name',
      policy,
    ]);
    return out.PolicyDocument;
  }

  async function rolePolicy(role: string, policy: string): Promise<unknown> {
    const out = await awsJson<{ PolicyDocument: unknown }>([
      'iam',
      'get-role-policy',
      '--role-name',
      role,
      '--policy-name',
      policy,
    ]);
    return out.PolicyDocument;
  }

  async function role(name: string) {
    const out = await awsJson<{
      Role: { Arn: string; Path: string; AssumeRolePolicyDocument: unknown; Tags?: { Key: string; Value: string }[] };
    }>(['iam', 'get-role', '--role-name', name]);
    return out.Role;
  }

  /** The line `role: ARN` of the script's stdout. */
  function printedRole(stdout: string): string {
    return /^role: (\S+)$/m.exec(stdout)?.[1] ?? '';
  }

  async function assumeRole(roleArn: string, creds: Creds): Promise<Result> {
    return aws(['sts', 'assume-role', '--role-arn', roleArn, '--role-session-name', 'test', '--output', 'json'], creds);
  }

  /** A user at path "/" tagged as the script's own, with one key: moto's trust check can match it. */
  async function baseUserAtRoot(name: string): Promise<{ arn: string; key: Creds }> {
    const user = `${name}-ecr-puller`;
    await awsDo(['iam', 'create-user', '--user-name', user, '--tags', `Key=${TAG.Key},Value=${TAG.Value}`]);
    return { arn: `arn:aws:iam::${ACCOUNT}:user/${user}`, key: await createKey(user) };
  }

  beforeAll(async () => {
    // Three calls without authentication create the admin that every later call signs as.
    moto = await startMoto({ initialNoAuthActionCount: 3 });
    const base = scriptEnv({});
    toolsPath = (base.PATH ?? '').split(':').slice(1).join(':');
    realAws = join(toolsPath.split(':')[0] ?? '', 'aws');
    const anonymous: Creds = { id: 'AKIAIOSFODNN7EXAMPLE', secret: 'bootstrap' };
    await aws(['iam', 'create-user', '--user-name', 'admin'], anonymous);
    await aws(
      ['iam', 'put-user-policy', '--user-name', 'admin', '--policy-name', 'admin', '--policy-document', ADMIN_POLICY],
      anonymous,
    );
    const out = await awsJson<{ AccessKey: { AccessKeyId: string; SecretAccessKey: string } }>(
      ['iam', 'create-access-key', '--user-name', 'admin'],
      anonymous,
    );
    admin = { id: out.AccessKey.AccessKeyId, secret: out.AccessKey.SecretAccessKey };
  });

  afterAll(async () => {
    await moto.stop();
  });

  describe('a keys base: create, assume, a second tenant, delete', () => {
    const name = 'tk';
    const roleA = 'tk-ecr-tenant-team-a';
    const roleB = 'tk-ecr-tenant-team-b';
    let base: { arn: string; key: Creds };
    let roleAArn = '';

    beforeAll(async () => {
      base = await baseUserAtRoot(name);
      // The base's own pull policy, as the base's create writes it: it must survive tenant deletes.
      await awsDo([
        'iam',
        'put-user-policy',
        '--user-name',
        'tk-ecr-puller',
        '--policy-name',
        'tk-ecr-pull',
        '--policy-document',
        ADMIN_POLICY.replace('"Action":"*"', '"Action":"ecr:GetAuthorizationToken"'),
      ]);
    });

    test('create --tenant writes the role with exactly the pull policy, the trust and the base grant asked for, and prints the ARN and the --tenant flag', async () => {
      const out = await bootstrap([
        'create',
        '--tenant',
        'team-a',
        '--repositories',
        'team-a/*,shared/base',
        '--repositories',
        `arn:aws:ecr:us-east-1:${ACCOUNT}:repository/team-a/*`,
        '--name',
        name,
        '--region',
        REGION,
      ]);
      expect({ code: out.code, stderr: out.stderr }).toMatchObject({ code: 0 });
      roleAArn = printedRole(out.stdout);
      expect(roleAArn).toBe(`arn:aws:iam::${ACCOUNT}:role/system/${roleA}`);
      expect(out.stdout).toContain(`--tenant 'team-a-*=${roleAArn}'`);

      const got = await role(roleA);
      expect(got.Arn).toBe(roleAArn);
      expect(got.Path).toBe('/system/');
      expect(got.Tags).toContainEqual(TAG);
      expect(got.AssumeRolePolicyDocument).toEqual(trustOf(base.arn));
      expect(await rolePolicy(roleA, 'tk-ecr-pull')).toEqual(
        tenantPolicy([
          repoArn('team-a/*'),
          repoArn('shared/base'),
          `arn:aws:ecr:us-east-1:${ACCOUNT}:repository/team-a/*`,
        ]),
      );
      const attached = await awsJson<{ AttachedPolicies: unknown[] }>([
        'iam',
        'list-attached-role-policies',
        '--role-name',
        roleA,
      ]);
      expect(attached.AttachedPolicies).toEqual([]);
      expect(await userPolicyNames('tk-ecr-puller')).toEqual(['tk-ecr-assume-tenant-team-a', 'tk-ecr-pull']);
      expect(await userPolicy('tk-ecr-puller', 'tk-ecr-assume-tenant-team-a')).toEqual(grantOf(roleAArn));
    });

    test('the base user assumes the tenant role and gets an ECR token as that role', async () => {
      const assumed = await assumeRole(roleAArn, base.key);
      expect({ code: assumed.code, stderr: assumed.stderr }).toEqual({ code: 0, stderr: '' });
      const session = (
        JSON.parse(assumed.stdout) as {
          Credentials: { AccessKeyId: string; SecretAccessKey: string; SessionToken: string };
        }
      ).Credentials;
      const asTenant: Creds = { id: session.AccessKeyId, secret: session.SecretAccessKey, token: session.SessionToken };
      const who = await awsJson<{ Arn: string }>(['sts', 'get-caller-identity'], asTenant);
      expect(who.Arn).toBe(`arn:aws:sts::${ACCOUNT}:assumed-role/${roleA}/test`);
      const token = await awsJson<{ authorizationData: { authorizationToken: string; proxyEndpoint: string }[] }>(
        ['ecr', 'get-authorization-token'],
        asTenant,
      );
      expect(token.authorizationData[0]?.proxyEndpoint).toBe(`https://${ACCOUNT}.dkr.ecr.${REGION}.amazonaws.com`);
      expect(Buffer.from(token.authorizationData[0]?.authorizationToken ?? '', 'base64').toString()).toBe(
        `AWS:${ACCOUNT}-auth-token`,
      );
      // The role's session holds the tenant's policy only: IAM is not in it.
      expect((await aws(['iam', 'list-users'], asTenant)).stderr).toMatch(/AccessDenied/);
    });

    test('a principal the trust does not name is refused AssumeRole, even with sts:AssumeRole on "*"', async () => {
      await awsDo(['iam', 'create-user', '--user-name', 'stranger']);
      await awsDo([
        'iam',
        'put-user-policy',
        '--user-name',
        'stranger',
        '--policy-name',
        'assume-anything',
        '--policy-document',
        JSON.stringify({
          Version: '2012-10-17',
          Statement: [{ Effect: 'Allow', Action: 'sts:AssumeRole', Resource: '*' }],
        }),
      ]);
      const stranger = await createKey('stranger');
      const refused = await assumeRole(roleAArn, stranger);
      expect(refused.code).not.toBe(0);
      expect(refused.stderr).toMatch(/AccessDenied/);
    });

    test('the trust alone does not let the base assume a role: moto also requires the grant the script puts on the base', async () => {
      const trustsBase = JSON.stringify(trustOf(base.arn));
      await awsDo(['iam', 'create-role', '--role-name', 'tk-ungranted', '--assume-role-policy-document', trustsBase]);
      const refused = await assumeRole(`arn:aws:iam::${ACCOUNT}:role/tk-ungranted`, base.key);
      expect(refused.code).not.toBe(0);
      expect(refused.stderr).toMatch(/AccessDenied/);
      await awsDo(['iam', 'delete-role', '--role-name', 'tk-ungranted']);
    });

    test('create --tenant again changes nothing and says so', async () => {
      const before = await role(roleA);
      const out = await bootstrap([
        'create',
        '--tenant',
        'team-a',
        '--repositories',
        `team-a/*,shared/base,arn:aws:ecr:us-east-1:${ACCOUNT}:repository/team-a/*`,
        '--name',
        name,
        '--region',
        REGION,
      ]);
      expect(out.code).toBe(0);
      expect(out.stderr).toContain(`role ${roleA} exists and trusts ${base.arn} only`);
      expect(out.stderr).toContain(`policy tk-ecr-pull of ${roleA} is up to date`);
      expect(out.stderr).toContain('policy tk-ecr-assume-tenant-team-a of tk-ecr-puller is up to date');
      expect(await role(roleA)).toEqual(before);

      // Other repositories: the role's policy is rewritten; its trust and the grant stay.
      const grant = await userPolicy('tk-ecr-puller', 'tk-ecr-assume-tenant-team-a');
      const changed = await bootstrap([
        'create',
        '--tenant',
        'team-a',
        '--repositories',
        'team-a/app',
        '--name',
        name,
        '--region',
        REGION,
      ]);
      expect(changed.code).toBe(0);
      expect(await rolePolicy(roleA, 'tk-ecr-pull')).toEqual(tenantPolicy([repoArn('team-a/app')]));
      expect((await role(roleA)).AssumeRolePolicyDocument).toEqual(before.AssumeRolePolicyDocument);
      expect(await userPolicy('tk-ecr-puller', 'tk-ecr-assume-tenant-team-a')).toEqual(grant);
    });

    test('delete --tenant removes exactly the role, its policy and the base grant; the second tenant and the base policy stay', async () => {
      const created = await bootstrap([
        'create',
        '--tenant',
        'team-b',
        '--repositories',
        'team-b/*',
        '--name',
        name,
        '--region',
        REGION,
      ]);
      expect(created.code).toBe(0);
      const roleB0 = await role(roleB);
      const roleBPolicy = await rolePolicy(roleB, 'tk-ecr-pull');
      const grantB = await userPolicy('tk-ecr-puller', 'tk-ecr-assume-tenant-team-b');
      const basePolicy = await userPolicy('tk-ecr-puller', 'tk-ecr-pull');

      const out = await bootstrap(['delete', '--tenant', 'team-a', '--name', name, '--region', REGION, '--yes']);
      expect({ code: out.code, stderr: out.stderr }).toMatchObject({ code: 0 });
      expect(await roleNames()).not.toContain(roleA);
      expect(await userPolicyNames('tk-ecr-puller')).toEqual(['tk-ecr-assume-tenant-team-b', 'tk-ecr-pull']);
      // The other tenant and the base are as they were, to the byte.
      expect(await role(roleB)).toEqual(roleB0);
      expect(await rolePolicy(roleB, 'tk-ecr-pull')).toEqual(roleBPolicy);
      expect(await userPolicy('tk-ecr-puller', 'tk-ecr-assume-tenant-team-b')).toEqual(grantB);
      expect(await userPolicy('tk-ecr-puller', 'tk-ecr-pull')).toEqual(basePolicy);
      // ...and team-b still works end to end.
      expect((await assumeRole(roleB0.Arn, base.key)).code).toBe(0);

      const again = await bootstrap(['delete', '--tenant', 'team-a', '--name', name, '--region', REGION, '--yes']);
      expect(again.code).toBe(0);
      expect(again.stderr).toContain(`nothing to delete: IAM role ${roleA} does not exist`);
    });

    test("the base's delete refuses while a tenant is assumed from it, and names the delete --tenant to run", async () => {
      const out = await bootstrap(['delete', '--name', name, '--region', REGION, '--yes', '--output', '-']);
      expect(out.code).toBe(1);
      expect(out.stderr).toContain(
        'IAM user tk-ecr-puller still holds tk-ecr-assume-tenant-team-b: tenant team-b is assumed from it. ' +
          'Delete the tenant first: bootstrap-iam.sh delete --tenant team-b --name tk (nothing was deleted)',
      );
      expect(await userPolicyNames('tk-ecr-puller')).toEqual(['tk-ecr-assume-tenant-team-b', 'tk-ecr-pull']);
    });
  });

  test('a create --tenant that fails at the base grant undoes the role and its policy it made, and nothing else', async () => {
    await baseUserAtRoot('tu');
    // An operator who may do anything but put a user policy: the third write of the run fails.
    await awsDo(['iam', 'create-user', '--user-name', 'no-user-policies']);
    await awsDo([
      'iam',
      'put-user-policy',
      '--user-name',
      'no-user-policies',
      '--policy-name',
      'all-but',
      '--policy-document',
      JSON.stringify({
        Version: '2012-10-17',
        Statement: [
          { Effect: 'Allow', Action: '*', Resource: '*' },
          { Effect: 'Deny', Action: 'iam:PutUserPolicy', Resource: '*' },
        ],
      }),
    ]);
    const operator = await createKey('no-user-policies');
    const before = await roleNames();
    const out = await bootstrap(
      ['create', '--tenant', 'team-a', '--repositories', 'team-a/*', '--name', 'tu', '--region', REGION],
      operator,
    );
    expect(out.code).toBe(1);
    expect(out.stderr).toContain('may not put policy tu-ecr-assume-tenant-team-a on user tu-ecr-puller');
    expect(out.stderr).toContain('undoing what this run changed');
    expect(out.stderr).not.toContain('FAILED');
    expect(await roleNames()).toEqual(before);
    expect(await userPolicyNames('tu-ecr-puller')).toEqual([]);
  });

  test('the rights README lists for --tenant are enough for create and delete', async () => {
    await baseUserAtRoot('tr');
    const actions = [
      'iam:GetUser',
      'iam:GetRole',
      'iam:CreateRole',
      'iam:TagRole',
      'iam:UpdateAssumeRolePolicy',
      'iam:GetRolePolicy',
      'iam:PutRolePolicy',
      'iam:DeleteRolePolicy',
      'iam:ListRolePolicies',
      'iam:ListAttachedRolePolicies',
      'iam:DeleteRole',
      'iam:GetUserPolicy',
      'iam:PutUserPolicy',
      'iam:DeleteUserPolicy',
    ];
    const readme = readFileSync(fileURLToPath(new URL('../../README.md', import.meta.url)), 'utf8');
    const listed = /Who may run it: ([^\n]*(?:\n {2}[^\n-][^\n]*)*)/.exec(readme)?.[1] ?? '';
    expect([...listed.matchAll(/`(iam:[A-Za-z]+)`/g)].map((m) => m[1])).toEqual(actions);
    await awsDo(['iam', 'create-user', '--user-name', 'tenant-operator']);
    await awsDo([
      'iam',
      'put-user-policy',
      '--user-name',
      'tenant-operator',
      '--policy-name',
      'documented',
      '--policy-document',
      JSON.stringify({ Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: actions, Resource: '*' }] }),
    ]);
    const operator = await createKey('tenant-operator');
    const flags = ['--tenant', 'team-a', '--name', 'tr', '--region', REGION];
    const created = await bootstrap(['create', ...flags, '--repositories', 'team-a/*'], operator);
    expect({ code: created.code, stderr: created.stderr }).toMatchObject({ code: 0 });
    const deleted = await bootstrap(['delete', ...flags, '--yes'], operator);
    expect({ code: deleted.code, stderr: deleted.stderr }).toMatchObject({ code: 0 });
    expect(await roleNames()).not.toContain('tr-ecr-tenant-team-a');
    expect(await userPolicyNames('tr-ecr-puller')).toEqual([]);
  });

  test('a role of the tenant name that the script did not make is left alone by create and delete', async () => {
    await baseUserAtRoot('tx');
    const trust = JSON.stringify(trustOf('arn:aws:iam::123456789012:root'));
    await awsDo(['iam', 'create-role', '--role-name', 'tx-ecr-tenant-team-a', '--assume-role-policy-document', trust]);
    const before = await role('tx-ecr-tenant-team-a');
    const flags = ['--tenant', 'team-a', '--name', 'tx', '--region', REGION];
    const created = await bootstrap(['create', ...flags, '--repositories', 'team-a/*']);
    expect(created.code).toBe(1);
    expect(created.stderr).toContain(
      'IAM role tx-ecr-tenant-team-a exists but was not created by bootstrap-iam.sh (no tag ecr-k8s-credentials:managed-by=bootstrap-iam.sh), so it is left alone',
    );
    const deleted = await bootstrap(['delete', ...flags, '--yes']);
    expect(deleted.code).toBe(1);
    expect(deleted.stderr).toContain('was not created by bootstrap-iam.sh');
    expect(await role('tx-ecr-tenant-team-a')).toEqual(before);
    expect(await userPolicyNames('tx-ecr-puller')).toEqual([]);
  });

  test('the trust names the base user by the ARN IAM reports, /system/ path included, when the script made the base', async () => {
    const file = join(mkdtempSync(join(tmpdir(), 'tenant-base-')), 'secret.yaml');
    const made = await bootstrap(['create', '--name', 'ts', '--region', REGION, '--output', file]);
    expect(made.code).toBe(0);
    expect(readFileSync(file, 'utf8')).toContain('AWS_ACCESS_KEY_ID');
    const out = await bootstrap([
      'create',
      '--tenant',
      'team-a',
      '--repositories',
      'team-a/*',
      '--name',
      'ts',
      '--region',
      REGION,
    ]);
    expect(out.code).toBe(0);
    expect((await role('ts-ecr-tenant-team-a')).AssumeRolePolicyDocument).toEqual(
      trustOf(`arn:aws:iam::${ACCOUNT}:user/system/ts-ecr-puller`),
    );
  });

  test('a web-identity base: the trust names the base role, the grant goes on the role, and delete --tenant finds it there', async () => {
    const made = await bootstrap([
      'create',
      '--web-identity',
      '--issuer-url',
      'https://oidc.example.com/tenant-test',
      '--name',
      'tw',
      '--region',
      REGION,
    ]);
    expect(made.code).toBe(0);
    const baseArn = `arn:aws:iam::${ACCOUNT}:role/system/tw-ecr-puller`;
    const out = await bootstrap([
      'create',
      '--tenant',
      'team-a',
      '--web-identity',
      '--repositories',
      'team-a/*',
      '--name',
      'tw',
      '--region',
      REGION,
    ]);
    expect(out.code).toBe(0);
    const tenantArn = printedRole(out.stdout);
    expect((await role('tw-ecr-tenant-team-a')).AssumeRolePolicyDocument).toEqual(trustOf(baseArn));
    expect(await rolePolicy('tw-ecr-puller', 'tw-ecr-assume-tenant-team-a')).toEqual(grantOf(tenantArn));

    // Without --web-identity: delete looks for the grant on the base user and the base role.
    const deleted = await bootstrap(['delete', '--tenant', 'team-a', '--name', 'tw', '--region', REGION, '--yes']);
    expect(deleted.code).toBe(0);
    const left = await awsJson<{ PolicyNames: string[] }>([
      'iam',
      'list-role-policies',
      '--role-name',
      'tw-ecr-puller',
    ]);
    expect(left.PolicyNames).toEqual(['tw-ecr-pull']);
    expect(await roleNames()).not.toContain('tw-ecr-tenant-team-a');
  });

  test('create --tenant with no base principal is refused with exit 2, naming both ways to make one, and creates nothing', async () => {
    const before = await roleNames();
    const out = await bootstrap([
      'create',
      '--tenant',
      'x',
      '--repositories',
      'x/*',
      '--name',
      'nobase',
      '--region',
      REGION,
    ]);
    expect(out.code).toBe(2);
    expect(out.stderr).toContain(
      'neither IAM user nor IAM role nobase-ecr-puller exists (--name "nobase"): a tenant role is assumed from the base principal, ' +
        "so create that first with 'bootstrap-iam.sh create' (keys) or 'bootstrap-iam.sh create --web-identity'",
    );
    expect(await roleNames()).toEqual(before);
  });

  test('create --tenant --web-identity on a keys base is refused with exit 2 and says to drop --web-identity', async () => {
    await baseUserAtRoot('tkw');
    const out = await bootstrap([
      'create',
      '--tenant',
      'x',
      '--web-identity',
      '--repositories',
      'x/*',
      '--name',
      'tkw',
      '--region',
      REGION,
    ]);
    expect(out.code).toBe(2);
    expect(out.stderr).toContain('IAM role tkw-ecr-puller does not exist, but IAM user tkw-ecr-puller does');
    expect(await roleNames()).not.toContain('tkw-ecr-tenant-x');
  });

  test.each([
    {
      args: ['--tenant', 'team a', '--repositories', 'team-a/*'],
      message:
        '--tenant "team a" is not usable in an IAM role name: use letters, digits and + = , . @ _ -, e.g. --tenant team-a',
    },
    {
      args: ['--tenant', 'team-a'],
      message:
        "create --tenant team-a needs --repositories: the repositories tenant team-a may pull, e.g. --repositories 'team-a/*' (comma-separated or repeated)",
    },
    {
      args: ['--tenant', 'team-a', '--repositories', 'team-a/*,'],
      message: '--repositories item "" is not an ECR repository name or pattern',
    },
    {
      args: ['--tenant', 'team-a', '--repositories', 'Team-A/*'],
      message: '--repositories item "Team-A/*" is not an ECR repository name or pattern',
    },
    {
      args: ['--tenant', 'a'.repeat(60), '--repositories', 'x/*'],
      message: `is too long: the role name tk-ecr-tenant-${'a'.repeat(60)} would have 74 characters, IAM allows 64. Use at most 50 characters`,
    },
    {
      args: ['--tenant', 'team-a', '--repository', 'team-a/*'],
      message: "with --tenant the tenant's repositories go in --repositories",
    },
    {
      args: ['--repositories', 'team-a/*'],
      message: '--repositories only applies with --tenant NAME',
    },
    {
      args: ['--tenant', 'team-a', '--repositories', 'team-a/*', '--pull-through-cache'],
      message: "--pull-through-cache shapes the base principal's policy, not a tenant role's; run it without --tenant",
    },
    {
      args: ['--tenant', 'team-a', '--repositories', 'team-a/*', '--ecr-public'],
      message: "--ecr-public shapes the base principal's policy, not a tenant role's; run it without --tenant",
    },
    {
      args: ['--tenant', 'team-a', '--repositories', 'team-a/*', '--output', '-'],
      message: '--output has no use with --tenant: a tenant role has no key and no Secret',
    },
    {
      args: ['--tenant', 'team-a', '--repositories', 'team-a/*', '--context', 'prod'],
      message: '--context has no use with --tenant: no cluster is touched',
    },
  ])('create $args is refused with exit 2 before any AWS call', async ({ args, message }) => {
    const before = (await moto.stats()).requests;
    const out = await bootstrap(['create', ...args, '--name', 'tk', '--region', REGION]);
    expect(out.code).toBe(2);
    expect(out.stderr).toContain(message);
    expect((await moto.stats()).requests).toBe(before);
  });

  test.each([
    { command: 'create', more: ['--repositories', 'team-a/*'] },
    { command: 'delete', more: ['--yes'] },
  ])('$command --tenant --dry-run prints the plan and sends AWS nothing', async ({ command, more }) => {
    const before = (await moto.stats()).requests;
    const out = await bootstrap([
      command,
      '--tenant',
      'team-a',
      '--name',
      'tk',
      '--region',
      REGION,
      '--dry-run',
      ...more,
    ]);
    expect({ code: out.code, stderr: out.stderr }).toEqual({ code: 0, stderr: '' });
    expect(out.stdout).toMatch(/^# Assumes: /);
    expect(out.stdout).toContain(`# bootstrap-iam.sh ${command} --tenant team-a --dry-run: nothing below is run.`);
    expect(out.stdout).toContain(
      command === 'create'
        ? 'aws iam create-role --role-name tk-ecr-tenant-team-a'
        : 'aws iam delete-role --role-name tk-ecr-tenant-team-a',
    );
    expect(out.stdout.trimEnd().endsWith('# end of plan')).toBe(true);
    expect((await moto.stats()).requests).toBe(before);
  });

  test('in aws-cn every ARN the script writes names the aws-cn partition', async () => {
    // A moto of its own without authentication: IAM is per partition in moto, and the admin lives in aws.
    const cn = await startMoto();
    try {
      const cnEnv = { ...env(admin), AWS_ENDPOINT_URL: cn.endpoint };
      const run = (args: readonly string[]) => exec('/bin/bash', [SCRIPT, ...args], cnEnv);
      const awsCn = (args: readonly string[]) =>
        exec(realAws, [...args, '--region', 'cn-north-1', '--output', 'json'], {
          ...cnEnv,
          PATH: toolsPath,
          HOME: tmpdir(),
          AWS_CONFIG_FILE: '/nonexistent',
          AWS_SHARED_CREDENTIALS_FILE: '/nonexistent',
        });
      const made = await awsCn([
        'iam',
        'create-user',
        '--user-name',
        'cn-ecr-puller',
        '--tags',
        `Key=${TAG.Key},Value=${TAG.Value}`,
      ]);
      const baseArn = (JSON.parse(made.stdout) as { User: { Arn: string } }).User.Arn;
      expect(baseArn).toBe(`arn:aws-cn:iam::${ACCOUNT}:user/cn-ecr-puller`);
      const out = await run([
        'create',
        '--tenant',
        'team-a',
        '--repositories',
        'team-a/*',
        '--name',
        'cn',
        '--region',
        'cn-north-1',
      ]);
      expect({ code: out.code, stderr: out.stderr }).toMatchObject({ code: 0 });
      const roleArn = `arn:aws-cn:iam::${ACCOUNT}:role/system/cn-ecr-tenant-team-a`;
      expect(printedRole(out.stdout)).toBe(roleArn);
      const got = JSON.parse((await awsCn(['iam', 'get-role', '--role-name', 'cn-ecr-tenant-team-a'])).stdout) as {
        Role: { AssumeRolePolicyDocument: unknown };
      };
      expect(got.Role.AssumeRolePolicyDocument).toEqual(trustOf(baseArn));
      const policy = JSON.parse(
        (await awsCn(['iam', 'get-role-policy', '--role-name', 'cn-ecr-tenant-team-a', '--policy-name', 'cn-ecr-pull']))
          .stdout,
      ) as { PolicyDocument: unknown };
      expect(policy.PolicyDocument).toEqual(tenantPolicy([`arn:aws-cn:ecr:cn-north-1:${ACCOUNT}:repository/team-a/*`]));
      const grant = JSON.parse(
        (
          await awsCn([
            'iam',
            'get-user-policy',
            '--user-name',
            'cn-ecr-puller',
            '--policy-name',
            'cn-ecr-assume-tenant-team-a',
          ])
        ).stdout,
      ) as { PolicyDocument: unknown };
      expect(grant.PolicyDocument).toEqual(grantOf(roleArn));
    } finally {
      await cn.stop();
    }
  });

  test('create --ecr-public adds ecr-public:GetAuthorizationToken and sts:GetServiceBearerToken on "*" to the base policy', async () => {
    const file = join(mkdtempSync(join(tmpdir(), 'ecr-public-')), 'secret.yaml');
    const out = await bootstrap(['create', '--ecr-public', '--name', 'tp', '--region', REGION, '--output', file]);
    expect(out.code).toBe(0);
    expect(await userPolicy('tp-ecr-puller', 'tp-ecr-pull')).toEqual({
      Version: '2012-10-17',
      Statement: [
        { Sid: 'EcrLogin', Effect: 'Allow', Action: 'ecr:GetAuthorizationToken', Resource: '*' },
        { Sid: 'EcrPull', Effect: 'Allow', Action: ['ecr:BatchGetImage', 'ecr:GetDownloadUrlForLayer'], Resource: '*' },
        {
          Sid: 'EcrPublicLogin',
          Effect: 'Allow',
          Action: ['ecr-public:GetAuthorizationToken', 'sts:GetServiceBearerToken'],
          Resource: '*',
        },
      ],
    });
    // Without the flag, a re-run aligns the policy back: the option shapes the policy.
    const again = await bootstrap(['create', '--name', 'tp', '--region', REGION, '--output', file]);
    expect(again.code).toBe(0);
    const statements = (await userPolicy('tp-ecr-puller', 'tp-ecr-pull')) as { Statement: { Sid: string }[] };
    expect(statements.Statement.map((s) => s.Sid)).toEqual(['EcrLogin', 'EcrPull']);
  });

  test.each([
    { region: 'cn-north-1', partition: 'aws-cn' },
    { region: 'us-gov-west-1', partition: 'aws-us-gov' },
  ])('create --ecr-public in $region is refused with exit 2 before any AWS call', async ({ region, partition }) => {
    const before = (await moto.stats()).requests;
    const out = await bootstrap(['create', '--ecr-public', '--name', 'tp', '--region', region, '--output', '-']);
    expect(out.code).toBe(2);
    expect(out.stderr).toContain(
      `--ecr-public: ECR Public exists only in the aws partition, and --region "${region}" is in ${partition}, where no ecr-public API answers; drop --ecr-public`,
    );
    expect((await moto.stats()).requests).toBe(before);
  });
});
