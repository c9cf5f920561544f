// ECR Public (--ecr-public): the rendered refresh run under busybox ash against the real
// kube-apiserver, with moto for ECR and STS and, since moto has no ecr-public, the ECR Public stub
// of harness/moto_server.py: a response constructed as botocore's model shapes it, handed out only
// after the request's SigV4 signature was recomputed with botocore's own signer (scope
// us-east-1/ecr-public). Real ECR Public is not reached by these tests.
import { type ChildProcess, spawn } from 'node:child_process';
import { chmodSync, mkdtempSync, readFileSync, realpathSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import {
  bundleObject,
  cluster,
  e2eAvailable,
  loadBundle,
  renderedSettings,
  runBusyboxScript,
  runWithArgvAudit,
  scriptEnv,
  startMoto,
  synthBundle,
  writeScriptFiles,
  type BundleObject,
  type Moto,
} from './harness/index.js';
import { requireContext } from './harness/available.js';
import { run } from './harness/process.js';

const ECR_PUBLIC_REGIONS = JSON.parse(
  readFileSync(new URL('../fixtures/ecr-public-regions.json', import.meta.url), 'utf8'),
) as { available: string[]; refused: string[] };

const SCRIPT_DIR = join(import.meta.dirname, '..', '..', 'src', 'scripts');
const NAMESPACE = 'ecr-public-updater';
const SERVICE_ACCOUNT = 'ecr-public-updater';
const SECRET = 'ecr-registry-credentials';
const REGION = 'eu-west-1';
const ACCOUNT = '123456789012';
const OWN_HOST = `${ACCOUNT}.dkr.ecr.${REGION}.amazonaws.com`;
const KEY_ID = 'AKIAIOSFODNN7EXAMPLE';
const SECRET_KEY = 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY';
/** What the ECR Public stub hands out (ECR_PUBLIC_STUB_PASSWORD in moto_server.py). */
const STUB_PASSWORD = 'ecr-public-stub-password';
const STUB_TOKEN = Buffer.from(`AWS:${STUB_PASSWORD}`).toString('base64');

/** The ECR Public endpoint botocore (the aws CLI's library) resolves, with or without dual-stack. */
const BOTOCORE_ECR_PUBLIC_ENDPOINT = `
import sys
import botocore.session
from botocore.config import Config
client = botocore.session.get_session().create_client(
    "ecr-public", region_name="us-east-1", config=Config(use_dualstack_endpoint=sys.argv[1] == "true"),
    aws_access_key_id="AKIAEXAMPLE", aws_secret_access_key="example")
print(client.meta.endpoint_url)
`;

/** Sources the settings and ECR Public parts under busybox ash and runs `body` with `env`. */
async function probe(body: string, env: Record<string, string>): Promise<{ stdout: string; stderr: string }> {
  const file = join(mkdtempSync(join(tmpdir(), 'ecr-public-')), 'probe.sh');
  const parts = ['ecr-log.sh', 'ecr-settings.sh', 'ecr-public.sh'].map((part) => `. "${SCRIPT_DIR}/${part}"`);
  writeFileSync(file, `${parts.join('\n')}\n${body}\n`);
  const result = await runBusyboxScript(file, scriptEnv(env));
  return { stdout: result.stdout.trim(), stderr: result.stderr };
}

interface Secret {
  metadata: { annotations?: Record<string, string> };
  data: Record<string, string>;
}

/** The Secret in `namespace`, undefined when there is none. */
async function readSecret(namespace: string): Promise<Secret | undefined> {
  const out = await cluster().kubectl(['get', 'secret', SECRET, '-n', namespace, '--ignore-not-found', '-o', 'json']);
  return out.stdout.trim() === '' ? undefined : (JSON.parse(out.stdout) as Secret);
}

/** Each registry of the Secret's docker config with its auth decoded ("AWS:<password>"). */
function decodedAuths(secret: Secret): Record<string, string> {
  const config = JSON.parse(Buffer.from(secret.data['.dockerconfigjson'] ?? '', 'base64').toString()) as {
    auths: Record<string, { auth: string }>;
  };
  return Object.fromEntries(
    Object.entries(config.auths).map(([host, entry]) => [host, Buffer.from(entry.auth, 'base64').toString()]),
  );
}

describe.skipIf(!e2eAvailable.ok)('one ECR Public partition rule in the generator and the script', () => {
  test.each([
    ...ECR_PUBLIC_REGIONS.available.map((region) => ({ region, available: true })),
    ...ECR_PUBLIC_REGIONS.refused.map((region) => ({ region, available: false })),
  ])('ecr_public_available "$region" -> $available', async ({ region, available }) => {
    const result = await probe('if ecr_public_available "$REGION"; then echo yes; else echo no; fi', {
      REGION: region,
    });
    expect(result).toEqual({ stdout: available ? 'yes' : 'no', stderr: '' });
  });

  test("the ECR Public endpoint is botocore's for us-east-1, and endpoint URLs override it, ECR Public's first", async () => {
    const botocore = await run(requireContext().tools.python, ['-c', BOTOCORE_ECR_PUBLIC_ENDPOINT, 'false'], {
      env: { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: tmpdir() },
    });
    expect({ stdout: botocore.stdout.trim(), code: botocore.code }).toEqual({
      stdout: 'https://api.ecr-public.us-east-1.amazonaws.com',
      code: 0,
    });
    expect(await probe('ecr_public_api_url', {})).toEqual({ stdout: botocore.stdout.trim(), stderr: '' });
    const all = { AWS_ENDPOINT_URL: 'https://all.example/' };
    expect(await probe('ecr_public_api_url', all)).toEqual({ stdout: 'https://all.example', stderr: '' });
    expect(await probe('ecr_public_api_url', { ...all, AWS_ENDPOINT_URL_ECR_PUBLIC: 'https://pub.example' })).toEqual({
      stdout: 'https://pub.example',
      stderr: '',
    });
    // Dual-stack is left to the aws CLI (curl_signs declines it): botocore's own host for it.
    const dualStack = await run(requireContext().tools.python, ['-c', BOTOCORE_ECR_PUBLIC_ENDPOINT, 'true'], {
      env: { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: tmpdir() },
    });
    expect(dualStack.stdout.trim()).toBe('https://ecr-public.us-east-1.api.aws');
  });
});

describe.skipIf(!e2eAvailable.ok)('--ecr-public against the ECR Public stub', () => {
  let dir: string;
  let objects: BundleObject[];
  let script: string;
  let moto: Moto;

  beforeAll(async () => {
    dir = await synthBundle([
      ...['--namespace', NAMESPACE, '--service-account', SERVICE_ACCOUNT, '--region', REGION],
      ...['--ecr-public', '--watch-namespaces', '--no-initial-job'],
    ]);
    objects = loadBundle(dir);
    await cluster().kubectl(['apply', '--server-side', '--validate=strict', '-f', dir]);
    script = writeScriptFiles(objects, mkdtempSync(join(tmpdir(), 'ecr-public-script-')));
    moto = await startMoto({ ecrTokenSeconds: 12 * 3600 });
  });

  afterAll(async () => {
    await moto.stop();
  });

  /** The CronJob's environment as the pod gets it, with the key (or `env`'s credentials) and moto. */
  async function runEnv(target: string, endpoint: string, env: Record<string, string> = {}) {
    return scriptEnv({
      ...renderedSettings(bundleObject(objects, 'CronJob')),
      AWS_ACCESS_KEY_ID: KEY_ID,
      AWS_SECRET_ACCESS_KEY: SECRET_KEY,
      AWS_REGION: REGION,
      AWS_ACCOUNT_ID: ACCOUNT,
      AWS_ENDPOINT_URL: endpoint,
      ECR_TARGET_NAMESPACES: target,
      KUBECONFIG: await cluster().serviceAccountKubeconfig(NAMESPACE, SERVICE_ACCOUNT),
      ...env,
    });
  }

  test('the rendered CronJob sets ECR_PUBLIC=true', () => {
    expect(renderedSettings(bundleObject(objects, 'CronJob')).ECR_PUBLIC).toBe('true');
  });

  test('with keys curl signs the ECR Public request: the Secret holds public.ecr.aws = AWS:<stub token> next to the private registry, the stub verified the signature, no token in any argv or environment', async () => {
    await cluster().kubectl(['create', 'namespace', 'pub-keys']);
    const before = await moto.stats();
    const env = await runEnv('pub-keys', moto.endpoint);
    const busybox = realpathSync(join((env.PATH ?? '').split(':')[0] ?? '', 'sh'));
    const result = await runWithArgvAudit(busybox, ['ash', script], { env, environ: true });
    expect({ code: result.code, stderr: result.stderr }).toEqual({ code: 0, stderr: '' });
    const after = await moto.stats();
    expect(after.ecrPublicSigned - before.ecrPublicSigned).toBe(1);
    expect(after.ecrPublicRejected - before.ecrPublicRejected).toBe(0);
    const secret = await readSecret('pub-keys');
    expect(decodedAuths(secret!)).toEqual({
      [OWN_HOST]: `AWS:${ACCOUNT}-auth-token`,
      'public.ecr.aws': `AWS:${STUB_PASSWORD}`,
    });
    expect(secret?.metadata.annotations?.['ecr-k8s-credentials/registries']).toBe(`${OWN_HOST},public.ecr.aws`);
    expect(result.stdout).toMatch(/event=token region=public registries=public\.ecr\.aws expires_at=20\d\d-/);
    // curl signed it: no aws CLI process asked ECR Public.
    expect(result.execs.filter((line) => line.includes('"ecr-public"'))).toEqual([]);
    const written = secret?.data['.dockerconfigjson'] ?? '';
    for (const hidden of [STUB_TOKEN, STUB_PASSWORD, written]) {
      expect([...result.procSeen, ...result.execs, ...result.environs].filter((line) => line.includes(hidden))).toEqual(
        [],
      );
      expect(result.stdout).not.toContain(hidden);
    }
  });

  test('with a session token the aws CLI asks ECR Public (ecr-public get-authorization-token in us-east-1), signed as the stub verifies', async () => {
    await cluster().kubectl(['create', 'namespace', 'pub-session']);
    const before = await moto.stats();
    const env = await runEnv('pub-session', moto.endpoint, { AWS_SESSION_TOKEN: 'stub-session-token' });
    const busybox = realpathSync(join((env.PATH ?? '').split(':')[0] ?? '', 'sh'));
    const result = await runWithArgvAudit(busybox, ['ash', script], { env });
    expect({ code: result.code, stderr: result.stderr }).toEqual({ code: 0, stderr: '' });
    expect(
      result.execs.filter((line) => line.includes('"ecr-public", "get-authorization-token", "--region", "us-east-1"')),
    ).toHaveLength(1);
    const after = await moto.stats();
    expect(after.ecrPublicSigned - before.ecrPublicSigned).toBe(1);
    expect(decodedAuths((await readSecret('pub-session'))!)['public.ecr.aws']).toBe(`AWS:${STUB_PASSWORD}`);
    for (const hidden of [STUB_TOKEN, STUB_PASSWORD]) {
      expect([...result.procSeen, ...result.execs].filter((line) => line.includes(hidden))).toEqual([]);
    }
  });

  test('with a tenant role, its Secret holds the same public.ecr.aws entry: ECR Public is asked once per run, with the base credentials', async () => {
    const { kubectl } = cluster();
    await kubectl(['create', 'namespace', 'pub-team-a']);
    await kubectl(['create', 'namespace', 'pub-base']);
    const before = await moto.stats();
    const result = await runBusyboxScript(
      script,
      await runEnv('pub-team-a pub-base', moto.endpoint, {
        ECR_TENANTS: 'pub-team-*=arn:aws:iam::210987654321:role/team-a',
      }),
    );
    expect({ code: result.code, stderr: result.stderr }).toEqual({ code: 0, stderr: '' });
    const after = await moto.stats();
    expect(after.ecrPublicSigned - before.ecrPublicSigned).toBe(1);
    // One token line for it too: the second group reuses it without a line of its own.
    expect(result.stdout.match(/event=token region=public /g)).toHaveLength(1);
    expect(decodedAuths((await readSecret('pub-team-a'))!)).toEqual({
      [OWN_HOST]: 'AWS:210987654321-auth-token',
      'public.ecr.aws': `AWS:${STUB_PASSWORD}`,
    });
    expect(decodedAuths((await readSecret('pub-base'))!)).toEqual({
      [OWN_HOST]: `AWS:${ACCOUNT}-auth-token`,
      'public.ecr.aws': `AWS:${STUB_PASSWORD}`,
    });
  });

  test('a request signed with the wrong secret is refused by the stub (403 SignatureDoesNotMatch): exit 3, nothing written', async () => {
    await cluster().kubectl(['create', 'namespace', 'pub-badsig']);
    const before = await moto.stats();
    const result = await runBusyboxScript(
      script,
      await runEnv('pub-badsig', moto.endpoint, { AWS_SECRET_ACCESS_KEY: 'not-the-secret-of-this-key' }),
    );
    expect(result.code).toBe(3);
    expect(result.stdout).toContain(
      'reason="GetAuthorizationToken: HTTP 403 SignatureDoesNotMatch: The request signature we calculated does not match',
    );
    expect(result.stdout).toContain('no ECR token for region public; nothing was written');
    const after = await moto.stats();
    expect(after.ecrPublicRejected - before.ecrPublicRejected).toBe(1);
    expect(after.ecrPublicLastRejection).toMatch(/^The request signature we calculated does not match/);
    expect(await readSecret('pub-badsig')).toBeUndefined();
  });

  test('ECR Public answering an error fails the run as a private token failure does: exit 3, nothing written', async () => {
    const failing = await startMoto({ failEcrPublic: true });
    try {
      await cluster().kubectl(['create', 'namespace', 'pub-denied']);
      const result = await runBusyboxScript(script, await runEnv('pub-denied', failing.endpoint));
      expect(result.code).toBe(3);
      expect(result.stdout).toContain(
        'event=token region=public role= attempt=1 reason="GetAuthorizationToken: HTTP 400 AccessDeniedException: User is not authorized to perform: ecr-public:GetAuthorizationToken',
      );
      expect(result.stdout).toContain(
        'event=fatal reason="no ECR token for region public; nothing was written" exit_code=3',
      );
      expect((await failing.stats()).ecrPublicSigned).toBe(1);
      expect(await readSecret('pub-denied')).toBeUndefined();
    } finally {
      await failing.stop();
    }
  });

  test.each([
    [{ ECR_PUBLIC: 'yes' }, 'ECR_PUBLIC \\"yes\\" must be true or false'],
    [
      { AWS_REGION: 'cn-north-1' },
      'ECR_PUBLIC=true, but ECR Public exists only in the aws partition and AWS_REGION \\"cn-north-1\\" is in aws-cn, whose credentials it does not accept; set ECR_PUBLIC to false (anonymous pulls from public.ecr.aws still work)',
    ],
    [
      { AWS_REGION: 'us-gov-west-1' },
      'ECR_PUBLIC=true, but ECR Public exists only in the aws partition and AWS_REGION \\"us-gov-west-1\\" is in aws-us-gov, whose credentials it does not accept; set ECR_PUBLIC to false (anonymous pulls from public.ecr.aws still work)',
    ],
    [
      { AWS_REGION: 'us-east-1', AWS_USE_FIPS_ENDPOINT: 'true' },
      'ECR_PUBLIC=true with AWS_USE_FIPS_ENDPOINT=true, but ECR Public has no FIPS endpoint; set ECR_PUBLIC to false, or AWS_USE_FIPS_ENDPOINT to false',
    ],
  ])('%j is a configuration error before any AWS call (exit 2)', async (env, message) => {
    const before = (await moto.stats()).requests;
    const result = await runBusyboxScript(script, await runEnv('pub-none', moto.endpoint, env));
    expect(result.code).toBe(2);
    expect(result.stdout).toContain(`event=fatal reason="${message}" exit_code=2`);
    expect((await moto.stats()).requests).toBe(before);
  });

  test("web identity: the aws CLI asks ECR Public with the role credentials moto's STS issued, and the stub verifies their signature", async () => {
    const { kubectl, serviceAccountKubeconfig } = cluster();
    const role = `arn:aws:iam::${ACCOUNT}:role/ecr-public-keyless`;
    const keyless = await synthBundle([
      ...['--namespace', 'ecr-public-keyless', '--service-account', 'ecr-public-keyless', '--region', REGION],
      ...['--auth', 'web-identity', '--role-arn', role, '--ecr-public', '--no-initial-job'],
    ]);
    await kubectl(['apply', '--server-side', '--validate=strict', '-f', keyless]);
    await kubectl(['create', 'namespace', 'pub-keyless']);
    const token = await kubectl([
      ...['create', 'token', 'ecr-public-keyless', '-n', 'ecr-public-keyless'],
      ...['--audience', 'sts.amazonaws.com', '--duration', '3600s'],
    ]);
    const tokenFile = join(mkdtempSync(join(tmpdir(), 'ecr-public-token-')), 'token');
    writeFileSync(tokenFile, token.stdout.trim());
    chmodSync(tokenFile, 0o400);
    const keylessObjects = loadBundle(keyless);
    const before = await moto.stats();
    const result = await runBusyboxScript(
      writeScriptFiles(keylessObjects, mkdtempSync(join(tmpdir(), 'ecr-public-keyless-'))),
      scriptEnv({
        ...renderedSettings(bundleObject(keylessObjects, 'CronJob')),
        AWS_WEB_IDENTITY_TOKEN_FILE: tokenFile,
        AWS_ENDPOINT_URL: moto.endpoint,
        ECR_TARGET_NAMESPACES: 'pub-keyless',
        KUBECONFIG: await serviceAccountKubeconfig('ecr-public-keyless', 'ecr-public-keyless'),
      }),
    );
    expect({ code: result.code, stderr: result.stderr }).toEqual({ code: 0, stderr: '' });
    const after = await moto.stats();
    expect(after.ecrPublicSigned - before.ecrPublicSigned).toBe(1);
    expect(after.ecrPublicRejected - before.ecrPublicRejected).toBe(0);
    expect(decodedAuths((await readSecret('pub-keyless'))!)).toEqual({
      [OWN_HOST]: `AWS:${ACCOUNT}-auth-token`,
      'public.ecr.aws': `AWS:${STUB_PASSWORD}`,
    });
  });

  describe('the namespace watcher', () => {
    let watcher: ChildProcess;
    let output = '';

    beforeAll(async () => {
      const deployment = bundleObject(objects, 'Deployment');
      const env = scriptEnv({
        ...renderedSettings(deployment),
        AWS_ACCESS_KEY_ID: KEY_ID,
        AWS_SECRET_ACCESS_KEY: SECRET_KEY,
        AWS_REGION: REGION,
        AWS_ACCOUNT_ID: ACCOUNT,
        AWS_ENDPOINT_URL: moto.endpoint,
        ECR_TARGET_NAMESPACES: 'pubwatch-*',
        ECR_HEARTBEAT_FILE: join(mkdtempSync(join(tmpdir(), 'ecr-public-hb-')), 'heartbeat'),
        KUBECONFIG: await cluster().serviceAccountKubeconfig(NAMESPACE, SERVICE_ACCOUNT),
      });
      if (env.ECR_PUBLIC !== 'true') throw new Error('the Deployment does not set ECR_PUBLIC=true');
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

    afterAll(() => {
      watcher.kill('SIGTERM');
    });

    /** Waits until `namespace` has the Secret (at most 20 s). */
    async function covered(namespace: string): Promise<Secret> {
      const deadline = Date.now() + 20_000;
      for (;;) {
        const secret = await readSecret(namespace);
        if (secret) return secret;
        if (Date.now() > deadline) throw new Error(`no Secret in ${namespace} after 20 s:\n${output}`);
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
    }

    test('two new namespaces in two batches both get public.ecr.aws, from one ECR Public call: the token is kept', async () => {
      const before = (await moto.stats()).ecrPublicGetAuthorizationToken;
      await cluster().kubectl(['create', 'namespace', 'pubwatch-1']);
      const first = await covered('pubwatch-1');
      await cluster().kubectl(['create', 'namespace', 'pubwatch-2']);
      const second = await covered('pubwatch-2');
      for (const secret of [first, second]) {
        expect(decodedAuths(secret)).toEqual({
          [OWN_HOST]: `AWS:${ACCOUNT}-auth-token`,
          'public.ecr.aws': `AWS:${STUB_PASSWORD}`,
        });
      }
      // A batch's line comes after its writes: wait for the second one before counting.
      const batches = () => [...output.matchAll(/event=batch namespaces=\d+ targets=1 /g)].length;
      const deadline = Date.now() + 20_000;
      while (batches() < 2 && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 100));
      expect(batches()).toBeGreaterThanOrEqual(2);
      expect((await moto.stats()).ecrPublicGetAuthorizationToken - before).toBe(1);
      expect(output).toMatch(/event=token region=public registries=public\.ecr\.aws expires_at=\S+ kept_s=3600/);
      expect(output).not.toContain(STUB_TOKEN);
    });
  });
});
