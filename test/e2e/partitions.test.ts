// AWS partitions and FIPS in the script: the registry-host rule run from the table the generator's
// unit test runs too, the own registry's host and the ECR API endpoint per partition (held against
// botocore's own resolver), and a FIPS run end to end.
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
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
  renderedSettings,
  synthBundle,
  writeScriptFiles,
  type Moto,
} from './harness/index.js';
import { requireContext } from './harness/available.js';
import { run } from './harness/process.js';

const REGISTRY_HOSTS = JSON.parse(
  readFileSync(new URL('../fixtures/registry-hosts.json', import.meta.url), 'utf8'),
) as {
  valid: string[];
  invalid: string[];
  own: { region: string; fips: boolean; host: string; api: string }[];
};

/** The ECR endpoint botocore (the aws CLI's library) resolves for a region, FIPS or not. */
const BOTOCORE_ECR_ENDPOINT = `
import sys
import botocore.session
from botocore.config import Config
client = botocore.session.get_session().create_client(
    "ecr", region_name=sys.argv[1], config=Config(use_fips_endpoint=sys.argv[2] == "true"),
    aws_access_key_id="AKIAEXAMPLE", aws_secret_access_key="example")
print(client.meta.endpoint_url)
`;

const SCRIPT_DIR = join(import.meta.dirname, '..', '..', 'src', 'scripts');

/** Sources ecr-settings.sh under busybox ash and runs `body` with `env`. */
async function probe(body: string, env: Record<string, string>): Promise<{ stdout: string; stderr: string }> {
  const file = join(mkdtempSync(join(tmpdir(), 'partitions-')), 'probe.sh');
  writeFileSync(file, `. "${SCRIPT_DIR}/ecr-log.sh"\n. "${SCRIPT_DIR}/ecr-settings.sh"\n${body}\n`);
  const result = await runBusyboxScript(file, scriptEnv(env));
  return { stdout: result.stdout.trim(), stderr: result.stderr };
}

describe.skipIf(!e2eAvailable.ok)('one registry-host rule in the generator and the script', () => {
  test.each([
    ...REGISTRY_HOSTS.valid.map((host) => ({ host, valid: true })),
    ...REGISTRY_HOSTS.invalid.map((host) => ({ host, valid: false })),
  ])('registry_region "$host" -> $valid', async ({ host, valid }) => {
    const result = await probe('if registry_region "$HOST" >/dev/null; then echo valid; else echo invalid; fi', {
      HOST: host,
    });
    expect(result).toEqual({ stdout: valid ? 'valid' : 'invalid', stderr: '' });
  });

  test.each(REGISTRY_HOSTS.own)(
    'the own registry in $region (FIPS $fips) is $host, and the rule accepts it',
    async ({ region, fips, host }) => {
      const result = await probe(
        'h=$(registry_host 123456789012 "$REGION") && printf "%s %s\\n" "$h" "$(registry_region "$h")"',
        { REGION: region, AWS_USE_FIPS_ENDPOINT: String(fips) },
      );
      expect(result).toEqual({ stdout: `${host} ${region}`, stderr: '' });
    },
  );

  test.each(REGISTRY_HOSTS.own)(
    'the ECR API endpoint in $region (FIPS $fips) is $api, for the script and for botocore',
    async ({ region, fips, api }) => {
      const script = await probe('ecr_api_url "$REGION"', { REGION: region, AWS_USE_FIPS_ENDPOINT: String(fips) });
      expect(script).toEqual({ stdout: api, stderr: '' });
      const botocore = await run(requireContext().tools.python, ['-c', BOTOCORE_ECR_ENDPOINT, region, String(fips)], {
        env: { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: tmpdir() },
      });
      expect({ stdout: botocore.stdout.trim(), code: botocore.code }).toEqual({ stdout: api, code: 0 });
    },
  );

  test('an endpoint URL overrides the partition rule, the ECR one before the general one', async () => {
    const endpoints = { AWS_ENDPOINT_URL: 'https://all.example', AWS_ENDPOINT_URL_ECR: 'https://ecr.example/' };
    expect(await probe('ecr_api_url eu-west-1', endpoints)).toEqual({ stdout: 'https://ecr.example', stderr: '' });
    expect(await probe('ecr_api_url eu-west-1', { AWS_ENDPOINT_URL: 'https://all.example' })).toEqual({
      stdout: 'https://all.example',
      stderr: '',
    });
  });
});

describe.skipIf(!e2eAvailable.ok)('--fips', () => {
  let moto: Moto;

  beforeAll(async () => {
    moto = await startMoto();
  });

  afterAll(async () => {
    await moto.stop();
  });

  /** The rendered CronJob's literal env, the way the pod gets it. */
  async function renderedRun(flags: string[], env: Record<string, string>) {
    const { kubectl, serviceAccountKubeconfig } = cluster();
    const namespace = 'ecr-fips';
    const dir = await synthBundle(['--namespace', namespace, '--no-initial-job', ...flags]);
    await kubectl(['apply', '--server-side', '--validate=strict', '-f', dir]);
    await kubectl(['create', 'namespace', 'fips-app'], { allowFail: true });
    const objects = loadBundle(dir);
    const rendered = renderedSettings(bundleObject(objects, 'CronJob'));
    const script = writeScriptFiles(objects, mkdtempSync(join(tmpdir(), 'fips-script-')));
    return runBusyboxScript(
      script,
      scriptEnv({
        ...rendered,
        AWS_ENDPOINT_URL: moto.endpoint,
        AWS_ACCESS_KEY_ID: 'AKIAIOSFODNN7EXAMPLE',
        AWS_SECRET_ACCESS_KEY: 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY',
        ECR_TARGET_NAMESPACES: 'fips-app',
        KUBECONFIG: await serviceAccountKubeconfig(namespace, 'ecr-credential-updater'),
        ...env,
      }),
    );
  }

  test('the pull secret names the own registry by its dkr.ecr-fips host', async () => {
    const result = await renderedRun(['--fips', '--region', 'us-gov-west-1'], { AWS_REGION: 'us-gov-west-1' });
    expect({ code: result.code, stderr: result.stderr }).toEqual({ code: 0, stderr: '' });
    const secret = JSON.parse(
      (await cluster().kubectl(['get', 'secret', 'ecr-registry-credentials', '-n', 'fips-app', '-o', 'json'])).stdout,
    ) as { data: Record<string, string> };
    const config = JSON.parse(Buffer.from(secret.data['.dockerconfigjson'] ?? '', 'base64').toString()) as {
      auths: Record<string, unknown>;
    };
    expect(Object.keys(config.auths)).toEqual(['123456789012.dkr.ecr-fips.us-gov-west-1.amazonaws.com']);
  });

  test('a region without FIPS endpoints is a configuration error before any call', async () => {
    const before = (await moto.stats()).requests;
    const result = await renderedRun(['--fips', '--region', 'us-east-1'], { AWS_REGION: 'eu-west-1' });
    expect(result.code).toBe(2);
    expect(result.stdout).toContain(
      'event=fatal reason="AWS_USE_FIPS_ENDPOINT=true, but ECR has no FIPS endpoints in AWS_REGION \\"eu-west-1\\", ' +
        'only in the US regions; set AWS_REGION to e.g. us-gov-west-1, or AWS_USE_FIPS_ENDPOINT to false" exit_code=2',
    );
    expect((await moto.stats()).requests).toBe(before);
  });
});
