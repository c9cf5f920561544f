// Keyless credentials end to end: the real kube-apiserver issues the ServiceAccount token (as the
// kubelet's projected volume would get it), the aws CLI exchanges it at moto's STS
// (AssumeRoleWithWebIdentity), and the refresh script from the rendered bundle writes pull
// secrets with no AWS key anywhere. moto checks neither the JWT signature nor the role's trust
// policy; those are checked as JSON in bootstrap's tests.
import { chmodSync, mkdtempSync, readdirSync, readFileSync, realpathSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import {
  bundleObject,
  cluster,
  e2eAvailable,
  loadBundle,
  runBusyboxScript,
  scriptEnv,
  startMoto,
  synthBundle,
  writeScriptFiles,
  runWithArgvAudit,
  renderedSettings,
  type BundleObject,
  type Moto,
} from './harness/index.js';

const NAMESPACE = 'ecr-keyless';
const SERVICE_ACCOUNT = 'ecr-keyless-updater';
const SECRET = 'ecr-registry-credentials';
const REGION = 'eu-west-1';
const ROLE = 'arn:aws:iam::123456789012:role/ecr-credential-updater';
const CROSS_ACCOUNT_HOST = '210987654321.dkr.ecr.us-east-1.amazonaws.com';
const CROSS_ACCOUNT_ROLE = 'arn:aws:iam::210987654321:role/ecr-pull';
const AUDIENCE = 'sts.amazonaws.com';

const ROLE_ARNS = JSON.parse(readFileSync(new URL('../fixtures/role-arns.json', import.meta.url), 'utf8')) as {
  valid: string[];
  invalid: string[];
};

interface Container {
  env: { name: string; value?: string; valueFrom?: unknown }[];
  volumeMounts: { name: string; mountPath: string }[];
}

interface Pod {
  spec: { volumes: { name: string; projected?: unknown }[] };
}

/** The Pod the real Job controller made for `job` (Pending: there is no kubelet). */
async function podOfJob(job: string): Promise<Pod> {
  const deadline = Date.now() + 60_000;
  while (Date.now() < deadline) {
    const out = await cluster().kubectl([
      ...['get', 'pods', '-n', NAMESPACE, '-l', `batch.kubernetes.io/job-name=${job}`, '-o', 'json'],
    ]);
    const found = (JSON.parse(out.stdout) as { items: Pod[] }).items[0];
    if (found) return found;
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
  throw new Error(`no Pod of Job ${job} after 60 s`);
}

function containerOf(cronJob: BundleObject): Container {
  const spec = cronJob.spec as { jobTemplate: { spec: { template: { spec: { containers: Container[] } } } } };
  const container = spec.jobTemplate.spec.template.spec.containers[0];
  if (!container) throw new Error('the CronJob has no container');
  return container;
}

describe.skipIf(!e2eAvailable.ok)('--auth web-identity', () => {
  let dir: string;
  let objects: BundleObject[];
  let moto: Moto;

  beforeAll(async () => {
    dir = await synthBundle([
      ...['--namespace', NAMESPACE, '--service-account', SERVICE_ACCOUNT, '--region', REGION],
      ...['--auth', 'web-identity', '--role-arn', ROLE],
      ...['--registry', `${CROSS_ACCOUNT_HOST}=${CROSS_ACCOUNT_ROLE}`],
    ]);
    objects = loadBundle(dir);
    await cluster().kubectl(['apply', '--server-side', '--validate=strict', '-f', dir]);
    moto = await startMoto();
  });

  afterAll(async () => {
    await moto.stop();
  });

  test('the bundle holds no AWS key reference and no Secret template', () => {
    const text = JSON.stringify(objects);
    expect(text).not.toContain('secretKeyRef');
    expect(text).not.toContain('aws-ecr-credentials');
    const env = Object.fromEntries(containerOf(bundleObject(objects, 'CronJob')).env.map((e) => [e.name, e.value]));
    expect(env).toMatchObject({
      AWS_ROLE_ARN: ROLE,
      AWS_WEB_IDENTITY_TOKEN_FILE: '/var/run/secrets/ecr-k8s-credentials/aws/token',
      AWS_ROLE_SESSION_NAME: 'ecr-k8s-credentials',
      AWS_REGION: REGION,
      AWS_ACCOUNT_ID: '123456789012',
    });
  });

  test('the real Job controller creates the pod with the projected token volume, admitted by PSA restricted', async () => {
    const job = bundleObject(objects, 'Job').metadata.name;
    const { kubectl } = cluster();
    const pod = await podOfJob(job);
    expect(pod.spec.volumes.find((volume) => volume.name === 'aws-token')?.projected).toEqual({
      defaultMode: 420,
      sources: [{ serviceAccountToken: { audience: AUDIENCE, expirationSeconds: 3600, path: 'token' } }],
    });
    const events = await kubectl([
      ...['get', 'events', '-n', NAMESPACE, '--field-selector', `involvedObject.name=${job},reason=FailedCreate`],
      ...['-o', 'jsonpath={.items[*].message}'],
    ]);
    expect(events.stdout).toBe('');
  });

  test('the script exchanges the ServiceAccount token for role credentials, writes working pull secrets and leaves no role credentials under HOME', async () => {
    const { kubectl, serviceAccountKubeconfig } = cluster();
    const target = 'keyless-app';
    await kubectl(['create', 'namespace', target]);
    // What the kubelet puts in the projected volume: a token of the pod's ServiceAccount for the
    // audience, issued by the API server's TokenRequest API.
    const token = await kubectl([
      ...['create', 'token', SERVICE_ACCOUNT, '-n', NAMESPACE],
      ...['--audience', AUDIENCE, '--duration', '3600s'],
    ]);
    const claims = JSON.parse(Buffer.from(token.stdout.trim().split('.')[1] ?? '', 'base64url').toString()) as {
      aud: string[];
      sub: string;
    };
    expect(claims).toMatchObject({ aud: [AUDIENCE], sub: `system:serviceaccount:${NAMESPACE}:${SERVICE_ACCOUNT}` });
    const tokenDir = mkdtempSync(join(tmpdir(), 'keyless-token-'));
    const tokenFile = join(tokenDir, 'token');
    writeFileSync(tokenFile, token.stdout.trim());
    chmodSync(tokenFile, 0o400);

    const plain = renderedSettings(bundleObject(objects, 'CronJob'));
    const script = writeScriptFiles(objects, mkdtempSync(join(tmpdir(), 'keyless-script-')));
    const runEnv = scriptEnv({
      ...plain,
      AWS_WEB_IDENTITY_TOKEN_FILE: tokenFile,
      AWS_ENDPOINT_URL: moto.endpoint,
      ECR_TARGET_NAMESPACES: target,
      KUBECONFIG: await serviceAccountKubeconfig(NAMESPACE, SERVICE_ACCOUNT),
    });
    // Under the argv audit: every execve (strace) and every /proc cmdline and environ seen.
    const busybox = realpathSync(join((runEnv.PATH ?? '').split(':')[0] ?? '', 'sh'));
    const result = await runWithArgvAudit(busybox, ['ash', script], { env: runEnv, environ: true });
    expect({ code: result.code, stderr: result.stderr }).toEqual({ code: 0, stderr: '' });
    expect(result.execs.some((line) => line.includes('"get-authorization-token"'))).toBe(true);
    expect(result.execs.some((line) => line.includes(CROSS_ACCOUNT_ROLE))).toBe(true);
    // The ServiceAccount token and both ECR tokens (moto's are base64 "AWS:<account>-auth-token").
    const ecrTokens = ['123456789012', '210987654321'].map((account) =>
      Buffer.from(`AWS:${account}-auth-token`).toString('base64'),
    );
    for (const secret of [token.stdout.trim(), ...ecrTokens]) {
      expect([...result.procSeen, ...result.execs].filter((line) => line.includes(secret))).toEqual([]);
    }
    expect(result.stdout).toContain(`event=namespace namespace=${target} result=updated`);
    expect(result.stdout).toContain(`role=${CROSS_ACCOUNT_ROLE} registries=${CROSS_ACCOUNT_HOST}`);
    // aws CLI v1 caches both role sessions (web identity, then the cross-account role) in
    // ~/.aws/cli/cache; the script keeps that cache in its work directory, gone with the run.
    const home = runEnv.HOME ?? '';
    const homeFiles = readdirSync(home, { recursive: true, withFileTypes: true })
      .filter((entry) => entry.isFile())
      .map((entry) => join(entry.parentPath, entry.name));
    expect(homeFiles.filter((file) => /SessionToken|SecretAccessKey/.test(readFileSync(file, 'utf8')))).toEqual([]);
    expect(homeFiles.filter((file) => file.includes(join('.aws', 'cli')))).toEqual([]);

    const secret = JSON.parse((await kubectl(['get', 'secret', SECRET, '-n', target, '-o', 'json'])).stdout) as {
      data: Record<string, string>;
    };
    const auths = (
      JSON.parse(Buffer.from(secret.data['.dockerconfigjson'] ?? '', 'base64').toString()) as {
        auths: Record<string, { auth: string }>;
      }
    ).auths;
    const decoded = Object.fromEntries(
      Object.entries(auths).map(([host, entry]) => [host, Buffer.from(entry.auth, 'base64').toString()]),
    );
    // moto's token names the account of the caller: the web-identity role's for the own
    // registry, the assumed cross-account role's for the other.
    expect(decoded).toEqual({
      [`123456789012.dkr.ecr.${REGION}.amazonaws.com`]: 'AWS:123456789012-auth-token',
      [CROSS_ACCOUNT_HOST]: 'AWS:210987654321-auth-token',
    });
  });
});

describe.skipIf(!e2eAvailable.ok)('one role-ARN rule in the generator and the script', () => {
  const scriptDir = join(import.meta.dirname, '..', '..', 'src', 'scripts');

  test.each([
    ...ROLE_ARNS.valid.map((arn) => ({ arn, valid: true })),
    ...ROLE_ARNS.invalid.map((arn) => ({ arn, valid: false })),
  ])('is_role_arn "$arn" -> $valid', async ({ arn, valid }) => {
    const probe = join(mkdtempSync(join(tmpdir(), 'role-arn-')), 'probe.sh');
    writeFileSync(
      probe,
      `. "${scriptDir}/ecr-settings.sh"\nif is_role_arn "$ARN"; then echo valid; else echo invalid; fi\n`,
    );
    const result = await runBusyboxScript(probe, scriptEnv({ ARN: arn }));
    expect({ stdout: result.stdout.trim(), stderr: result.stderr }).toEqual({
      stdout: valid ? 'valid' : 'invalid',
      stderr: '',
    });
  });
});
