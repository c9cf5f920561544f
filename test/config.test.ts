import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { App, Chart } from 'cdk8s';
import { describe, expect, test } from 'vitest';
import { ConfigError, DEFAULTS, type EcrCredentialsConfig, resolveConfig } from '../src/config.js';
import { loadConfigFile } from '../src/config-file.js';
import { EcrCredentialRefresh, type EcrCredentialRefreshProps } from '../src/constructs/ecr-credential-refresh.js';
import type { RawOptions } from '../src/options.js';
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

/**
 * One row per rule. The command names the flag; the construct gives the same text naming the
 * prop, so every option a message refers to must go through its Naming.
 */
const BAD_OPTIONS: [string, RawOptions, string][] = [
  [
    '13h schedule gap',
    { schedule: '0 */13 * * *' },
    '--schedule "0 */13 * * *" leaves a 13h gap between runs; ECR tokens expire after 12h. Use an interval of at most 11h, e.g. "0 */6 * * *".',
  ],
  [
    'exactly 12h gap',
    { schedule: '0 0,12 * * *' },
    '--schedule "0 0,12 * * *" leaves a 12h gap between runs; ECR tokens expire after 12h. Use an interval of at most 11h, e.g. "0 */6 * * *".',
  ],
  [
    'weekdays only',
    { schedule: '0 */6 * * 1-5' },
    '--schedule "0 */6 * * 1-5" leaves a 54h gap between runs; ECR tokens expire after 12h. Use an interval of at most 11h, e.g. "0 */6 * * *".',
  ],
  [
    'gap with minutes',
    { schedule: '30 0,12 * * *' },
    '--schedule "30 0,12 * * *" leaves a 12h gap between runs; ECR tokens expire after 12h. Use an interval of at most 11h, e.g. "0 */6 * * *".',
  ],
  [
    'cron syntax',
    { schedule: '61 */6 * * *' },
    '--schedule "61 */6 * * *" is not a valid cron schedule: minute field has 61, outside 0-59. Use a 5-field schedule, e.g. "0 */6 * * *".',
  ],
  [
    'every minute for an hour',
    { schedule: '* */6 * * *' },
    '--schedule "* */6 * * *" starts runs 1 minute(s) apart, so most are skipped while the previous one runs and the API server is loaded for nothing. Pin the minute field, e.g. "0 */6 * * *".',
  ],
  [
    'namespace not a DNS label',
    { namespace: 'ECR_Updater' },
    '--namespace "ECR_Updater" is not a valid namespace name: use at most 63 lowercase letters, digits and "-", starting and ending with a letter or digit, e.g. "ecr-updater".',
  ],
  [
    'a shared system namespace',
    { namespace: 'kube-system' },
    '--namespace "kube-system" is a namespace other workloads live in; the bundle owns its namespace and labels it to enforce Pod Security "restricted", which would block pods there. Use a dedicated namespace, e.g. "ecr-updater".',
  ],
  [
    'service account name',
    { serviceAccount: 'Updater!' },
    '--service-account "Updater!" is not a valid Kubernetes object name: use lowercase letters, digits, "-" and ".", starting and ending with a letter or digit, e.g. "updater".',
  ],
  [
    'secret name',
    { secretName: '-ecr' },
    '--secret-name "-ecr" is not a valid Kubernetes object name: use lowercase letters, digits, "-" and ".", starting and ending with a letter or digit, e.g. "ecr".',
  ],
  [
    'pull secret name equals AWS secret name',
    { secretName: 'aws-ecr-credentials' },
    '--secret-name and --aws-secret-name are both "aws-ecr-credentials": the refresh would overwrite its own AWS keys in the updater namespace. Give them different names.',
  ],
  [
    'image',
    { image: 'Alpine/K8s 1.30' },
    '--image "Alpine/K8s 1.30" is not a valid image reference. Use [registry/]repository[:tag][@sha256:digest], e.g. "alpine/k8s:1.30.7".',
  ],
  [
    'image without tag or digest',
    { image: 'registry.example.com:5000/alpine/k8s' },
    '--image "registry.example.com:5000/alpine/k8s" has neither a tag nor a digest, so each node pulls whatever "latest" is when it starts a pod. Pin it, best by digest: "registry.example.com:5000/alpine/k8s:TAG@sha256:DIGEST", e.g. "alpine/k8s:1.30.7".',
  ],
  [
    'image :latest',
    { image: 'alpine/k8s:latest' },
    '--image "alpine/k8s:latest" names the moving tag "latest": nodes would run different images, and a rebuilt one unseen. Use a version tag, best with its digest, e.g. "alpine/k8s:1.30.7@sha256:DIGEST".',
  ],
  [
    '20,000 exclude globs: over the 128 KiB of one environment variable',
    { excludeNamespaces: Array.from({ length: 20_000 }, (_, i) => `t${i}-*`) },
    '--exclude-namespaces (20000 entries) reaches the pod as ECR_EXCLUDE_NAMESPACES, 168,913 bytes; Linux starts no container with an environment variable over 131,072 bytes (128 KiB). Cover the namespaces with fewer globs (e.g. "team-*"), or label them and select them with --namespace-selector.',
  ],
  [
    'lists that fit one variable each, but not a client-side apply together',
    {
      targetNamespaces: Array.from({ length: 9_000 }, (_, i) => `team-${String(i).padStart(5, '0')}-*`),
      excludeNamespaces: Array.from({ length: 8_000 }, (_, i) => `test-${String(i).padStart(5, '0')}-*`),
    },
    '--target-namespaces, --exclude-namespaces together reach the pod as 220,998 bytes of environment; over 200,000 the CronJob no longer fits the 262,144-byte annotation a client-side kubectl apply keeps. Cover the namespaces with fewer globs (e.g. "team-*"), or label them and select them with --namespace-selector.',
  ],
  [
    'prometheus rule label not KEY=VALUE',
    { prometheusRule: true, prometheusRuleLabels: ['release'] },
    '--prometheus-rule-labels "release" is not a label KEY=VALUE (a key of letters, digits, "-", "_", "." with an optional DNS prefix and "/"; a value of at most 63 such characters), e.g. "release=kube-prometheus-stack".',
  ],
  [
    'prometheus rule label the bundle sets itself',
    { prometheusRule: true, prometheusRuleLabels: ['app.kubernetes.io/name=x'] },
    '--prometheus-rule-labels "app.kubernetes.io/name=x": the bundle sets the app.kubernetes.io/* labels itself. Select the rule by another label, e.g. "release=kube-prometheus-stack".',
  ],
  [
    'prometheus rule label twice',
    { prometheusRule: true, prometheusRuleLabels: ['release=a', 'release=b'] },
    '--prometheus-rule-labels names "release" twice. Give each label once.',
  ],
  [
    'prometheus rule labels without the rule',
    { prometheusRuleLabels: ['release=kube-prometheus-stack'] },
    '--prometheus-rule-labels is only used with --prometheus-rule, which is off: nothing would carry it. Add --prometheus-rule, or drop --prometheus-rule-labels.',
  ],
  [
    'runbook URL not a URL',
    { prometheusRule: true, prometheusRuleRunbookUrl: 'wiki/ecr' },
    '--prometheus-rule-runbook-url "wiki/ecr" is not an http(s) URL. Use e.g. "https://wiki.example.com/runbooks/ecr-credentials".',
  ],
  [
    'runbook URL without the rule',
    { prometheusRuleRunbookUrl: 'https://wiki.example.com/ecr' },
    '--prometheus-rule-runbook-url is only used with --prometheus-rule, which is off: nothing would carry it. Add --prometheus-rule, or drop --prometheus-rule-runbook-url.',
  ],
  [
    'region',
    { region: 'useast1' },
    '--region "useast1" is not an AWS region name. Use e.g. "us-east-1" or "eu-central-1".',
  ],
  [
    'registry given as a URL',
    { registry: ['https://210987654321.dkr.ecr.eu-west-1.amazonaws.com/app'] },
    '--registry "https://210987654321.dkr.ecr.eu-west-1.amazonaws.com/app" is not an ECR registry host. Did you mean "210987654321.dkr.ecr.eu-west-1.amazonaws.com"?',
  ],
  [
    'a China registry under the global domain',
    { registry: ['123456789012.dkr.ecr.cn-north-1.amazonaws.com'] },
    '--registry "123456789012.dkr.ecr.cn-north-1.amazonaws.com" is not an ECR registry host. Did you mean "123456789012.dkr.ecr.cn-north-1.amazonaws.com.cn"?',
  ],
  [
    'registry that is not ECR',
    { registry: ['ghcr.io'] },
    '--registry "ghcr.io" is not an ECR registry host. Use ACCOUNT.dkr.ecr.REGION.amazonaws.com (.amazonaws.com.cn in China, dkr.ecr-fips in US regions for FIPS), e.g. "123456789012.dkr.ecr.eu-west-1.amazonaws.com".',
  ],
  [
    'a FIPS registry host outside the US regions',
    { registry: ['123456789012.dkr.ecr-fips.eu-west-1.amazonaws.com'] },
    '--registry "123456789012.dkr.ecr-fips.eu-west-1.amazonaws.com" is not an ECR registry host. Use ACCOUNT.dkr.ecr.REGION.amazonaws.com (.amazonaws.com.cn in China, dkr.ecr-fips in US regions for FIPS), e.g. "123456789012.dkr.ecr.eu-west-1.amazonaws.com".',
  ],
  [
    'target namespace',
    { targetNamespaces: ['Team_A'] },
    '--target-namespaces "Team_A" is not a namespace name or glob: use lowercase letters, digits, "-", and the wildcards "*" and "?", e.g. "team-*".',
  ],
  [
    'exclude glob',
    { excludeNamespaces: ['kube-[a-z]*'] },
    '--exclude-namespaces "kube-[a-z]*" is not a namespace name or glob: use lowercase letters, digits, "-", and the wildcards "*" and "?", e.g. "team-*".',
  ],
  [
    'label selector',
    { namespaceSelector: 'env in (prod' },
    '--namespace-selector "env in (prod" is not a label selector. Use kubectl\'s -l syntax, e.g. "ecr-pull=enabled" or "env in (prod,staging),!no-ecr".',
  ],
  [
    'CIDR without mask',
    { apiServerCidr: ['10.0.0.1'] },
    '--api-server-cidr "10.0.0.1" is not a valid CIDR: the prefix length is missing. Did you mean "10.0.0.1/32"?',
  ],
  [
    'CIDR with host bits',
    { apiServerCidr: ['10.0.0.1/24'] },
    '--api-server-cidr "10.0.0.1/24" is not a valid CIDR: it has host bits set. Did you mean "10.0.0.0/24"?',
  ],
  [
    'CIDR prefix too long',
    { apiServerCidr: ['10.0.0.0/33'] },
    '--api-server-cidr "10.0.0.0/33" is not a valid CIDR: the prefix length must be 0-32. Use e.g. "10.0.0.10/32" or "192.168.0.0/24".',
  ],
  [
    'CIDR not an address',
    { apiServerCidr: ['api.example.com/32'] },
    '--api-server-cidr "api.example.com/32" is not a valid CIDR: "api.example.com" is not an IPv4 or IPv6 address. Use e.g. "10.0.0.10/32" or "192.168.0.0/24".',
  ],
  [
    'port',
    { apiServerPort: 70000 },
    '--api-server-port "70000" is not a TCP port. Use a whole number from 1 to 65535, e.g. 6443.',
  ],
  [
    'CPU quantity',
    { cpuRequest: '50 m' },
    '--cpu-request "50 m" is not a positive CPU quantity. Use e.g. "50m" or "0.1".',
  ],
  ['zero CPU limit', { cpuLimit: '0' }, '--cpu-limit "0" is not a positive CPU quantity. Use e.g. "50m" or "0.1".'],
  [
    'memory quantity',
    { memoryLimit: '128MB' },
    '--memory-limit "128MB" is not a positive memory quantity. Use e.g. "64Mi" or "1Gi".',
  ],
  [
    'request above limit',
    { memoryRequest: '256Mi' },
    '--memory-request "256Mi" is more than --memory-limit "128Mi"; Kubernetes rejects a request above its limit. Lower the request or raise the limit.',
  ],
  ['empty out dir', { outDir: ' ' }, '--out-dir is empty. Give a directory, e.g. --out-dir dist.'],
  [
    'a ServiceAccount name with capitals',
    { patchServiceAccounts: ['Default'] },
    '--patch-service-accounts "Default" is not a ServiceAccount name: use lowercase letters, digits, "-" and ".", starting and ending with a letter or digit, e.g. "default".',
  ],
  [
    'Argo CD namespace not a namespace name',
    { argocdRepoCreds: 'Argo_CD' },
    '--argocd-repo-creds "Argo_CD" is not a valid namespace name: give the namespace Argo CD runs in, e.g. "argocd".',
  ],
  [
    'Argo CD Secret names over 253 characters',
    { argocdRepoCreds: 'argocd', secretName: 'p'.repeat(241) },
    `--secret-name "${'p'.repeat(40)}..." (241 characters) is too long for --argocd-repo-creds: the Argo CD Secrets are named after it with "-argocd-oci-N" appended, at most 253 characters in all. Use a shorter name.`,
  ],
  [
    'a proxy without a port',
    { httpsProxy: 'http://proxy.internal' },
    '--https-proxy "http://proxy.internal" is not a proxy URL with a port. Use http://HOST:PORT, e.g. "http://proxy.internal:3128".',
  ],
  [
    'a proxy URL with credentials',
    { httpsProxy: 'http://user:secret@proxy.internal:3128' },
    '--https-proxy "http://***@proxy.internal:3128" holds credentials, which would be written into the manifests in plain text. Use a proxy that admits the pod by address, e.g. "http://proxy.internal:3128".',
  ],
  [
    'an egress CIDR without its prefix',
    { egressCidr: ['10.1.2.3'] },
    '--egress-cidr "10.1.2.3" is not a valid CIDR: the prefix length is missing. Did you mean "10.1.2.3/32"?',
  ],
  [
    'a --no-proxy entry with a space',
    { noProxy: ['.svc cluster.local'] },
    '--no-proxy ".svc cluster.local" is not a host, domain or CIDR: use e.g. ".svc", "10.0.0.0/8" or "api.internal".',
  ],
  [
    'an STS endpoint with a path',
    { awsEndpointUrlSts: 'https://vpce-0456.sts.eu-west-1.vpce.amazonaws.com/sts' },
    '--aws-endpoint-url-sts "https://vpce-0456.sts.eu-west-1.vpce.amazonaws.com/sts" is not an https endpoint URL. Use e.g. "https://vpce-0123-abcd.api.ecr.eu-west-1.vpce.amazonaws.com".',
  ],
  [
    '--fips in a region without FIPS endpoints',
    { fips: true, region: 'eu-west-1' },
    '--fips: ECR has no FIPS endpoints in --region "eu-west-1", only in the US regions (us-east-1, us-east-2, us-west-1, us-west-2, us-gov-east-1, us-gov-west-1). Use one of those, or drop --fips.',
  ],
  [
    'an ECR endpoint over http',
    { awsEndpointUrlEcr: 'http://vpce.example' },
    '--aws-endpoint-url-ecr "http://vpce.example" is not an https endpoint URL. Use e.g. "https://vpce-0123-abcd.api.ecr.eu-west-1.vpce.amazonaws.com".',
  ],
  [
    'unknown auth mode',
    { auth: 'irsa' },
    '--auth "irsa" is not a credentials mode. Use "keys" (an IAM user\'s key in a Secret) or "web-identity" (no key in the cluster; needs --role-arn).',
  ],
  [
    'web identity without a role',
    { auth: 'web-identity' },
    '--auth "web-identity" needs --role-arn, the IAM role the ServiceAccount token is exchanged for, e.g. "arn:aws:iam::123456789012:role/ecr-credential-updater"; "scripts/bootstrap-iam.sh create --web-identity" creates it and prints it.',
  ],
  [
    'a role ARN that is a user ARN',
    { auth: 'web-identity', roleArn: 'arn:aws:iam::123456789012:user/ecr' },
    '--role-arn "arn:aws:iam::123456789012:user/ecr" is not an IAM role ARN. Use arn:PARTITION:iam::ACCOUNT:role/NAME, e.g. "arn:aws:iam::123456789012:role/ecr-credential-updater".',
  ],
  [
    'a role with key auth',
    { roleArn: 'arn:aws:iam::123456789012:role/ecr' },
    '--role-arn is only used with --auth "web-identity" (the pod exchanges its ServiceAccount token for that role). Set --auth to "web-identity", or drop --role-arn to keep using the key Secret.',
  ],
  [
    'a token audience with a space',
    { tokenAudience: 'sts amazonaws' },
    '--token-audience "sts amazonaws" is not a token audience: use one word without spaces or commas, e.g. "sts.amazonaws.com" (what the IAM OIDC provider lists as its client ID).',
  ],
  [
    'a registry role that is not a role ARN',
    { registry: ['210987654321.dkr.ecr.eu-west-1.amazonaws.com=ecr-pull'] },
    '--registry "210987654321.dkr.ecr.eu-west-1.amazonaws.com=ecr-pull": "ecr-pull" after "=" is not an IAM role ARN. Use HOST=ROLE_ARN, e.g. "210987654321.dkr.ecr.eu-west-1.amazonaws.com=arn:aws:iam::210987654321:role/ecr-pull".',
  ],
  [
    'an unknown GitOps tool',
    { gitops: 'argo' },
    '--gitops "argo" is not a GitOps tool this bundle knows. Use "argocd", "flux", or "none" (kubectl apply, or any other tool).',
  ],
];

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
  const everything: EcrCredentialsConfig = {
    outDir: 'out',
    namespace: 'pull-secrets',
    serviceAccount: 'refresher',
    secretName: 'ecr-pull',
    awsSecretName: 'aws-keys',
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
      '210987654321.dkr.ecr.eu-west-1.amazonaws.com=arn:aws:iam::210987654321:role/ecr-pull',
      '123456789012.dkr.ecr.cn-north-1.amazonaws.com.cn',
    ],
    apiServerCidr: ['10.0.0.10/32', 'fd00::/64'],
    apiServerPort: 443,
    httpsProxy: 'http://proxy.internal:3128',
    noProxy: ['.svc', '10.0.0.0/8'],
    egressCidr: ['10.1.2.3/32'],
    awsEndpointUrlEcr: 'https://vpce-0123.api.ecr.eu-central-1.vpce.amazonaws.com',
    awsEndpointUrlSts: 'https://vpce-0456.sts.eu-central-1.vpce.amazonaws.com',
    fips: true,
    networkPolicy: false,
    initialJob: false,
    adoptExistingSecrets: true,
    watchNamespaces: true,
    patchServiceAccounts: ['default', 'builder'],
    argocdRepoCreds: 'argocd',
    cpuRequest: '0.1',
    cpuLimit: '1',
    memoryRequest: '100M',
    memoryLimit: '1Gi',
    gitops: 'flux',
    prometheusRule: true,
    prometheusRuleLabels: ['release=kube-prometheus-stack', 'example.com/team=platform'],
    prometheusRuleRunbookUrl: 'https://wiki.example.com/runbooks/ecr-credentials',
  };

  test('every option set to a valid non-default value', () => {
    expect(resolveConfig(everything)).toEqual(everything);
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
      `--config "${join(dir, 'nope.yaml')}" cannot be read: no such file. Give the path of a JSON or YAML file.`,
    );
  });

  test('a file that is not YAML names the parse error', () => {
    const path = write('broken.yaml', 'schedule: [unclosed\n');
    expect(() => loadConfigFile(path)).toThrow(`--config "${path}" is not valid YAML or JSON:`);
  });
});
