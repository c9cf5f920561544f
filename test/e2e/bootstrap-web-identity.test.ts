// scripts/bootstrap-iam.sh --web-identity against moto and the harness's real kube-apiserver,
// whose ServiceAccount issuer is an S3 bucket URL as in a self-hosted setup. moto runs with
// authentication off here: it neither verifies a web-identity JWT nor evaluates a trust
// policy's conditions, so the trust policy is checked as JSON; the exchange of a real token for
// the role's credentials is proven in web-identity.test.ts.
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { cluster, e2eAvailable, scriptEnv, SERVICE_ACCOUNT_ISSUER, startMoto, type Moto } from './harness/index.js';
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
          Sid: 'PublicReadOfOidcDiscovery',
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
  ])('bad input %j exits 2: %s', async (args, message) => {
    const out = await bootstrap(args);
    expect(out.code).toBe(2);
    expect(out.stderr).toContain(message);
  });
});
