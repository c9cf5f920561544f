// scripts/bootstrap-iam.sh against moto with authentication ON (every call signed and checked
// against IAM policies), the real aws CLI, and the harness's real kube-apiserver.
//
// moto's limits shape some assertions: it evaluates ECR permissions only against Resource "*"
// (so a policy scoped with --repository is checked by its exact JSON, not by calls), it does not
// implement GetDownloadUrlForLayer, and new keys work at once (no IAM propagation delay).
import { spawn } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { parse } from 'yaml';
import { cluster, e2eAvailable, runWithArgvAudit, scriptEnv, startMoto, type Moto } from './harness/index.js';

const SCRIPT = fileURLToPath(new URL('../../scripts/bootstrap-iam.sh', import.meta.url));
const REGION = 'eu-west-1';
const ACCOUNT = '123456789012';
const ADMIN_POLICY = JSON.stringify({
  Version: '2012-10-17',
  Statement: [{ Effect: 'Allow', Action: '*', Resource: '*' }],
});

interface Creds {
  readonly id: string;
  readonly secret: string;
}

interface Outcome {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
  /** Every distinct /proc/PID/cmdline seen (NULs as spaces) while the script ran. */
  readonly cmdlines: ReadonlySet<string>;
  /** strace's record of every execve (with its argv) of the script and its children. */
  readonly execs: readonly string[];
}

interface SecretObject {
  metadata: { resourceVersion: string; labels?: Record<string, string> };
  type: string;
  data: Record<string, string>;
}

function exec(
  command: string,
  args: readonly string[],
  env: NodeJS.ProcessEnv,
  input = '',
): Promise<{ code: number; stdout: string; stderr: string }> {
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

/** What README's "Who may run bootstrap-iam.sh" lists for the caller (create, rotate, delete). */
const OPERATOR_ACTIONS = [
  'iam:GetUser',
  'iam:CreateUser',
  'iam:TagUser',
  'iam:DeleteUser',
  'iam:GetUserPolicy',
  'iam:PutUserPolicy',
  'iam:DeleteUserPolicy',
  'iam:ListUserPolicies',
  'iam:ListAttachedUserPolicies',
  'iam:ListAccessKeys',
  'iam:CreateAccessKey',
  'iam:DeleteAccessKey',
];

const decode = (b64: string): string => Buffer.from(b64, 'base64').toString('utf8');

describe.skipIf(!e2eAvailable.ok)('scripts/bootstrap-iam.sh', () => {
  let moto: Moto;
  let admin: Creds;
  let nobody: Creds;
  let toolsPath: string;
  let realAws: string;
  let namespaceCounter = 0;

  /** The script's environment: Alpine-like busybox tools first (stricter than GNU, like BSD). */
  function env(creds: Creds | null, extra: Record<string, string> = {}): NodeJS.ProcessEnv {
    return scriptEnv({
      AWS_ENDPOINT_URL: moto.endpoint,
      AWS_EC2_METADATA_DISABLED: 'true',
      KUBECONFIG: cluster().adminKubeconfig,
      BOOTSTRAP_IAM_PROOF_INTERVAL: '1',
      ...(creds ? { AWS_ACCESS_KEY_ID: creds.id, AWS_SECRET_ACCESS_KEY: creds.secret } : {}),
      ...extra,
    });
  }

  /**
   * Runs the script. With `auditArgv`, two independent watches of every argv: strace records each
   * execve of the script and its children (exhaustive, even for a process that lives a
   * microsecond), and every /proc/PID/cmdline on the machine is read every few milliseconds
   * while it runs (what another user could see).
   */
  async function bootstrap(
    args: readonly string[],
    runEnv: NodeJS.ProcessEnv,
    opts: { input?: string; auditArgv?: boolean } = {},
  ): Promise<Outcome> {
    if (opts.auditArgv !== true) {
      return { ...(await exec('/bin/bash', [SCRIPT, ...args], runEnv, opts.input)), cmdlines: new Set(), execs: [] };
    }
    // Not environ: the proof of a new key passes it in one aws process's environment by design.
    const audited = await runWithArgvAudit('/bin/bash', [SCRIPT, ...args], { env: runEnv, input: opts.input });
    return { ...audited, cmdlines: audited.procSeen };
  }

  /** Every argv the audit saw that holds `secret`; must be empty. */
  function argvLeaks(out: Outcome, secret: string): string[] {
    return [...out.cmdlines, ...out.execs].filter((line) => line.includes(secret));
  }

  /** Proves the audit watched: it saw the aws process that created the key. */
  function sawKeyCreation(out: Outcome): { procPoll: boolean; strace: boolean } {
    return {
      procPoll: [...out.cmdlines].some((line) => line.includes('create-access-key')),
      strace: out.execs.some((line) => line.includes('"create-access-key"')),
    };
  }

  async function aws(args: readonly string[], creds: Creds | null = admin) {
    return exec(realAws, [...args, '--region', REGION], {
      PATH: toolsPath,
      HOME: tmpdir(),
      AWS_ENDPOINT_URL: moto.endpoint,
      AWS_EC2_METADATA_DISABLED: 'true',
      AWS_CONFIG_FILE: '/nonexistent',
      AWS_SHARED_CREDENTIALS_FILE: '/nonexistent',
      ...(creds ? { AWS_ACCESS_KEY_ID: creds.id, AWS_SECRET_ACCESS_KEY: creds.secret } : {}),
    });
  }

  async function awsJson<T>(args: readonly string[], creds: Creds | null = admin): Promise<T> {
    const out = await aws([...args, '--output', 'json'], creds);
    if (out.code !== 0) throw new Error(`aws ${args.join(' ')} exited ${out.code}: ${out.stderr}`);
    return (out.stdout.trim() === '' ? null : JSON.parse(out.stdout)) as T;
  }

  /** An aws call for its effect only (put-user-policy and the like print nothing). */
  async function awsDo(args: readonly string[], creds: Creds | null = admin): Promise<void> {
    const out = await aws(args, creds);
    if (out.code !== 0) throw new Error(`aws ${args.join(' ')} exited ${out.code}: ${out.stderr}`);
  }

  async function userNames(): Promise<string[]> {
    const out = await awsJson<{ Users: { UserName: string }[] }>(['iam', 'list-users']);
    return out.Users.map((user) => user.UserName).sort();
  }

  async function keyIds(user: string): Promise<string[]> {
    const out = await awsJson<{ AccessKeyMetadata: { AccessKeyId: string }[] }>([
      'iam',
      'list-access-keys',
      '--user-name',
      user,
    ]);
    return out.AccessKeyMetadata.map((key) => key.AccessKeyId).sort();
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

  async function newNamespace(): Promise<string> {
    namespaceCounter += 1;
    const name = `bootstrap-${namespaceCounter}-${Date.now().toString(36)}`;
    await cluster().kubectl(['create', 'namespace', name]);
    return name;
  }

  async function readSecret(namespace: string, name = 'aws-ecr-credentials'): Promise<SecretObject | null> {
    const out = await cluster().kubectl(['-n', namespace, 'get', 'secret', name, '-o', 'json', '--ignore-not-found']);
    return out.stdout.trim() === '' ? null : (JSON.parse(out.stdout) as SecretObject);
  }

  function credsOf(secret: SecretObject): Creds {
    return { id: decode(secret.data.AWS_ACCESS_KEY_ID ?? ''), secret: decode(secret.data.AWS_SECRET_ACCESS_KEY ?? '') };
  }

  /** The common flags of a test: its own IAM name prefix and namespace. */
  function flags(name: string, namespace: string, ...more: string[]): string[] {
    return ['--name', name, '--region', REGION, '--namespace', namespace, ...more];
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
    await awsDo(['iam', 'create-user', '--user-name', 'nobody']);
    nobody = await createKey('nobody');
  });

  afterAll(async () => {
    await moto.stop();
  });

  test('moto checks authentication and IAM policies in this suite', async () => {
    const unsigned = await aws(['iam', 'list-users'], { id: 'AKIAIOSFODNN7EXAMPLE', secret: 'wrong' });
    expect(unsigned.code).not.toBe(0);
    expect(unsigned.stderr).toMatch(/InvalidClientTokenId/);
    const unauthorized = await aws(['iam', 'list-users'], nobody);
    expect(unauthorized.stderr).toMatch(/AccessDenied/);
    expect((await aws(['iam', 'list-users'])).code).toBe(0);
  });

  test.each(['create', 'rotate', 'delete'])('%s --help names the command and its options', async (command) => {
    const out = await bootstrap([command, '--help'], env(admin));
    expect(out.code).toBe(0);
    expect(out.stdout).toContain(`Usage: bootstrap-iam.sh ${command}`);
    for (const option of ['--name', '--region', '--namespace', '--secret-name', '--context', '--output', '--dry-run']) {
      expect(out.stdout).toContain(option);
    }
    expect(out.stdout.includes('--yes')).toBe(command === 'delete');
    expect(out.stdout.includes('--repository')).toBe(command === 'create');
  });

  describe('in-cluster lifecycle: create, create again, rotate, delete', () => {
    const name = 'life';
    const user = 'life-ecr-puller';
    let namespace: string;
    let firstKey: Creds;

    beforeAll(async () => {
      namespace = await newNamespace();
    });

    test('create makes the user, policy and one key, and the Secret the bundle reads', async () => {
      const out = await bootstrap(['create', ...flags(name, namespace)], env(admin), { auditArgv: true });
      expect(out.stderr).toContain('done:');
      expect(out.code).toBe(0);

      const secret = await readSecret(namespace);
      expect(secret).not.toBeNull();
      if (secret === null) return;
      expect(secret.type).toBe('Opaque');
      expect(secret.metadata.labels).toMatchObject({ 'app.kubernetes.io/part-of': 'ecr-k8s-credentials' });
      expect(Object.keys(secret.data).sort()).toEqual([
        'AWS_ACCESS_KEY_ID',
        'AWS_ACCOUNT_ID',
        'AWS_REGION',
        'AWS_SECRET_ACCESS_KEY',
      ]);
      expect(decode(secret.data.AWS_REGION ?? '')).toBe(REGION);
      expect(decode(secret.data.AWS_ACCOUNT_ID ?? '')).toBe(ACCOUNT);
      firstKey = credsOf(secret);
      expect(await keyIds(user)).toEqual([firstKey.id]);

      const got = await awsJson<{ User: { Path: string; Tags: { Key: string; Value: string }[] } }>([
        'iam',
        'get-user',
        '--user-name',
        user,
      ]);
      expect(got.User.Path).toBe('/system/');
      expect(got.User.Tags).toContainEqual({ Key: 'ecr-k8s-credentials:managed-by', Value: 'bootstrap-iam.sh' });
      const policies = await awsJson<{ PolicyNames: string[] }>(['iam', 'list-user-policies', '--user-name', user]);
      expect(policies.PolicyNames).toEqual(['life-ecr-pull']);
      const attached = await awsJson<{ AttachedPolicies: unknown[] }>([
        'iam',
        'list-attached-user-policies',
        '--user-name',
        user,
      ]);
      expect(attached.AttachedPolicies).toEqual([]);

      // The secret key never left the script except into the Secret.
      expect(firstKey.secret).toMatch(/^\S{20,}$/);
      expect(out.stdout + out.stderr).not.toContain(firstKey.secret);
      expect(sawKeyCreation(out)).toEqual({ procPoll: true, strace: true });
      expect(argvLeaks(out, firstKey.secret)).toEqual([]);
    });

    test('the key logs in to ECR and pulls, and is denied push, admin and IAM actions', async () => {
      const token = await awsJson<{ authorizationData: { proxyEndpoint: string }[] }>(
        ['ecr', 'get-authorization-token'],
        firstKey,
      );
      expect(token.authorizationData[0]?.proxyEndpoint).toBe(`https://${ACCOUNT}.dkr.ecr.${REGION}.amazonaws.com`);

      await awsJson(['ecr', 'create-repository', '--repository-name', 'life/app']);
      const manifest = JSON.stringify({
        schemaVersion: 2,
        mediaType: 'application/vnd.docker.distribution.manifest.v2+json',
      });
      await awsJson([
        'ecr',
        'put-image',
        '--repository-name',
        'life/app',
        '--image-tag',
        'v1',
        '--image-manifest',
        manifest,
      ]);
      const pulled = await awsJson<{ images: unknown[] }>(
        ['ecr', 'batch-get-image', '--repository-name', 'life/app', '--image-ids', 'imageTag=v1'],
        firstKey,
      );
      expect(pulled.images).toHaveLength(1);

      const denied: [string, ...string[]][] = [
        ['ecr', 'create-repository', '--repository-name', 'life/evil'],
        ['ecr', 'put-image', '--repository-name', 'life/app', '--image-tag', 'evil', '--image-manifest', manifest],
        ['ecr', 'initiate-layer-upload', '--repository-name', 'life/app'],
        ['ecr', 'batch-delete-image', '--repository-name', 'life/app', '--image-ids', 'imageTag=v1'],
        ['ecr', 'delete-repository', '--repository-name', 'life/app'],
        ['ecr', 'set-repository-policy', '--repository-name', 'life/app', '--policy-text', ADMIN_POLICY],
        ['ecr', 'describe-repositories'],
        ['iam', 'list-users'],
        ['iam', 'create-access-key', '--user-name', user],
      ];
      for (const args of denied) {
        const out = await aws(args, firstKey);
        expect({ args: args.slice(0, 2), code: out.code, denied: /AccessDenied/.test(out.stderr) }).toEqual({
          args: args.slice(0, 2),
          code: 255,
          denied: true,
        });
      }
    });

    test('create again changes nothing and points to rotate', async () => {
      const before = await readSecret(namespace);
      const usersBefore = await userNames();
      const out = await bootstrap(['create', ...flags(name, namespace)], env(admin));
      expect(out.code).toBe(0);
      expect(out.stderr).toContain('nothing more to do');
      expect(out.stderr).toContain('bootstrap-iam.sh rotate');
      expect(out.stderr).toContain(`policy ${name}-ecr-pull is up to date`);
      expect(await userNames()).toEqual(usersBefore);
      expect(await keyIds(user)).toEqual([firstKey.id]);
      const policies = await awsJson<{ PolicyNames: string[] }>(['iam', 'list-user-policies', '--user-name', user]);
      expect(policies.PolicyNames).toEqual(['life-ecr-pull']);
      const after = await readSecret(namespace);
      expect(after?.metadata.resourceVersion).toBe(before?.metadata.resourceVersion);
      expect((await aws(['ecr', 'get-authorization-token'], firstKey)).code).toBe(0);
    });

    test('rotate leaves exactly one key, the new one, in the Secret, and the old key dead', async () => {
      // No --region: the Secret keeps its region even though AWS_REGION says otherwise.
      const out = await bootstrap(
        ['rotate', '--name', name, '--namespace', namespace],
        env(admin, { AWS_REGION: 'us-west-2' }),
        { auditArgv: true },
      );
      expect(out.stderr).toContain(`keeping AWS_REGION=${REGION} from the Secret`);
      expect(out.stderr).toContain('done:');
      expect(out.code).toBe(0);
      const secret = await readSecret(namespace);
      if (secret === null) throw new Error('Secret gone after rotate');
      const rotated = credsOf(secret);
      expect(rotated.id).not.toBe(firstKey.id);
      expect(decode(secret.data.AWS_REGION ?? '')).toBe(REGION);
      expect(await keyIds(user)).toEqual([rotated.id]);
      expect((await aws(['ecr', 'get-authorization-token'], rotated)).code).toBe(0);
      const old = await aws(['ecr', 'get-authorization-token'], firstKey);
      expect(old.stderr).toMatch(/InvalidClientTokenId/);

      expect(out.stdout + out.stderr).not.toContain(rotated.secret);
      expect(sawKeyCreation(out)).toEqual({ procPoll: true, strace: true });
      expect(argvLeaks(out, rotated.secret)).toEqual([]);
    });

    test('delete without confirmation deletes nothing', async () => {
      const before = await keyIds(user);
      const out = await bootstrap(['delete', ...flags(name, namespace)], env(admin), { input: 'no\n' });
      expect(out.code).toBe(2);
      expect(out.stderr).toContain('not confirmed; nothing was deleted');
      expect(await keyIds(user)).toEqual(before);
      expect(await readSecret(namespace)).not.toBeNull();
    });

    test('delete after "yes" removes the Secret, keys, policy and user', async () => {
      const out = await bootstrap(['delete', ...flags(name, namespace)], env(admin), { input: 'yes\n' });
      expect(out.stderr).toContain('about to delete Secret');
      expect(out.code).toBe(0);
      expect(await userNames()).not.toContain(user);
      expect(await readSecret(namespace)).toBeNull();
      const again = await bootstrap(['delete', ...flags(name, namespace, '--yes')], env(admin));
      expect(again.code).toBe(0);
      expect(again.stderr).toContain('nothing to delete');
    });
  });

  test('shellcheck finds nothing in bootstrap-iam.sh and the parts it sources (bash)', async () => {
    const out = await exec('shellcheck', ['-x', '-s', 'bash', '-S', 'style', SCRIPT], { PATH: process.env.PATH ?? '' });
    expect(out.stdout + out.stderr).toBe('');
    expect(out.code).toBe(0);
  });

  test('the rights README documents for the caller are enough for create, rotate and delete', async () => {
    const namespace = await newNamespace();
    // AWS: exactly the listed actions, on "*" (moto cannot match IAM resource ARNs).
    await awsDo(['iam', 'create-user', '--user-name', 'operator']);
    const policy = JSON.stringify({
      Version: '2012-10-17',
      Statement: [{ Effect: 'Allow', Action: OPERATOR_ACTIONS, Resource: '*' }],
    });
    await awsDo([
      'iam',
      'put-user-policy',
      '--user-name',
      'operator',
      '--policy-name',
      'operate',
      '--policy-document',
      policy,
    ]);
    const operator = await createKey('operator');
    // Kubernetes: a Role with exactly the listed rights, for a ServiceAccount with nothing else.
    const rbac = {
      apiVersion: 'v1',
      kind: 'List',
      items: [
        { apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name: 'operator', namespace } },
        {
          apiVersion: 'rbac.authorization.k8s.io/v1',
          kind: 'Role',
          metadata: { name: 'bootstrap-iam', namespace },
          rules: [
            { apiGroups: [''], resources: ['namespaces'], resourceNames: [namespace], verbs: ['get'] },
            { apiGroups: [''], resources: ['secrets'], verbs: ['get', 'create', 'patch', 'delete'] },
          ],
        },
        {
          apiVersion: 'rbac.authorization.k8s.io/v1',
          kind: 'RoleBinding',
          metadata: { name: 'bootstrap-iam', namespace },
          roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: 'bootstrap-iam' },
          subjects: [{ kind: 'ServiceAccount', name: 'operator', namespace }],
        },
      ],
    };
    await cluster().kubectl(['apply', '-f', '-'], { input: JSON.stringify(rbac) });
    const runEnv = env(operator, { KUBECONFIG: await cluster().serviceAccountKubeconfig(namespace, 'operator') });

    const created = await bootstrap(['create', ...flags('operated', namespace)], runEnv);
    expect(created.stderr).toContain('done:');
    const rotated = await bootstrap(['rotate', ...flags('operated', namespace)], runEnv);
    expect(rotated.stderr).toContain('done:');
    const deleted = await bootstrap(['delete', ...flags('operated', namespace, '--yes')], runEnv);
    expect(deleted.stderr).toContain('deleted IAM user operated-ecr-puller');
    expect([created.code, rotated.code, deleted.code]).toEqual([0, 0, 0]);
    expect(await userNames()).not.toContain('operated-ecr-puller');
    expect(await readSecret(namespace)).toBeNull();
  });

  describe('--output mode (no cluster)', () => {
    test('create --output FILE writes a 0600 manifest of the Secret; a second create writes nothing', async () => {
      const dir = mkdtempSync(join(tmpdir(), 'bootstrap-out-'));
      const file = join(dir, 'secret.yaml');
      const out = await bootstrap(['create', '--name', 'file', '--region', REGION, '--output', file], env(admin), {
        auditArgv: true,
      });
      expect(out.code).toBe(0);
      expect(statSync(file).mode & 0o777).toBe(0o600);
      const manifest = parse(readFileSync(file, 'utf8')) as SecretObject & {
        kind: string;
        metadata: { name: string; namespace: string };
      };
      expect(manifest).toMatchObject({
        kind: 'Secret',
        type: 'Opaque',
        metadata: { name: 'aws-ecr-credentials', namespace: 'ecr-updater' },
      });
      const key = credsOf(manifest);
      expect(await keyIds('file-ecr-puller')).toEqual([key.id]);
      expect((await aws(['ecr', 'get-authorization-token'], key)).code).toBe(0);
      expect(out.stdout + out.stderr).not.toContain(key.secret);
      expect(sawKeyCreation(out).strace).toBe(true);
      expect(argvLeaks(out, key.secret)).toEqual([]);

      writeFileSync(file, 'kept');
      const again = await bootstrap(['create', '--name', 'file', '--region', REGION, '--output', file], env(admin));
      expect(again.code).toBe(0);
      expect(again.stderr).toContain('rotate --output');
      expect(readFileSync(file, 'utf8')).toBe('kept');
      expect(await keyIds('file-ecr-puller')).toEqual([key.id]);
    });

    test('rotate --output keeps the old key (the cluster may use it) and refuses a third', async () => {
      const dir = mkdtempSync(join(tmpdir(), 'bootstrap-out-'));
      const file = join(dir, 'rotated.yaml');
      const [oldId] = await keyIds('file-ecr-puller');
      const out = await bootstrap(['rotate', '--name', 'file', '--region', REGION, '--output', file], env(admin));
      expect(out.code).toBe(0);
      const key = credsOf(parse(readFileSync(file, 'utf8')) as SecretObject);
      expect(await keyIds('file-ecr-puller')).toEqual([oldId, key.id].sort());
      expect(out.stderr).toContain(
        `aws iam delete-access-key --user-name file-ecr-puller --access-key-id ${oldId ?? ''}`,
      );

      const third = await bootstrap(['rotate', '--name', 'file', '--region', REGION, '--output', file], env(admin));
      expect(third.code).toBe(1);
      expect(third.stderr).toContain('already has 2 access keys');
      expect(await keyIds('file-ecr-puller')).toHaveLength(2);
    });

    test('create --output - prints the manifest on stdout only', async () => {
      const out = await bootstrap(['create', '--name', 'stdout', '--region', REGION, '--output', '-'], env(admin), {
        auditArgv: true,
      });
      expect(out.code).toBe(0);
      const key = credsOf(parse(out.stdout) as SecretObject);
      expect(key.secret.length).toBeGreaterThanOrEqual(20);
      expect(out.stderr).not.toContain(key.secret);
      expect(sawKeyCreation(out).strace).toBe(true);
      expect(argvLeaks(out, key.secret)).toEqual([]);
      const deleted = await bootstrap(
        ['delete', '--name', 'stdout', '--region', REGION, '--output', '-', '--yes'],
        env(admin),
      );
      expect(deleted.code).toBe(0);
      expect(await userNames()).not.toContain('stdout-ecr-puller');
    });

    test('--repository and --pull-through-cache give exactly this policy', async () => {
      const out = await bootstrap(
        [
          'create',
          '--name',
          'scoped',
          '--region',
          REGION,
          '--output',
          '-',
          '--repository',
          'team-a/*',
          '--repository',
          'base/alpine',
          '--repository',
          'arn:aws:ecr:us-east-1:210987654321:repository/shared/*',
          '--pull-through-cache',
        ],
        env(admin),
      );
      expect(out.code).toBe(0);
      const policy = await awsJson<{ PolicyDocument: unknown }>([
        'iam',
        'get-user-policy',
        '--user-name',
        'scoped-ecr-puller',
        '--policy-name',
        'scoped-ecr-pull',
      ]);
      expect(policy.PolicyDocument).toEqual({
        Version: '2012-10-17',
        Statement: [
          { Sid: 'EcrLogin', Effect: 'Allow', Action: 'ecr:GetAuthorizationToken', Resource: '*' },
          {
            Sid: 'EcrPull',
            Effect: 'Allow',
            Action: [
              'ecr:BatchGetImage',
              'ecr:GetDownloadUrlForLayer',
              'ecr:BatchImportUpstreamImage',
              'ecr:CreateRepository',
            ],
            Resource: [
              `arn:aws:ecr:${REGION}:${ACCOUNT}:repository/team-a/*`,
              `arn:aws:ecr:${REGION}:${ACCOUNT}:repository/base/alpine`,
              'arn:aws:ecr:us-east-1:210987654321:repository/shared/*',
            ],
          },
        ],
      });
      // The login statement is on "*", which moto can evaluate: the scoped key still logs in.
      const key = credsOf(parse(out.stdout) as SecretObject);
      expect((await aws(['ecr', 'get-authorization-token'], key)).code).toBe(0);

      // Same options again: no write. Different options: the policy is brought in line.
      const same = await bootstrap(
        [
          'create',
          '--name',
          'scoped',
          '--region',
          REGION,
          '--output',
          '-',
          '--repository',
          'team-a/*',
          '--repository',
          'base/alpine',
          '--repository',
          'arn:aws:ecr:us-east-1:210987654321:repository/shared/*',
          '--pull-through-cache',
        ],
        env(admin),
      );
      expect(same.stderr).toContain('policy scoped-ecr-pull is up to date');
      const widened = await bootstrap(['create', '--name', 'scoped', '--region', REGION, '--output', '-'], env(admin));
      expect(widened.stderr).toContain('updated policy scoped-ecr-pull');
      const now = await awsJson<{ PolicyDocument: { Statement: { Resource: unknown }[] } }>([
        'iam',
        'get-user-policy',
        '--user-name',
        'scoped-ecr-puller',
        '--policy-name',
        'scoped-ecr-pull',
      ]);
      expect(now.PolicyDocument.Statement[1]?.Resource).toBe('*');
      expect(await keyIds('scoped-ecr-puller')).toEqual([key.id]);
    });
  });

  describe('--dry-run', () => {
    /** aws and kubectl stand-ins first on PATH that record any call and then fail. */
    function trapEnv(creds: Creds): { env: NodeJS.ProcessEnv; log: string } {
      const dir = mkdtempSync(join(tmpdir(), 'bootstrap-trap-'));
      const log = join(dir, 'calls.log');
      writeFileSync(log, '');
      for (const tool of ['aws', 'kubectl']) {
        const file = join(dir, tool);
        writeFileSync(file, `#!/bin/sh\necho "${tool} $*" >> '${log}'\nexit 99\n`);
        chmodSync(file, 0o755);
      }
      const base = env(creds);
      return { env: { ...base, PATH: `${dir}:${base.PATH ?? ''}` }, log };
    }

    test.each([
      [
        'create',
        [],
        ['aws iam create-user', 'aws iam put-user-policy', 'aws iam create-access-key', 'kubectl apply --server-side'],
      ],
      [
        'rotate',
        [],
        [
          'aws iam create-access-key',
          'kubectl apply --server-side',
          "aws iam delete-access-key --user-name dry-ecr-puller --access-key-id '<OLD_ACCESS_KEY_ID>'",
        ],
      ],
      [
        'delete',
        ['--yes'],
        ['kubectl -n ecr-updater delete secret aws-ecr-credentials', 'aws iam delete-user --user-name dry-ecr-puller'],
      ],
      ['create', ['--output', '-'], ['aws iam create-user', '# would print the Secret manifest']],
    ] as const)('%s %j prints the plan and calls nothing', async (command, extra, planned) => {
      const namespace = await newNamespace();
      const users = await userNames();
      const adminKeys = await keyIds('admin');
      const trap = trapEnv(admin);
      const args = [command, '--name', 'dry', '--region', REGION, '--dry-run', ...extra];
      const out = await bootstrap(args, trap.env);
      expect(out.stderr).toBe('');
      expect(out.code).toBe(0);
      for (const line of planned) expect(out.stdout).toContain(line);
      expect(out.stdout).toMatch(/^# Assumes: /m);
      expect(readFileSync(trap.log, 'utf8')).toBe('');

      // And with the real tools on PATH, moto and the cluster stay as they were.
      const real = await bootstrap([...args, '--namespace', namespace], env(admin));
      expect(real.code).toBe(0);
      expect(await userNames()).toEqual(users);
      expect(await keyIds('admin')).toEqual(adminKeys);
      expect(await readSecret(namespace)).toBeNull();
    });
  });

  describe('bad input: a message naming the option, value and fix; nothing left behind', () => {
    let namespace: string;
    let forbiddenKubeconfig: string;

    beforeAll(async () => {
      namespace = await newNamespace();
      await cluster().kubectl(['-n', namespace, 'create', 'serviceaccount', 'powerless']);
      forbiddenKubeconfig = await cluster().serviceAccountKubeconfig(namespace, 'powerless');
    });

    const cases: [string, () => { args: string[]; env: NodeJS.ProcessEnv }, number, RegExp[]][] = [
      [
        'unknown command',
        () => ({ args: ['frobnicate'], env: env(admin) }),
        2,
        [/unknown command "frobnicate"/, /create, rotate or delete/],
      ],
      [
        'unknown option',
        () => ({ args: ['create', '--regoin', REGION], env: env(admin) }),
        2,
        [/unknown option "--regoin" for create/, /create --help/],
      ],
      [
        'option without value',
        () => ({ args: ['create', '--region'], env: env(admin) }),
        2,
        [/--region needs a value, e.g. --region eu-west-1/],
      ],
      [
        'invalid region',
        () => ({ args: ['create', '--name', 'bad', '--region', 'eu-west'], env: env(admin) }),
        2,
        [/--region "eu-west" is not an AWS region name/, /eu-west-1/],
      ],
      [
        'no region anywhere',
        () => ({ args: ['create', '--name', 'bad'], env: env(admin) }),
        2,
        [/no region: pass --region/],
      ],
      [
        'bad --name',
        () => ({ args: ['create', '--name', 'bad name!', '--region', REGION], env: env(admin) }),
        2,
        [/--name "bad name!" is not usable/, /--name prod-cluster/],
      ],
      [
        'uppercase --repository',
        () => ({ args: ['create', '--name', 'bad', '--region', REGION, '--repository', 'Team/App'], env: env(admin) }),
        2,
        [/--repository "Team\/App"/, /lowercase/],
      ],
      [
        'malformed repository ARN',
        () => ({
          args: [
            'create',
            '--name',
            'bad',
            '--region',
            REGION,
            '--repository',
            'arn:aws:ecr:eu-west-1:123456789012:repository/a"b',
          ],
          env: env(admin),
        }),
        2,
        [/--repository "arn:aws:ecr:eu-west-1:123456789012:repository\/a"b" is not an ECR repository ARN/],
      ],
      [
        '--yes on create',
        () => ({ args: ['create', '--name', 'bad', '--region', REGION, '--yes'], env: env(admin) }),
        2,
        [/--yes only applies to delete/],
      ],
      [
        '--repository on rotate',
        () => ({ args: ['rotate', '--name', 'bad', '--region', REGION, '--repository', 'x'], env: env(admin) }),
        2,
        [/--repository only applies to create/],
      ],
      [
        'missing kube context',
        () => ({
          args: ['create', '--name', 'bad', '--region', REGION, '--namespace', namespace, '--context', 'prod-eu'],
          env: env(admin),
        }),
        2,
        [/--context "prod-eu" is not in your kubeconfig/, /kubectl config get-contexts/],
      ],
      [
        'missing namespace',
        () => ({ args: ['create', '--name', 'bad', '--region', REGION, '--namespace', 'no-such-ns'], env: env(admin) }),
        2,
        [/--namespace "no-such-ns" does not exist/, /kubectl apply -f dist\/00-namespace.yaml/],
      ],
      [
        '--output into a missing directory',
        () => ({
          args: ['create', '--name', 'bad', '--region', REGION, '--output', '/nonexistent/dir/s.yaml'],
          env: env(admin),
        }),
        2,
        [/--output "\/nonexistent\/dir\/s.yaml"/, /does not exist/],
      ],
      [
        'AWS rejects the credentials',
        () => ({
          args: ['create', '--name', 'bad', '--region', REGION, '--output', '-'],
          env: env({ id: admin.id, secret: 'not-the-secret' }),
        }),
        1,
        [/AWS rejected your credentials/, /SignatureDoesNotMatch/],
      ],
      [
        'caller without IAM rights',
        () => ({ args: ['create', '--name', 'bad', '--region', REGION, '--output', '-'], env: env(nobody) }),
        1,
        [
          /arn:aws:iam::123456789012:user\/nobody .*may not read IAM user bad-ecr-puller \(iam:GetUser\)/,
          /credentials that may manage IAM users/,
        ],
      ],
      [
        'kube user without rights',
        () => ({
          args: ['create', '--name', 'bad', '--region', REGION, '--namespace', namespace],
          env: env(admin, { KUBECONFIG: forbiddenKubeconfig }),
        }),
        1,
        [/does not allow you to read namespace/, /forbidden/],
      ],
    ];

    test.each(cases)('%s', async (_label, make, code, messages) => {
      const users = await userNames();
      const { args, env: runEnv } = make();
      const out = await bootstrap(args, runEnv);
      for (const message of messages) expect(out.stderr).toMatch(message);
      expect(out.code).toBe(code);
      expect(out.stdout).toBe('');
      expect(await userNames()).toEqual(users);
      expect(await readSecret(namespace)).toBeNull();
    });

    test('an untagged user of the same name is never taken over', async () => {
      await awsDo(['iam', 'create-user', '--user-name', 'foreign-ecr-puller']);
      const out = await bootstrap(['create', '--name', 'foreign', '--region', REGION, '--output', '-'], env(admin));
      expect(out.code).toBe(1);
      expect(out.stderr).toContain('was not created by bootstrap-iam.sh');
      expect(await keyIds('foreign-ecr-puller')).toEqual([]);
      const deleted = await bootstrap(
        ['delete', '--name', 'foreign', '--region', REGION, '--output', '-', '--yes'],
        env(admin),
      );
      expect(deleted.code).toBe(1);
      expect(await userNames()).toContain('foreign-ecr-puller');
    });
  });

  /**
   * An aws stand-in that makes moto's delete-user behave as IAM's: moto deletes a user that still
   * has access keys, IAM answers DeleteConflict. Before passing delete-user on, it lists the
   * user's keys in moto, records them, and refuses while any are left.
   */
  function iamDeleteConflicts(): { env: NodeJS.ProcessEnv; keysAtDeleteUser: () => string[][] } {
    const dir = mkdtempSync(join(tmpdir(), 'bootstrap-iam-like-'));
    const record = join(dir, 'keys-at-delete-user');
    writeFileSync(record, '');
    writeFileSync(
      join(dir, 'aws'),
      [
        '#!/bin/sh',
        'user=""; prev=""; deleting=false',
        'for arg in "$@"; do',
        '  [ "$arg" = delete-user ] && deleting=true',
        '  [ "$prev" = --user-name ] && user=$arg',
        '  prev=$arg',
        'done',
        'if $deleting; then',
        `  keys=$('${realAws}' iam list-access-keys --region us-east-1 --user-name "$user" --query 'AccessKeyMetadata[].AccessKeyId' --output text) || exit 254`,
        `  echo "[$keys]" >> '${record}'`,
        '  if [ -n "$keys" ]; then',
        '    echo "An error occurred (DeleteConflict) when calling the DeleteUser operation: Cannot delete entity, must delete access keys first." >&2',
        '    exit 254',
        '  fi',
        'fi',
        `exec '${realAws}' "$@"`,
        '',
      ].join('\n'),
    );
    chmodSync(join(dir, 'aws'), 0o755);
    const base = env(admin);
    return {
      env: { ...base, PATH: `${dir}:${base.PATH ?? ''}` },
      keysAtDeleteUser: () =>
        readFileSync(record, 'utf8')
          .split('\n')
          .filter((line) => line !== '')
          .map((line) => line.slice(1, -1).split(/\s+/).filter(Boolean)),
    };
  }

  describe('a later step fails: what this run created is undone', () => {
    test('no iam:CreateAccessKey: the new user and policy are deleted again', async () => {
      await awsDo(['iam', 'create-user', '--user-name', 'halfadmin']);
      const halfAdmin = JSON.stringify({
        Version: '2012-10-17',
        Statement: [
          {
            Effect: 'Allow',
            Action: [
              'iam:GetUser',
              'iam:CreateUser',
              'iam:TagUser',
              'iam:DeleteUser',
              'iam:PutUserPolicy',
              'iam:DeleteUserPolicy',
              'iam:GetUserPolicy',
              'iam:ListAccessKeys',
            ],
            Resource: '*',
          },
        ],
      });
      await awsDo([
        'iam',
        'put-user-policy',
        '--user-name',
        'halfadmin',
        '--policy-name',
        'half',
        '--policy-document',
        halfAdmin,
      ]);
      const caller = await createKey('halfadmin');
      const users = await userNames();
      const out = await bootstrap(['create', '--name', 'half', '--region', REGION, '--output', '-'], env(caller));
      expect(out.stderr).toMatch(/may not create an access key for half-ecr-puller \(iam:CreateAccessKey\)/);
      expect(out.stderr).toContain('deleting user half-ecr-puller');
      expect(out.code).toBe(1);
      expect(out.stdout).toBe('');
      expect(await userNames()).toEqual(users);
    });

    test('the cluster refuses the Secret: key, policy and user are deleted again', async () => {
      const namespace = await newNamespace();
      const policyName = `${namespace}-freeze`;
      // Server-side dry runs pass (so the preflight does), real writes are refused.
      const policy = {
        apiVersion: 'admissionregistration.k8s.io/v1',
        kind: 'ValidatingAdmissionPolicy',
        metadata: { name: policyName },
        spec: {
          failurePolicy: 'Fail',
          matchConstraints: {
            resourceRules: [
              { apiGroups: [''], apiVersions: ['v1'], operations: ['CREATE', 'UPDATE'], resources: ['secrets'] },
            ],
          },
          validations: [{ expression: 'request.dryRun == true', message: 'Secrets are frozen here' }],
        },
      };
      const binding = {
        apiVersion: 'admissionregistration.k8s.io/v1',
        kind: 'ValidatingAdmissionPolicyBinding',
        metadata: { name: policyName },
        spec: {
          policyName,
          validationActions: ['Deny'],
          matchResources: { namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': namespace } } },
        },
      };
      await cluster().kubectl(['apply', '-f', '-'], {
        input: JSON.stringify({ apiVersion: 'v1', kind: 'List', items: [policy, binding] }),
      });
      try {
        // The policy takes effect once the API server's informer sees it.
        for (let i = 0; ; i += 1) {
          const probe = await cluster().kubectl(['-n', namespace, 'create', 'secret', 'generic', 'probe'], {
            allowFail: true,
          });
          if (probe.code !== 0 && probe.stderr.includes('frozen')) break;
          if (probe.code === 0) await cluster().kubectl(['-n', namespace, 'delete', 'secret', 'probe']);
          if (i > 100) throw new Error('the admission policy never took effect');
          await new Promise((resolve) => setTimeout(resolve, 200));
        }
        const users = await userNames();
        const iam = iamDeleteConflicts();
        const out = await bootstrap(
          ['create', '--name', 'frozen', '--region', REGION, '--namespace', namespace],
          iam.env,
        );
        expect(out.stderr).toContain('Secrets are frozen here');
        expect(out.stderr).toMatch(/deleting access key AKIA\w+ of frozen-ecr-puller/);
        expect(out.code).toBe(1);
        // The keys moto listed when the user was deleted: none (IAM would refuse otherwise).
        expect(iam.keysAtDeleteUser()).toEqual([[]]);
        expect(await userNames()).toEqual(users);
        expect(await readSecret(namespace)).toBeNull();
      } finally {
        await cluster().kubectl(['delete', 'validatingadmissionpolicybinding,validatingadmissionpolicy', policyName]);
      }
    });

    test('Ctrl-C in the middle: the run undoes what it created and exits 130', async () => {
      // An aws stand-in that hangs in create-access-key, so the interrupt lands mid-run.
      const dir = mkdtempSync(join(tmpdir(), 'bootstrap-slow-'));
      const reached = join(dir, 'reached');
      writeFileSync(
        join(dir, 'aws'),
        [
          '#!/bin/sh',
          'for arg in "$@"; do',
          `  if [ "$arg" = create-access-key ]; then : > '${reached}'; exec sleep 60; fi`,
          'done',
          `exec '${realAws}' "$@"`,
          '',
        ].join('\n'),
      );
      chmodSync(join(dir, 'aws'), 0o755);
      const users = await userNames();
      const base = env(admin);
      // Its own process group, like a terminal's foreground job: Ctrl-C signals the whole group.
      const child = spawn(
        '/bin/bash',
        [SCRIPT, 'create', '--name', 'interrupted', '--region', REGION, '--output', '-'],
        {
          env: { ...base, PATH: `${dir}:${base.PATH ?? ''}` },
          detached: true,
          stdio: ['ignore', 'pipe', 'pipe'],
        },
      );
      let stdout = '';
      let stderr = '';
      child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString('utf8')));
      child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString('utf8')));
      const closed = new Promise<number | null>((resolve) => child.on('close', (code) => resolve(code)));
      const group = child.pid ?? 0;
      try {
        for (let i = 0; !existsSync(reached); i += 1) {
          if (i > 1200) throw new Error(`the script never reached create-access-key:\n${stderr}`);
          await new Promise((resolve) => setTimeout(resolve, 50));
        }
        process.kill(-group, 'SIGINT');
        expect(await closed).toBe(130);
      } finally {
        if (child.exitCode === null) process.kill(-group, 'SIGKILL');
      }
      expect(stderr).toContain('created IAM user interrupted-ecr-puller');
      expect(stderr).toContain('deleting user interrupted-ecr-puller');
      expect(stdout).toBe('');
      expect(await userNames()).toEqual(users);
    });

    test('rotate: a new key that does not work never reaches the Secret and is deleted', async () => {
      const namespace = await newNamespace();
      const created = await bootstrap(['create', ...flags('deny', namespace)], env(admin));
      expect(created.code).toBe(0);
      const before = await readSecret(namespace);
      if (before === null) throw new Error('no Secret after create');
      const deny = JSON.stringify({
        Version: '2012-10-17',
        Statement: [{ Effect: 'Deny', Action: 'ecr:GetAuthorizationToken', Resource: '*' }],
      });
      await awsDo([
        'iam',
        'put-user-policy',
        '--user-name',
        'deny-ecr-puller',
        '--policy-name',
        'deny',
        '--policy-document',
        deny,
      ]);
      const out = await bootstrap(
        ['rotate', ...flags('deny', namespace)],
        env(admin, { BOOTSTRAP_IAM_PROOF_TIMEOUT: '2' }),
      );
      expect(out.stderr).toMatch(/not accepted by ECR within 2s; the old key stays in use/);
      expect(out.code).toBe(1);
      const after = await readSecret(namespace);
      expect(after?.metadata.resourceVersion).toBe(before.metadata.resourceVersion);
      expect(await keyIds('deny-ecr-puller')).toEqual([credsOf(before).id]);
    });

    test('rotate: when deleting the old key fails, the Secret gets the old key back', async () => {
      const namespace = await newNamespace();
      const created = await bootstrap(['create', ...flags('restore', namespace)], env(admin));
      expect(created.code).toBe(0);
      const before = await readSecret(namespace);
      if (before === null) throw new Error('no Secret after create');

      // An aws stand-in that fails the first delete-access-key (the old key) like IAM would on an
      // outage, and passes everything else, including the undo's delete of the new key.
      const dir = mkdtempSync(join(tmpdir(), 'bootstrap-fault-'));
      mkdirSync(join(dir, 'state'));
      writeFileSync(
        join(dir, 'aws'),
        [
          '#!/bin/sh',
          'for arg in "$@"; do',
          `  if [ "$arg" = delete-access-key ] && mkdir '${join(dir, 'state', 'failed')}' 2>/dev/null; then`,
          '    echo "An error occurred (ServiceFailure) when calling the DeleteAccessKey operation: injected" >&2',
          '    exit 254',
          '  fi',
          'done',
          `exec '${realAws}' "$@"`,
          '',
        ].join('\n'),
      );
      chmodSync(join(dir, 'aws'), 0o755);
      const base = env(admin);
      const out = await bootstrap(['rotate', ...flags('restore', namespace)], {
        ...base,
        PATH: `${dir}:${base.PATH ?? ''}`,
      });
      expect(out.stderr).toContain('putting the previous key back into Secret');
      expect(out.code).toBe(1);
      const after = await readSecret(namespace);
      if (after === null) throw new Error('Secret gone after the failed rotate');
      expect(credsOf(after)).toEqual(credsOf(before));
      expect(await keyIds('restore-ecr-puller')).toEqual([credsOf(before).id]);
      expect((await aws(['ecr', 'get-authorization-token'], credsOf(after))).code).toBe(0);
      expect(out.stdout + out.stderr).not.toContain(credsOf(before).secret);
    });
  });
});
