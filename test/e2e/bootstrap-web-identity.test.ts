// scripts/bootstrap-iam.sh --web-identity against moto and the harness's real kube-apiserver,
// whose ServiceAccount issuer is an S3 bucket URL as in a self-hosted setup, plus a second real
// kube-apiserver with an issuer under another prefix of the same bucket. moto runs with
// authentication off except where a test denies the caller an action: it neither verifies a
// web-identity JWT nor evaluates a trust policy's conditions, so trust policies are checked as
// JSON; the exchange of a real token for the role's credentials is proven in
// web-identity.test.ts. With authentication off moto still refuses an unsigned GET of an object
// unless the bucket policy grants it, which is how STS reads the discovery documents.
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { type ControlPlane, startControlPlane } from './harness/control-plane.js';
import { cluster, e2eAvailable, scriptEnv, SERVICE_ACCOUNT_ISSUER, startMoto, type Moto } from './harness/index.js';
import { checkPrerequisites } from './harness/prerequisites.js';
import { run, type RunResult } from './harness/process.js';

const SCRIPT = fileURLToPath(new URL('../../scripts/bootstrap-iam.sh', import.meta.url));
const REGION = 'eu-west-1';
const ACCOUNT = '123456789012';
const ISSUER_ID = SERVICE_ACCOUNT_ISSUER.replace('https://', '');
const PROVIDER_ARN = `arn:aws:iam::${ACCOUNT}:oidc-provider/${ISSUER_ID}`;
const ECR_POLICY = {
  Version: '2012-10-17',
  Statement: [
    { Sid: 'EcrLogin', Effect: 'Allow', Action: 'ecr:GetAuthorizationToken', Resource: '*' },
    { Sid: 'EcrPull', Effect: 'Allow', Action: ['ecr:BatchGetImage', 'ecr:GetDownloadUrlForLayer'], Resource: '*' },
  ],
};

/** The harness's runner, with the environment as the one option these calls vary. */
function exec(command: string, args: readonly string[], env: NodeJS.ProcessEnv): Promise<RunResult> {
  return run(command, args, { env });
}

describe.skipIf(!e2eAvailable.ok)('scripts/bootstrap-iam.sh --web-identity', () => {
  let moto: Moto;

  function env(): NodeJS.ProcessEnv {
    return scriptEnv({
      AWS_ENDPOINT_URL: moto.endpoint,
      AWS_EC2_METADATA_DISABLED: 'true',
      AWS_ACCESS_KEY_ID: 'AKIAIOSFODNN7EXAMPLE',
      AWS_SECRET_ACCESS_KEY: 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY',
      KUBECONFIG: cluster().adminKubeconfig,
    });
  }

  const bootstrap = (args: readonly string[]): Promise<RunResult> =>
    exec('/bin/bash', [SCRIPT, ...args, '--region', REGION], env());

  async function aws<T>(args: readonly string[]): Promise<T> {
    const out = await exec('aws', [...args, '--region', REGION, '--output', 'json'], env());
    if (out.code !== 0) throw new Error(`aws ${args.join(' ')} exited ${out.code}: ${out.stderr}`);
    return (out.stdout.trim() === '' ? null : JSON.parse(out.stdout)) as T;
  }

  async function awsFails(args: readonly string[]): Promise<string> {
    const out = await exec('aws', [...args, '--region', REGION, '--output', 'json'], env());
    expect(out.code).not.toBe(0);
    return out.stderr;
  }

  beforeAll(async () => {
    moto = await startMoto();
  });

  afterAll(async () => {
    await moto.stop();
  });

  test('create trusts only the updater ServiceAccount, publishes the discovery documents, and delete removes it all', async () => {
    const created = await bootstrap([
      ...['create', '--web-identity', '--name', 'keyless'],
      ...['--publish-discovery', 's3://ecr-k8s-e2e-oidc/cluster-a'],
    ]);
    expect({ code: created.code, stderr: created.stderr }).toMatchObject({ code: 0 });
    const roleArn = `arn:aws:iam::${ACCOUNT}:role/system/keyless-ecr-puller`;
    expect(created.stdout).toBe(
      [
        `role: ${roleArn}`,
        `issuer: ${SERVICE_ACCOUNT_ISSUER}`,
        `next: npm run synth -- --auth web-identity --role-arn ${roleArn} --region ${REGION} ` +
          '--namespace ecr-updater --service-account ecr-credential-updater',
        '',
      ].join('\n'),
    );

    // The provider: the cluster's issuer, the STS audience, tagged as ours.
    const provider = await aws<{ Url: string; ClientIDList: string[]; Tags: { Key: string; Value: string }[] }>([
      ...['iam', 'get-open-id-connect-provider', '--open-id-connect-provider-arn', PROVIDER_ARN],
    ]);
    expect(provider.Url).toBe(ISSUER_ID);
    expect(provider.ClientIDList).toEqual(['sts.amazonaws.com']);
    expect(provider.Tags).toContainEqual({ Key: 'ecr-k8s-credentials:managed-by', Value: 'bootstrap-iam.sh' });

    // The role: assumable with a web-identity token of exactly this ServiceAccount and audience.
    const role = await aws<{ Role: { AssumeRolePolicyDocument: unknown } }>([
      ...['iam', 'get-role', '--role-name', 'keyless-ecr-puller'],
    ]);
    expect(role.Role.AssumeRolePolicyDocument).toEqual({
      Version: '2012-10-17',
      Statement: [
        {
          Effect: 'Allow',
          Principal: { Federated: PROVIDER_ARN },
          Action: 'sts:AssumeRoleWithWebIdentity',
          Condition: {
            StringEquals: {
              [`${ISSUER_ID}:sub`]: 'system:serviceaccount:ecr-updater:ecr-credential-updater',
              [`${ISSUER_ID}:aud`]: 'sts.amazonaws.com',
            },
          },
        },
      ],
    });
    const policy = await aws<{ PolicyDocument: unknown }>([
      ...['iam', 'get-role-policy', '--role-name', 'keyless-ecr-puller', '--policy-name', 'keyless-ecr-pull'],
    ]);
    expect(policy.PolicyDocument).toEqual(ECR_POLICY);
    // No key anywhere: no IAM user was made.
    expect((await aws<{ Users: unknown[] }>(['iam', 'list-users'])).Users).toEqual([]);

    // The bucket holds the cluster's own documents, byte for byte, and grants nothing but
    // anonymous reads of those two objects; ACLs cannot open anything else.
    const { kubectl } = cluster();
    const discovery = (await kubectl(['get', '--raw', '/.well-known/openid-configuration'])).stdout;
    const jwks = (await kubectl(['get', '--raw', '/openid/v1/jwks'])).stdout;
    const objects = await aws<{ Contents: { Key: string }[] }>([
      's3api',
      'list-objects-v2',
      '--bucket',
      'ecr-k8s-e2e-oidc',
    ]);
    expect(objects.Contents.map((object) => object.Key).sort()).toEqual([
      'cluster-a/.well-known/openid-configuration',
      'cluster-a/openid/v1/jwks',
    ]);
    for (const [key, body] of [
      ['cluster-a/.well-known/openid-configuration', discovery],
      ['cluster-a/openid/v1/jwks', jwks],
    ] as const) {
      const out = await exec('aws', ['s3', 'cp', `s3://ecr-k8s-e2e-oidc/${key}`, '-', '--region', REGION], env());
      expect(out.stdout).toBe(body);
    }
    const bucketPolicy = await aws<{ Policy: string }>(['s3api', 'get-bucket-policy', '--bucket', 'ecr-k8s-e2e-oidc']);
    expect(JSON.parse(bucketPolicy.Policy)).toEqual({
      Version: '2012-10-17',
      Statement: [
        {
          Sid: 'OidcDiscoveryRead636C75737465722D61',
          Effect: 'Allow',
          Principal: '*',
          Action: 's3:GetObject',
          Resource: [
            'arn:aws:s3:::ecr-k8s-e2e-oidc/cluster-a/.well-known/openid-configuration',
            'arn:aws:s3:::ecr-k8s-e2e-oidc/cluster-a/openid/v1/jwks',
          ],
        },
      ],
    });
    const block = await aws<{ PublicAccessBlockConfiguration: Record<string, boolean> }>([
      ...['s3api', 'get-public-access-block', '--bucket', 'ecr-k8s-e2e-oidc'],
    ]);
    expect(block.PublicAccessBlockConfiguration).toEqual({
      BlockPublicAcls: true,
      IgnorePublicAcls: true,
      BlockPublicPolicy: false,
      RestrictPublicBuckets: false,
    });

    // Running it again changes nothing and reuses the provider.
    const again = await bootstrap([
      ...['create', '--web-identity', '--name', 'keyless'],
      ...['--publish-discovery', 's3://ecr-k8s-e2e-oidc/cluster-a'],
    ]);
    expect(again.code).toBe(0);
    expect(again.stderr).toContain(`reusing OIDC provider ${PROVIDER_ARN}`);
    const providers = await aws<{ OpenIDConnectProviderList: unknown[] }>(['iam', 'list-open-id-connect-providers']);
    expect(providers.OpenIDConnectProviderList).toHaveLength(1);

    const deleted = await bootstrap(['delete', '--web-identity', '--name', 'keyless', '--yes']);
    expect({ code: deleted.code, stderr: deleted.stderr }).toMatchObject({ code: 0 });
    expect(deleted.stderr).toContain(`deleted OIDC provider ${PROVIDER_ARN}`);
    expect(await awsFails(['iam', 'get-role', '--role-name', 'keyless-ecr-puller'])).toContain('NoSuchEntity');
    expect(
      (await aws<{ OpenIDConnectProviderList: unknown[] }>(['iam', 'list-open-id-connect-providers']))
        .OpenIDConnectProviderList,
    ).toEqual([]);
  });

  test('an issuer that is not the bucket URL is refused with the kube-apiserver flags to set, and nothing is made', async () => {
    const out = await bootstrap([
      ...['create', '--web-identity', '--name', 'wrong-bucket'],
      ...['--publish-discovery', 's3://another-bucket'],
    ]);
    expect(out.code).toBe(2);
    expect(out.stderr).toContain(`the cluster's ServiceAccount issuer is ${SERVICE_ACCOUNT_ISSUER}`);
    expect(out.stderr).toContain(
      '--service-account-issuer=https://another-bucket.s3.eu-west-1.amazonaws.com ' +
        '--service-account-jwks-uri=https://another-bucket.s3.eu-west-1.amazonaws.com/openid/v1/jwks',
    );
    expect(await awsFails(['iam', 'get-role', '--role-name', 'wrong-bucket-ecr-puller'])).toContain('NoSuchEntity');
  });

  test('a public issuer is trusted as given with --issuer-url; delete keeps a provider another role still trusts', async () => {
    const issuer = 'https://oidc.example.com/cluster-b';
    const providerArn = `arn:aws:iam::${ACCOUNT}:oidc-provider/oidc.example.com/cluster-b`;
    for (const name of ['public-a', 'public-b']) {
      const out = await bootstrap(['create', '--web-identity', '--name', name, '--issuer-url', issuer]);
      expect({ code: out.code, stderr: out.stderr }).toMatchObject({ code: 0 });
      expect(out.stdout).toContain(`issuer: ${issuer}`);
    }
    const first = await bootstrap(['delete', '--web-identity', '--name', 'public-a', '--yes']);
    expect(first.code).toBe(0);
    expect(first.stderr).toContain(`leaving OIDC provider ${providerArn}: still trusted by public-b-ecr-puller`);
    const second = await bootstrap(['delete', '--web-identity', '--name', 'public-b', '--yes']);
    expect(second.code).toBe(0);
    expect(second.stderr).toContain(`deleted OIDC provider ${providerArn}`);
  });

  test.each([
    [
      ['create', '--web-identity', '--issuer-url', 'http://oidc.example.com'],
      '--issuer-url "http://oidc.example.com" is not an https URL',
    ],
    [
      ['create', '--web-identity', '--publish-discovery', 's3://Bad_Bucket'],
      '--publish-discovery "s3://Bad_Bucket" is not s3://BUCKET[/PREFIX]',
    ],
    [['create', '--issuer-url', 'https://oidc.example.com'], '--issuer-url only applies with --web-identity'],
    [['rotate', '--web-identity'], '--web-identity has no key to rotate'],
    [
      ['create', '--web-identity', '--publish-discovery', 's3://my.oidc.bucket/cluster-a'],
      'bucket name "my.oidc.bucket" has dots, and S3\'s TLS certificate (*.s3.eu-west-1.amazonaws.com) does not cover',
    ],
  ])('bad input %j exits 2: %s', async (args, message) => {
    const out = await bootstrap(args);
    expect(out.code).toBe(2);
    expect(out.stderr).toContain(message);
  });
});

const BUCKET = 'ecr-k8s-e2e-oidc';
const REPO_ROOT = fileURLToPath(new URL('../..', import.meta.url));
const ISSUER_B = `https://${BUCKET}.s3.${REGION}.amazonaws.com/cluster-b`;

/** The bucket policy statement of one prefix, as the script writes it (Sid: the prefix in hex). */
function discoveryStatement(prefix: string): Record<string, unknown> {
  return {
    Sid: `OidcDiscoveryRead${Buffer.from(prefix).toString('hex').toUpperCase()}`,
    Effect: 'Allow',
    Principal: '*',
    Action: 's3:GetObject',
    Resource: [
      `arn:aws:s3:::${BUCKET}/${prefix}/.well-known/openid-configuration`,
      `arn:aws:s3:::${BUCKET}/${prefix}/openid/v1/jwks`,
    ],
  };
}

/** One issuer's trust statement: its provider, its cluster's ServiceAccount, the STS audience. */
function trustStatement(issuer: string, namespace: string, serviceAccount: string): Record<string, unknown> {
  const id = issuer.replace('https://', '');
  return {
    Effect: 'Allow',
    Principal: { Federated: `arn:aws:iam::${ACCOUNT}:oidc-provider/${id}` },
    Action: 'sts:AssumeRoleWithWebIdentity',
    Condition: {
      StringEquals: {
        [`${id}:sub`]: `system:serviceaccount:${namespace}:${serviceAccount}`,
        [`${id}:aud`]: 'sts.amazonaws.com',
      },
    },
  };
}

/** An unsigned GET of an object, as STS fetches the discovery documents. */
async function anonymousGet(moto: Moto, key: string): Promise<{ status: number; body: string }> {
  const res = await fetch(`${moto.endpoint}/${BUCKET}/${key}`);
  return { status: res.status, body: await res.text() };
}

/** The script and the aws CLI against one moto, signed with `creds`. */
function awsTools(moto: Moto, creds: () => { id: string; secret: string }) {
  const env = (kubeconfig: string): NodeJS.ProcessEnv =>
    scriptEnv({
      AWS_ENDPOINT_URL: moto.endpoint,
      AWS_EC2_METADATA_DISABLED: 'true',
      AWS_ACCESS_KEY_ID: creds().id,
      AWS_SECRET_ACCESS_KEY: creds().secret,
      KUBECONFIG: kubeconfig,
    });
  const awsRun = (args: readonly string[], as = creds()): Promise<RunResult> =>
    exec('aws', [...args, '--region', REGION, '--output', 'json'], {
      ...env(cluster().adminKubeconfig),
      AWS_ACCESS_KEY_ID: as.id,
      AWS_SECRET_ACCESS_KEY: as.secret,
    });
  return {
    bootstrap: (args: readonly string[], kubeconfig = cluster().adminKubeconfig, as = creds()): Promise<RunResult> =>
      exec('/bin/bash', [SCRIPT, ...args, '--region', REGION], {
        ...env(kubeconfig),
        AWS_ACCESS_KEY_ID: as.id,
        AWS_SECRET_ACCESS_KEY: as.secret,
      }),
    awsRun,
    async aws<T>(args: readonly string[], as = creds()): Promise<T> {
      const out = await awsRun(args, as);
      if (out.code !== 0) throw new Error(`aws ${args.join(' ')} exited ${out.code}: ${out.stderr}`);
      return (out.stdout.trim() === '' ? null : JSON.parse(out.stdout)) as T;
    },
  };
}

describe.skipIf(!e2eAvailable.ok)('scripts/bootstrap-iam.sh --web-identity: two clusters, one bucket, one role', () => {
  let moto: Moto;
  let second: ControlPlane;
  let tools: ReturnType<typeof awsTools>;
  let kubectlBin: string;
  const ID = { id: 'AKIAIOSFODNN7EXAMPLE', secret: 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY' };

  /** What a cluster's API server serves at the two discovery paths. */
  async function served(kubeconfig: string): Promise<{ discovery: string; jwks: string }> {
    const get = async (path: string): Promise<string> => {
      const out = await run(kubectlBin, ['--kubeconfig', kubeconfig, 'get', '--raw', path]);
      if (out.code !== 0) throw new Error(`kubectl get --raw ${path}: ${out.stderr}`);
      return out.stdout;
    };
    return { discovery: await get('/.well-known/openid-configuration'), jwks: await get('/openid/v1/jwks') };
  }

  async function bucketStatements(): Promise<unknown[]> {
    const policy = await tools.aws<{ Policy: string }>(['s3api', 'get-bucket-policy', '--bucket', BUCKET]);
    return (JSON.parse(policy.Policy) as { Statement: unknown[] }).Statement;
  }

  async function trust(): Promise<unknown[]> {
    const role = await tools.aws<{ Role: { AssumeRolePolicyDocument: { Statement: unknown[] } } }>([
      ...['iam', 'get-role', '--role-name', 'fleet-ecr-puller'],
    ]);
    return role.Role.AssumeRolePolicyDocument.Statement;
  }

  async function providers(): Promise<string[]> {
    const out = await tools.aws<{ OpenIDConnectProviderList: { Arn: string }[] }>([
      ...['iam', 'list-open-id-connect-providers'],
    ]);
    return out.OpenIDConnectProviderList.map((provider) => provider.Arn).sort();
  }

  beforeAll(async () => {
    const found = await checkPrerequisites(REPO_ROOT);
    if (!found.ok) throw new Error(found.why);
    kubectlBin = found.binaries.kubectl;
    moto = await startMoto();
    tools = awsTools(moto, () => ID);
    second = await startControlPlane(
      { etcd: found.binaries.etcd, kubeApiserver: found.binaries.kubeApiserver },
      mkdtempSync(join(tmpdir(), 'bootstrap-cluster-b-')),
      { serviceAccountIssuer: ISSUER_B },
    );
  });

  afterAll(async () => {
    await second.stop();
    await moto.stop();
  });

  const createA = (): Promise<RunResult> =>
    tools.bootstrap(['create', '--web-identity', '--name', 'fleet', '--publish-discovery', `s3://${BUCKET}/cluster-a`]);
  const createB = (): Promise<RunResult> =>
    tools.bootstrap(
      [
        ...['create', '--web-identity', '--name', 'fleet', '--publish-discovery', `s3://${BUCKET}/cluster-b`],
        ...['--service-account', 'updater-b'],
      ],
      second.info.adminKubeconfig,
    );

  test('both clusters publish under their prefixes: both statements stay, both documents are public, nothing else is', async () => {
    const a = await createA();
    expect({ code: a.code, stderr: a.stderr }).toMatchObject({ code: 0 });
    const b = await createB();
    expect({ code: b.code, stderr: b.stderr }).toMatchObject({ code: 0 });
    expect(await bucketStatements()).toEqual([discoveryStatement('cluster-a'), discoveryStatement('cluster-b')]);

    const servedA = await served(cluster().adminKubeconfig);
    const servedB = await served(second.info.adminKubeconfig);
    expect(servedB.jwks).not.toBe(servedA.jwks);
    for (const [prefix, docs] of [
      ['cluster-a', servedA],
      ['cluster-b', servedB],
    ] as const) {
      expect(await anonymousGet(moto, `${prefix}/.well-known/openid-configuration`)).toEqual({
        status: 200,
        body: docs.discovery,
      });
      expect(await anonymousGet(moto, `${prefix}/openid/v1/jwks`)).toEqual({ status: 200, body: docs.jwks });
    }
    // moto does refuse unsigned reads the policy does not grant, so the 200s above are the policy's.
    await tools.aws(['s3api', 'put-object', '--bucket', BUCKET, '--key', 'private/notes.txt', '--body', SCRIPT]);
    expect((await anonymousGet(moto, 'private/notes.txt')).status).toBe(403);

    // Running either create again keeps the other cluster's statement.
    for (const again of [createA, createB]) {
      const out = await again();
      expect({ code: out.code, stderr: out.stderr }).toMatchObject({ code: 0 });
      expect(await bucketStatements()).toEqual([discoveryStatement('cluster-a'), discoveryStatement('cluster-b')]);
    }
  });

  test('one role for both: a trust statement per issuer, each pinned to its ServiceAccount; delete for one cluster removes only its statement, provider and documents', async () => {
    const roleArn = `arn:aws:iam::${ACCOUNT}:role/system/fleet-ecr-puller`;
    const providerA = `arn:aws:iam::${ACCOUNT}:oidc-provider/${ISSUER_ID}`;
    const providerB = `arn:aws:iam::${ACCOUNT}:oidc-provider/${ISSUER_B.replace('https://', '')}`;
    expect(await trust()).toEqual([
      trustStatement(SERVICE_ACCOUNT_ISSUER, 'ecr-updater', 'ecr-credential-updater'),
      trustStatement(ISSUER_B, 'ecr-updater', 'updater-b'),
    ]);
    expect(await providers()).toEqual([providerA, providerB].sort());

    const deleteA = await tools.bootstrap([
      ...['delete', '--web-identity', '--name', 'fleet', '--yes'],
      ...['--publish-discovery', `s3://${BUCKET}/cluster-a`],
    ]);
    expect({ code: deleteA.code, stderr: deleteA.stderr }).toMatchObject({ code: 0 });
    expect(deleteA.stderr).toContain(`removed the trust of ${providerA} from IAM role fleet-ecr-puller`);
    expect(await trust()).toEqual([trustStatement(ISSUER_B, 'ecr-updater', 'updater-b')]);
    expect(await providers()).toEqual([providerB]);
    expect(await bucketStatements()).toEqual([discoveryStatement('cluster-b')]);
    const keys = await tools.aws<{ Contents: { Key: string }[] }>(['s3api', 'list-objects-v2', '--bucket', BUCKET]);
    expect(keys.Contents.map((object) => object.Key).sort()).toEqual([
      'cluster-b/.well-known/openid-configuration',
      'cluster-b/openid/v1/jwks',
      'private/notes.txt',
    ]);
    expect((await anonymousGet(moto, 'cluster-b/openid/v1/jwks')).status).toBe(200);
    // cluster-b still gets its role.
    const again = await createB();
    expect(again.stdout).toContain(`role: ${roleArn}\n`);

    const deleteB = await tools.bootstrap(
      [
        ...['delete', '--web-identity', '--name', 'fleet', '--yes'],
        ...['--publish-discovery', `s3://${BUCKET}/cluster-b`],
      ],
      second.info.adminKubeconfig,
    );
    expect({ code: deleteB.code, stderr: deleteB.stderr }).toMatchObject({ code: 0 });
    expect(deleteB.stderr).toContain('deleted IAM role fleet-ecr-puller');
    expect(deleteB.stderr).toContain(`deleted the bucket policy of ${BUCKET} (it held only this cluster's statement)`);
    expect((await tools.awsRun(['iam', 'get-role', '--role-name', 'fleet-ecr-puller'])).stderr).toContain(
      'NoSuchEntity',
    );
    expect(await providers()).toEqual([]);
    expect((await tools.awsRun(['s3api', 'get-bucket-policy', '--bucket', BUCKET])).stderr).toContain(
      'NoSuchBucketPolicy',
    );
    const left = await tools.aws<{ Contents: { Key: string }[] }>(['s3api', 'list-objects-v2', '--bucket', BUCKET]);
    expect(left.Contents.map((object) => object.Key)).toEqual(['private/notes.txt']);
  });
});

describe.skipIf(!e2eAvailable.ok)('scripts/bootstrap-iam.sh --web-identity: a failed run on a shared bucket', () => {
  // Authentication on: the failure is a real IAM policy denying the caller one action.
  let moto: Moto;
  let admin = { id: '', secret: '' };
  let tools: ReturnType<typeof awsTools>;
  const FOREIGN_POLICY = JSON.stringify(
    {
      Version: '2012-10-17',
      Statement: [
        {
          Sid: 'KeepMe',
          Effect: 'Allow',
          Principal: '*',
          Action: 's3:GetObject',
          Resource: `arn:aws:s3:::${BUCKET}/public/*`,
        },
      ],
    },
    null,
    2,
  );
  const OLD_DOCUMENTS = {
    'cluster-a/.well-known/openid-configuration': '{"issuer":"before the key rotation"}',
    'cluster-a/openid/v1/jwks': '{"keys":[{"kid":"the old key"}]}',
  };

  /** Everything of the bucket a run may touch, as AWS returns it. */
  async function bucketState(): Promise<unknown> {
    const policy = await tools.aws<{ Policy: string }>(['s3api', 'get-bucket-policy', '--bucket', BUCKET]);
    const block = await tools.aws<unknown>(['s3api', 'get-public-access-block', '--bucket', BUCKET]);
    const listed = await tools.aws<{ Contents: { Key: string }[] }>(['s3api', 'list-objects-v2', '--bucket', BUCKET]);
    const objects: Record<string, unknown> = {};
    for (const { Key } of listed.Contents) {
      const file = join(mkdtempSync(join(tmpdir(), 'bootstrap-object-')), 'body');
      const meta = await tools.aws<{ ContentType: string }>([
        ...['s3api', 'get-object', '--bucket', BUCKET, '--key', Key, file],
      ]);
      objects[Key] = { body: readFileSync(file, 'utf8'), contentType: meta.ContentType };
    }
    return { policy: policy.Policy, block, objects };
  }

  /** A caller allowed everything except `denied`. */
  async function callerDenied(name: string, denied: string): Promise<{ id: string; secret: string }> {
    const policy = JSON.stringify({
      Version: '2012-10-17',
      Statement: [
        { Effect: 'Allow', Action: '*', Resource: '*' },
        { Effect: 'Deny', Action: denied, Resource: '*' },
      ],
    });
    await tools.aws(['iam', 'create-user', '--user-name', name]);
    await tools.aws(['iam', 'put-user-policy', '--user-name', name, '--policy-name', 'p', '--policy-document', policy]);
    const key = await tools.aws<{ AccessKey: { AccessKeyId: string; SecretAccessKey: string } }>([
      ...['iam', 'create-access-key', '--user-name', name],
    ]);
    return { id: key.AccessKey.AccessKeyId, secret: key.AccessKey.SecretAccessKey };
  }

  beforeAll(async () => {
    moto = await startMoto({ initialNoAuthActionCount: 3 });
    const anonymous = { id: 'AKIAIOSFODNN7EXAMPLE', secret: 'bootstrap' };
    tools = awsTools(moto, () => admin);
    const admin0 = JSON.stringify({
      Version: '2012-10-17',
      Statement: [{ Effect: 'Allow', Action: '*', Resource: '*' }],
    });
    await tools.awsRun(['iam', 'create-user', '--user-name', 'admin'], anonymous);
    await tools.awsRun(
      ['iam', 'put-user-policy', '--user-name', 'admin', '--policy-name', 'admin', '--policy-document', admin0],
      anonymous,
    );
    const key = await tools.aws<{ AccessKey: { AccessKeyId: string; SecretAccessKey: string } }>(
      ['iam', 'create-access-key', '--user-name', 'admin'],
      anonymous,
    );
    admin = { id: key.AccessKey.AccessKeyId, secret: key.AccessKey.SecretAccessKey };

    // A bucket in use: another statement, a strict public access block, and the documents of
    // the cluster's previous signing key (README: run create again after a key rotation).
    await tools.aws([
      ...['s3api', 'create-bucket', '--bucket', BUCKET],
      ...['--create-bucket-configuration', `LocationConstraint=${REGION}`],
    ]);
    await tools.aws(['s3api', 'put-bucket-policy', '--bucket', BUCKET, '--policy', FOREIGN_POLICY]);
    await tools.aws([
      ...['s3api', 'put-public-access-block', '--bucket', BUCKET, '--public-access-block-configuration'],
      'BlockPublicAcls=true,IgnorePublicAcls=true,BlockPublicPolicy=true,RestrictPublicBuckets=true',
    ]);
    for (const [key, body] of Object.entries(OLD_DOCUMENTS)) {
      const file = join(mkdtempSync(join(tmpdir(), 'bootstrap-old-')), 'body');
      writeFileSync(file, body);
      await tools.aws([
        ...['s3api', 'put-object', '--bucket', BUCKET, '--key', key, '--body', file, '--content-type', 'text/plain'],
      ]);
    }
  });

  afterAll(async () => {
    await moto.stop();
  });

  test.each([
    [
      'iam:CreateOpenIDConnectProvider',
      'the step after the bucket policy',
      /may not create the OIDC provider for .* \(iam:CreateOpenIDConnectProvider\): .*AccessDenied.*credentials that may manage IAM roles and OIDC providers/,
    ],
    [
      's3:PutBucketPolicy',
      'the bucket policy',
      /may not put the bucket policy of ecr-k8s-e2e-oidc \(s3:PutBucketPolicy\): .*AccessDenied.*credentials that may manage S3 bucket ecr-k8s-e2e-oidc/,
    ],
  ])(
    'denied %s (%s): objects, bucket policy and public access block are byte-identical afterwards; the hint names that permission',
    async (denied, _step, hint) => {
      const before = await bucketState();
      const caller = await callerDenied(`denied-${denied.replace(/\W/g, '-')}`, denied);
      const out = await tools.bootstrap(
        ['create', '--web-identity', '--name', 'shared', '--publish-discovery', `s3://${BUCKET}/cluster-a`],
        cluster().adminKubeconfig,
        caller,
      );
      expect(out.stderr).toMatch(hint);
      expect(out.stderr).not.toContain('may manage IAM users');
      expect(out.stderr).toContain(`putting back the previous s3://${BUCKET}/cluster-a/openid/v1/jwks`);
      expect(out.code).toBe(1);
      expect(await bucketState()).toEqual(before);
      expect((await tools.awsRun(['iam', 'get-role', '--role-name', 'shared-ecr-puller'])).stderr).toContain(
        'NoSuchEntity',
      );
    },
  );
});
