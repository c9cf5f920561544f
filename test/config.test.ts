import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { App, Chart } from 'cdk8s';
import { describe, expect, test } from 'vitest';
import { ConfigError, DEFAULTS, type EcrCredentialsConfig, resolveConfig } from '../src/config.js';
import { loadConfigFile } from '../src/config-file.js';
import { EcrCredentialRefresh, type EcrCredentialRefreshProps } from '../src/constructs/ecr-credential-refresh.js';
import type { RawOptions } from '../src/options.js';
import { BAD_OPTIONS } from './bad-options.js';
import { TEST_SCRIPTS, withPropNames } from './helpers.js';

function problemsOf(flags: RawOptions): readonly string[] {
  try {
    resolveConfig(flags);
  } catch (error) {
    if (error instanceof ConfigError) return error.problems;
    throw error;
  }
  throw new Error('expected a ConfigError');
}

describe('20,000 exclude globs (169 KB), too long for one environment variable', () => {
  const excludeNamespaces = Array.from({ length: 20_000 }, (_, i) => `t${i}-*`);
  const message =
    'excludeNamespaces (20000 entries) reaches the pod as ECR_EXCLUDE_NAMESPACES, 168,913 bytes; Linux starts no container with an environment variable over 131,072 bytes (128 KiB). Cover the namespaces with fewer globs (e.g. "team-*"), or label them and select them with namespaceSelector.';

  test('are refused by the command, with the size and the limit', () => {
    expect(problemsOf({ excludeNamespaces })).toEqual([
      `--${message.replace('namespaceSelector', '--namespace-selector').replace(/^excludeNamespaces/, 'exclude-namespaces')}`,
    ]);
  });

  test('are refused by the construct, naming the prop', () => {
    expect(
      () => new EcrCredentialRefresh(new Chart(new App(), 'c'), 'ecr', { excludeNamespaces, scripts: TEST_SCRIPTS }),
    ).toThrow(new ConfigError([message]));
  });
});

describe('resolveConfig rejects bad input with a fix-it message', () => {
  test.each(BAD_OPTIONS)('%s', (_name, flags, message) => {
    expect(problemsOf(flags)).toEqual([message]);
  });

  test('reports every broken rule at once', () => {
    expect(problemsOf({ namespace: 'A', region: 'x', cpuRequest: 'lots' })).toHaveLength(3);
  });
});

describe('the construct rejects the same input with the same text, naming the prop', () => {
  const propRows = BAD_OPTIONS.filter(([, options]) => !('outDir' in options));

  test.each(propRows)('%s', (_name, options, message) => {
    const props = options as EcrCredentialRefreshProps;
    expect(
      () => new EcrCredentialRefresh(new Chart(new App(), 'c'), 'ecr', { ...props, scripts: TEST_SCRIPTS }),
    ).toThrow(new ConfigError([withPropNames(message)]));
  });

  test('the messages name props, not flags', () => {
    expect(withPropNames('--schedule "x" is bad; set --role-arn or --no-network-policy')).toBe(
      'schedule "x" is bad; set roleArn or --no-network-policy',
    );
  });
});

describe('resolveConfig accepts', () => {
  test('no options at all: the defaults', () => {
    expect(resolveConfig({})).toEqual(DEFAULTS);
  });

  // Typed as the full config, so adding an option without covering it here fails to compile.
  // Web identity in GovCloud, with every option that mode uses; the key Secret's name is the
  // one option it cannot take (see the next test).
  const everything: EcrCredentialsConfig = {
    outDir: 'out',
    namespace: 'pull-secrets',
    serviceAccount: 'refresher',
    secretName: 'ecr-pull',
    awsSecretName: DEFAULTS.awsSecretName,
    auth: 'web-identity',
    roleArn: 'arn:aws-us-gov:iam::123456789012:role/platform/ecr-credential-updater',
    tokenAudience: 'sts.amazonaws.com/cluster-a',
    schedule: '15 */4 * * *',
    image: 'registry.example.com:5000/tools/k8s:1.31.2@sha256:' + 'a'.repeat(64),
    region: 'us-gov-west-1',
    targetNamespaces: ['team-*', 'prod'],
    excludeNamespaces: ['kube-*'],
    namespaceSelector: 'ecr-pull=enabled,env in (prod,staging),!no-ecr',
    registry: [
      '210987654321.dkr.ecr.us-gov-east-1.amazonaws.com=arn:aws-us-gov:iam::210987654321:role/ecr-pull',
      '123456789012.dkr-ecr-fips.us-gov-west-1.on.aws',
    ],
    apiServerCidr: ['10.0.0.10/32', 'fd00::/64'],
    apiServerPort: 443,
    httpsProxy: 'http://proxy.internal:3128',
    noProxy: ['.svc', '10.0.0.0/8'],
    egressCidr: ['10.1.2.3/32'],
    awsEndpointUrlEcr: 'https://vpce-0123.api.ecr.eu-central-1.vpce.amazonaws.com',
    awsEndpointUrlSts: 'https://vpce-0456.sts.eu-central-1.vpce.amazonaws.com',
    fips: true,
    // ECR Public is of the aws partition alone (the next-but-one test turns it on).
    ecrPublic: false,
    networkPolicy: true,
    initialJob: true,
    adoptExistingSecrets: true,
    watchNamespaces: true,
    patchServiceAccounts: ['default', 'builder'],
    injectPullSecret: true,
    argocdRepoCreds: 'argocd',
    tenant: [
      'team-a-*=arn:aws-us-gov:iam::111111111111:role/ecr-pull-team-a',
      'team in (b,c),!legacy=arn:aws-us-gov:iam::222222222222:role/ecr-pull-team-b',
    ],
    tenantsOnly: true,
    cpuRequest: '0.1',
    cpuLimit: '1',
    memoryRequest: '100M',
    memoryLimit: '1Gi',
    gitops: 'flux',
    prometheusRule: true,
    prometheusRuleLabels: ['release=kube-prometheus-stack', 'example.com/team=platform'],
    prometheusRuleRunbookUrl: 'https://wiki.example.com/runbooks/ecr-credentials',
  };

  test('every option set to a valid value, non-default where the mode uses it', () => {
    expect(resolveConfig({ ...everything, awsSecretName: undefined })).toEqual(everything);
  });

  test('keys with a Secret of its own name, and neither NetworkPolicy nor first-run Job', () => {
    const options = { awsSecretName: 'aws-keys', networkPolicy: false, initialJob: false };
    expect(resolveConfig(options)).toEqual({ ...DEFAULTS, ...options });
  });

  test('--ecr-public in a region of the aws partition', () => {
    expect(resolveConfig({ ecrPublic: true, region: 'eu-west-1' })).toEqual({
      ...DEFAULTS,
      ecrPublic: true,
      region: 'eu-west-1',
    });
  });

  test('an empty YAML list means none', () => {
    expect(resolveConfig({ patchServiceAccounts: [], registry: [] })).toEqual(DEFAULTS);
  });

  test('lists split on commas, trimmed, deduplicated', () => {
    const config = resolveConfig({ targetNamespaces: ['a, b', 'b', 'c,'], excludeNamespaces: ['kube-*,', ''] });
    expect(config.targetNamespaces).toEqual(['a', 'b', 'c']);
    expect(config.excludeNamespaces).toEqual(['kube-*']);
  });
});

describe('config file', () => {
  const dir = mkdtempSync(join(tmpdir(), 'ecr-config-'));
  const write = (name: string, text: string) => {
    const path = join(dir, name);
    writeFileSync(path, text);
    return path;
  };

  test('YAML keys are the flag names; flags override the file', () => {
    const path = write(
      'ok.yaml',
      'schedule: "0 */4 * * *"\nnamespace: from-file\nregistry:\n  - 210987654321.dkr.ecr.eu-west-1.amazonaws.com\nnetwork-policy: false\n',
    );
    const config = resolveConfig({ namespace: 'from-flag' }, loadConfigFile(path));
    expect(config.schedule).toBe('0 */4 * * *');
    expect(config.namespace).toBe('from-flag');
    expect(config.registry).toEqual(['210987654321.dkr.ecr.eu-west-1.amazonaws.com']);
    expect(config.networkPolicy).toBe(false);
  });

  test('JSON works too', () => {
    const path = write('ok.json', '{"initial-job": false, "exclude-namespaces": "kube-*"}');
    expect(resolveConfig({}, loadConfigFile(path))).toMatchObject({ initialJob: false, excludeNamespaces: ['kube-*'] });
  });

  test('a bad value in the file is reported against the file key', () => {
    const path = write('bad-value.yaml', 'schedule: "0 */13 * * *"\n');
    expect(() => resolveConfig({}, loadConfigFile(path))).toThrow(
      `"schedule" in ${path} "0 */13 * * *" leaves a 13h gap between runs; ECR tokens expire after 12h. Use an interval of at most 11h, e.g. "0 */6 * * *".`,
    );
  });

  test.each([
    ['typo.yaml', 'scheduel: "0 */6 * * *"\n', '"scheduel" is not an option. Did you mean "schedule"?'],
    ['type.yaml', 'network-policy: "no"\n', '"network-policy" is "no"; it must be true or false.'],
    ['list.yaml', 'registry: 5\n', '"registry" is 5; it must be a list of strings.'],
    ['scalar.yaml', '- a\n- b\n', 'must hold a mapping of option names to values, e.g. "schedule: 0 */6 * * *".'],
  ])('%s is rejected', (name, text, message) => {
    const path = write(name, text);
    expect(() => loadConfigFile(path)).toThrow(message);
  });

  test('a missing file names the path', () => {
    expect(() => loadConfigFile(join(dir, 'nope.yaml'))).toThrow(
      `--config "${join(dir, 'nope.yaml')}" cannot be read: there is no such file. Give the path of a JSON or YAML file.`,
    );
  });

  test('a directory names the path and says it is one', () => {
    expect(() => loadConfigFile(dir)).toThrow(
      new ConfigError([`--config "${dir}" cannot be read: it is a directory. Give the path of a JSON or YAML file.`]),
    );
  });

  test('a file that is not YAML names the parse error', () => {
    const path = write('broken.yaml', 'schedule: [unclosed\n');
    expect(() => loadConfigFile(path)).toThrow(
      new ConfigError([
        `--config "${path}" is not valid YAML or JSON: Flow sequence in block collection must be sufficiently indented and end with a ] at line 2, column 1. Fix the file and run again.`,
      ]),
    );
  });
});
