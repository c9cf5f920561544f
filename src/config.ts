import { type AuthMode, OPTIONS, OPTION_NAMES, type OptionName, type RawOptions } from './options.js';
import {
  ECR_REGISTRY_HOST,
  FIPS_REGION,
  arnPartition,
  ecrPublicAvailable,
  IAM_ROLE_ARN,
  REGION,
  regionPartition,
  registryHostFrom,
  registryRegion,
  splitRegistry,
} from './validation/aws.js';
import { CronSyntaxError, parseCron, runGaps } from './validation/cron.js';
import {
  isDnsLabel,
  DNS_SUBDOMAIN_MAX,
  imageVersion,
  isDnsSubdomain,
  isImageReference,
  isLabelKey,
  isLabelValue,
  isLabelSelector,
  isNamespaceGlob,
  parseQuantity,
  splitTenant,
  suggestDnsLabel,
  tenantMatchKind,
} from './validation/kubernetes.js';
import { checkCidr } from './validation/network.js';
import { quote } from './quote.js';
import { isGitOpsTool } from './constructs/initial-refresh-job.js';
import { clusterScopedName } from './constructs/labels.js';

/** The validated settings everything is built from. Lists are deduplicated, in input order. */
export type EcrCredentialsConfig = { readonly [K in OptionName]-?: NonNullable<RawOptions[K]> };

export const DEFAULTS: EcrCredentialsConfig = {
  outDir: 'dist',
  namespace: 'ecr-updater',
  serviceAccount: 'ecr-credential-updater',
  secretName: 'ecr-registry-credentials',
  awsSecretName: 'aws-ecr-credentials',
  auth: 'keys',
  roleArn: '',
  tokenAudience: 'sts.amazonaws.com',
  schedule: '0 */6 * * *',
  image: 'alpine/k8s:1.30.7',
  region: 'us-east-1',
  targetNamespaces: [],
  excludeNamespaces: [],
  namespaceSelector: '',
  registry: [],
  apiServerCidr: [],
  apiServerPort: 6443,
  httpsProxy: '',
  noProxy: [],
  egressCidr: [],
  awsEndpointUrlEcr: '',
  awsEndpointUrlSts: '',
  fips: false,
  ecrPublic: false,
  networkPolicy: true,
  initialJob: true,
  adoptExistingSecrets: false,
  watchNamespaces: false,
  patchServiceAccounts: [],
  injectPullSecret: false,
  argocdRepoCreds: '',
  tenant: [],
  tenantsOnly: false,
  cpuRequest: '50m',
  cpuLimit: '100m',
  memoryRequest: '32Mi',
  memoryLimit: '128Mi',
  gitops: 'none',
  prometheusRule: false,
  prometheusRuleLabels: [],
  prometheusRuleRunbookUrl: '',
};

/** ECR authorization tokens are valid for 12 hours from issue. */
export const TOKEN_LIFETIME_MINUTES = 12 * 60;

/** Invalid input. `problems` holds one fix-it message per rule broken. */
export class ConfigError extends Error {
  constructor(readonly problems: readonly string[]) {
    super(problems.join('\n'));
    this.name = 'ConfigError';
  }
}

/** Options read from a config file, kept apart so messages can point at the file. */
export interface ConfigFileOptions {
  readonly path: string;
  readonly options: RawOptions;
}

function formatHours(minutes: number): string {
  if (!Number.isFinite(minutes)) return 'an unbounded';
  const hours = Math.floor(minutes / 60);
  const rest = minutes % 60;
  return rest === 0 ? `a ${hours}h` : `a ${hours}h${String(rest).padStart(2, '0')}m`;
}

/** List options accept repeats and commas alike: `--registry a,b` equals `--registry a --registry b`. */
function listOf(values: readonly string[]): string[] {
  return entriesOf(values.flatMap((value) => value.split(',')));
}

/** A list whose values may hold commas (`--tenant`): one value per flag, trimmed and deduplicated. */
function entriesOf(values: readonly string[]): string[] {
  const items = values.map((value) => value.trim());
  return [...new Set(items.filter((value) => value !== ''))];
}

/**
 * How messages name options, so one rule text serves every user: `--schedule` for the command,
 * `"schedule" in ecr.yaml` for a config file, `schedule` for the construct's props.
 */
export interface Naming {
  /** The option a bad value came from; the subject of a message. */
  readonly source: (name: OptionName) => string;
  /** Another option named in a message's advice. */
  readonly option: (name: OptionName) => string;
}

const flagOf = (name: OptionName): string => `--${OPTIONS[name].flag}`;

/** Messages for the construct's props: each option by its prop name. */
export const PROP_NAMING: Naming = { source: (name) => name, option: (name) => name };

/**
 * Merges defaults, the config file and flags (flags win), then checks every rule and reports
 * all broken ones at once. Nothing is built or written before this returns.
 */
export function resolveConfig(flags: RawOptions, file?: ConfigFileOptions): EcrCredentialsConfig {
  const fromFile = file?.options ?? {};
  /** Where a value came from, as the user would find it: `--schedule` or `schedule in ecr.yaml`. */
  const source = (name: OptionName): string =>
    flags[name] === undefined && fromFile[name] !== undefined && file
      ? `"${OPTIONS[name].flag}" in ${file.path}`
      : flagOf(name);
  const merged = Object.fromEntries(OPTION_NAMES.map((name) => [name, flags[name] ?? fromFile[name]])) as RawOptions;
  return resolveOptions(merged, { source, option: flagOf });
}

/**
 * Applies the defaults, normalises lists and checks every rule, naming options as `naming`
 * says; throws one ConfigError listing every problem.
 */
export function resolveOptions(options: RawOptions, naming: Naming): EcrCredentialsConfig {
  const pick = <K extends OptionName>(name: K): NonNullable<RawOptions[K]> => options[name] ?? DEFAULTS[name];
  const merged = Object.fromEntries(OPTION_NAMES.map((name) => [name, pick(name)])) as unknown as EcrCredentialsConfig;
  const config: EcrCredentialsConfig = {
    ...merged,
    targetNamespaces: listOf(merged.targetNamespaces),
    excludeNamespaces: listOf(merged.excludeNamespaces),
    registry: listOf(merged.registry),
    apiServerCidr: listOf(merged.apiServerCidr),
    patchServiceAccounts: listOf(merged.patchServiceAccounts),
    noProxy: listOf(merged.noProxy),
    egressCidr: listOf(merged.egressCidr),
    tenant: entriesOf(merged.tenant),
    namespaceSelector: merged.namespaceSelector.trim(),
  };
  const problems = [
    ...checkNames(config, naming),
    ...checkSchedule(config.schedule, naming.source('schedule')),
    ...checkImageAndAws(config, naming),
    ...checkAuth(config, naming),
    ...checkNamespaceTargeting(config, naming),
    ...checkTenants(config, naming),
    ...checkNetwork(config, naming),
    ...checkResources(config, naming),
    ...checkGitOps(config, naming),
    ...checkInjection(config, naming),
    ...checkEmptyLists(options, naming),
    ...checkUnusedOptions(options, config, naming),
    ...checkPartitions(config, naming),
    ...checkEnvironmentSize(config, naming),
    ...checkAlerting(config, naming),
  ];
  if (config.outDir.trim() === '') {
    problems.push(`${naming.source('outDir')} is empty. Give a directory, e.g. ${naming.option('outDir')} dist.`);
  }
  if (problems.length > 0) throw new ConfigError(problems);
  return config;
}

/**
 * The Argo CD repo-creds Secrets a run writes: per registry (the own one first, then each
 * --registry), one for Helm OCI charts and one for OCI sources. They go by position, not host,
 * because the own registry's account id is unknown at synth time and the Role must name them.
 * The script (ecr-argocd.sh) names them the same way.
 */
export function argocdRepoCredsNames(secretName: string, extraRegistries: number): string[] {
  return Array.from({ length: extraRegistries + 1 }, (_, index) => [
    `${secretName}-argocd-helm-${index}`,
    `${secretName}-argocd-oci-${index}`,
  ]).flat();
}

/** Namespaces the bundle must never own: it labels its namespace for Pod Security "restricted". */
const SHARED_NAMESPACES: readonly string[] = ['default', 'kube-system', 'kube-public', 'kube-node-lease'];

function checkNames(config: EcrCredentialsConfig, { source }: Naming): string[] {
  const problems: string[] = [];
  if (!isDnsLabel(config.namespace)) {
    problems.push(
      `${source('namespace')} ${quote(config.namespace)} is not a valid namespace name: use at most 63 lowercase ` +
        `letters, digits and "-", starting and ending with a letter or digit, e.g. "${suggestDnsLabel(config.namespace)}".`,
    );
  }
  if (SHARED_NAMESPACES.includes(config.namespace)) {
    problems.push(
      `${source('namespace')} ${quote(config.namespace)} is a namespace other workloads live in; the bundle owns its ` +
        `namespace and labels it to enforce Pod Security "restricted", which would block pods there. Use a ` +
        `dedicated namespace, e.g. "ecr-updater".`,
    );
  } else if (config.namespace.startsWith('kube-')) {
    problems.push(
      `${source('namespace')} ${quote(config.namespace)} starts with "kube-", the prefix Kubernetes keeps for its own ` +
        `namespaces; the bundle owns its namespace and labels it for Pod Security "restricted". Use a dedicated ` +
        `namespace, e.g. "ecr-updater".`,
    );
  }
  for (const name of ['serviceAccount', 'secretName', 'awsSecretName'] as const) {
    if (config[name].length > DNS_SUBDOMAIN_MAX) {
      problems.push(
        `${source(name)} ${quote(config[name])} is ${config[name].length} characters long; a Kubernetes object name ` +
          `has at most ${DNS_SUBDOMAIN_MAX}. Use a shorter name, e.g. ${quote(DEFAULTS[name])}.`,
      );
    } else if (!isDnsSubdomain(config[name])) {
      problems.push(
        `${source(name)} ${quote(config[name])} is not a valid Kubernetes object name: use lowercase letters, digits, ` +
          `"-" and ".", starting and ending with a letter or digit, e.g. "${suggestDnsLabel(config[name])}".`,
      );
    }
  }
  for (const account of config.patchServiceAccounts) {
    if (!isDnsSubdomain(account)) {
      problems.push(
        `${source('patchServiceAccounts')} ${quote(account)} is not a ServiceAccount name: use lowercase letters, digits, ` +
          `"-" and ".", starting and ending with a letter or digit, e.g. "default".`,
      );
    }
  }
  if (config.argocdRepoCreds !== '' && !isDnsLabel(config.argocdRepoCreds)) {
    problems.push(
      `${source('argocdRepoCreds')} ${quote(config.argocdRepoCreds)} is not a valid namespace name: give the namespace ` +
        `Argo CD runs in, e.g. "argocd".`,
    );
  }
  if (config.argocdRepoCreds !== '') {
    const longest = argocdRepoCredsNames(config.secretName, config.registry.length).at(-1) ?? '';
    if (longest.length > 253) {
      problems.push(
        `${source('secretName')} ${quote(config.secretName)} is too long for ${source('argocdRepoCreds')}: the Argo CD Secrets are named after it with "-argocd-oci-N" appended, ` +
          `at most 253 characters in all. Use a shorter name.`,
      );
    }
  }
  if (config.secretName === config.awsSecretName) {
    problems.push(
      `${source('secretName')} and ${source('awsSecretName')} are both ${quote(config.secretName)}: the refresh ` +
        `would overwrite its own AWS keys in the updater namespace. Give them different names.`,
    );
  }
  return problems;
}

export function checkSchedule(schedule: string, where: string): string[] {
  const example = 'e.g. "0 */6 * * *"';
  let gaps;
  try {
    gaps = runGaps(parseCron(schedule));
  } catch (error) {
    if (!(error instanceof CronSyntaxError)) throw error;
    return [
      `${where} ${quote(schedule)} is not a valid cron schedule: ${error.message}. Use a 5-field schedule, ${example}.`,
    ];
  }
  if (gaps.longestMinutes >= TOKEN_LIFETIME_MINUTES) {
    return [
      `${where} ${quote(schedule)} leaves ${formatHours(gaps.longestMinutes)} gap between runs; ECR tokens expire ` +
        `after 12h. Use an interval of at most 11h, ${example}.`,
    ];
  }
  if (gaps.shortestMinutes < 5) {
    return [
      `${where} ${quote(schedule)} starts runs ${gaps.shortestMinutes} minute(s) apart, so most are skipped while ` +
        `the previous one runs and the API server is loaded for nothing. Pin the minute field, ${example}.`,
    ];
  }
  return [];
}

function checkImageAndAws(config: EcrCredentialsConfig, { source, option }: Naming): string[] {
  const problems: string[] = [];
  if (!isImageReference(config.image)) {
    problems.push(
      `${source('image')} ${quote(config.image)} is not a valid image reference. Use [registry/]repository[:tag][@sha256:digest], ` +
        `e.g. "alpine/k8s:1.30.7".`,
    );
  }
  const { tag, digest } = imageVersion(config.image);
  if (isImageReference(config.image) && tag === undefined && digest === undefined) {
    problems.push(
      `${source('image')} "${config.image}" has neither a tag nor a digest, so each node pulls whatever "latest" is ` +
        `when it starts a pod. Pin it, best by digest: "${config.image}:TAG@sha256:DIGEST", e.g. "alpine/k8s:1.30.7".`,
    );
  } else if (tag === 'latest' && digest === undefined) {
    problems.push(
      `${source('image')} "${config.image}" names the moving tag "latest": nodes would run different images, and ` +
        `a rebuilt one unseen. Use a version tag, best with its digest, e.g. "alpine/k8s:1.30.7@sha256:DIGEST".`,
    );
  }
  if (!REGION.test(config.region)) {
    problems.push(
      `${source('region')} ${quote(config.region)} is not an AWS region name. Use e.g. "us-east-1" or "eu-central-1".`,
    );
  }
  if (config.fips && REGION.test(config.region) && !FIPS_REGION.test(config.region)) {
    problems.push(
      `${source('fips')}: ECR has no FIPS endpoints in ${source('region')} ${quote(config.region)}, only in the US regions ` +
        `(us-east-1, us-east-2, us-west-1, us-west-2, us-gov-east-1, us-gov-west-1). Use one of those, or drop ${option('fips')}.`,
    );
  }
  if (config.ecrPublic && REGION.test(config.region) && !ecrPublicAvailable(config.region)) {
    problems.push(
      `${source('ecrPublic')}: ECR Public exists only in the aws partition, and ${source('region')} ` +
        `${quote(config.region)} is in ${regionPartition(config.region)}, whose credentials it does not accept. Drop ` +
        `${option('ecrPublic')} (anonymous pulls from public.ecr.aws still work), or use a region of the aws partition.`,
    );
  } else if (config.ecrPublic && config.fips) {
    problems.push(
      `${source('ecrPublic')} with ${source('fips')}: ECR Public has no FIPS endpoint, so its token could only come ` +
        `from a non-FIPS one. Drop ${option('ecrPublic')} (anonymous pulls from public.ecr.aws still work), or ${option('fips')}.`,
    );
  }
  for (const registry of config.registry) {
    const { host: given, roleArn } = splitRegistry(registry);
    if (roleArn !== undefined && !IAM_ROLE_ARN.test(roleArn)) {
      problems.push(
        `${source('registry')} ${quote(registry)}: ${quote(roleArn)} after "=" is not an IAM role ARN. Use HOST=ROLE_ARN, ` +
          `e.g. "210987654321.dkr.ecr.eu-west-1.amazonaws.com=arn:aws:iam::210987654321:role/ecr-pull".`,
      );
    }
    if (ECR_REGISTRY_HOST.test(given)) continue;
    const host = registryHostFrom(given);
    const hint = ECR_REGISTRY_HOST.test(host)
      ? `Did you mean "${host}"?`
      : 'Use ACCOUNT.dkr.ecr.REGION.amazonaws.com (.amazonaws.com.cn in China, dkr.ecr-fips in US regions for FIPS), ' +
        'e.g. "123456789012.dkr.ecr.eu-west-1.amazonaws.com".';
    problems.push(`${source('registry')} ${quote(registry)} is not an ECR registry host. ${hint}`);
  }
  return problems;
}

function checkGitOps(config: EcrCredentialsConfig, { source }: Naming): string[] {
  if (isGitOpsTool(config.gitops)) return [];
  return [
    `${source('gitops')} ${quote(config.gitops)} is not a GitOps tool this bundle knows. Use "argocd", "flux", or "none" ` +
      `(kubectl apply, or any other tool).`,
  ];
}

/** Name of the MutatingAdmissionPolicy and its binding: cluster-wide, so the install's, as the ClusterRole's. */
export function injectionPolicyName(namespace: string): string {
  return `${clusterScopedName(namespace)}-pull-secret`;
}

function checkInjection(config: EcrCredentialsConfig, { source, option }: Naming): string[] {
  if (!config.injectPullSecret) return [];
  const problems: string[] = [];
  for (const name of config.targetNamespaces) {
    if (name === 'kube-system' || name === config.namespace) {
      problems.push(
        `${source('targetNamespaces')} "${name}" with ${option('injectPullSecret')}: the policy never changes Pods in ` +
          `kube-system or the updater's namespace ("${config.namespace}"), so they would not get the secret. Name ` +
          `their ServiceAccounts in ${option('patchServiceAccounts')} instead (the Secret is still written there), or drop "${name}".`,
      );
    }
  }
  return problems;
}

const AUTH_MODES: readonly string[] = ['keys', 'web-identity'] satisfies AuthMode[];
const ROLE_ARN_EXAMPLE = '"arn:aws:iam::123456789012:role/ecr-credential-updater"';

function checkAuth(config: EcrCredentialsConfig, { source, option }: Naming): string[] {
  const problems: string[] = [];
  if (!AUTH_MODES.includes(config.auth)) {
    problems.push(
      `${source('auth')} ${quote(config.auth)} is not a credentials mode. Use "keys" (an IAM user's key in a Secret) ` +
        `or "web-identity" (no key in the cluster; needs ${option('roleArn')}).`,
    );
  }
  if (config.auth === 'web-identity' && config.roleArn === '') {
    problems.push(
      `${source('auth')} "web-identity" needs ${option('roleArn')}, the IAM role the ServiceAccount token is exchanged for, ` +
        `e.g. ${ROLE_ARN_EXAMPLE}; "scripts/bootstrap-iam.sh create --web-identity" creates it and prints it.`,
    );
  }
  if (config.roleArn !== '' && !IAM_ROLE_ARN.test(config.roleArn)) {
    problems.push(
      `${source('roleArn')} ${quote(config.roleArn)} is not an IAM role ARN. Use arn:PARTITION:iam::ACCOUNT:role/NAME, ` +
        `e.g. ${ROLE_ARN_EXAMPLE}.`,
    );
  }
  if (config.roleArn !== '' && config.auth === 'keys') {
    problems.push(
      `${source('roleArn')} is only used with ${option('auth')} "web-identity" (the pod exchanges its ServiceAccount ` +
        `token for that role). Set ${option('auth')} to "web-identity", or drop ${option('roleArn')} to keep using the key Secret.`,
    );
  }
  if (!/^[\x21-\x7e]+$/.test(config.tokenAudience) || config.tokenAudience.includes(',')) {
    problems.push(
      `${source('tokenAudience')} ${quote(config.tokenAudience)} is not a token audience: use one word without spaces ` +
        `or commas, e.g. "sts.amazonaws.com" (what the IAM OIDC provider lists as its client ID).`,
    );
  }
  return problems;
}

function checkNamespaceTargeting(config: EcrCredentialsConfig, { source }: Naming): string[] {
  const problems: string[] = [];
  for (const name of ['targetNamespaces', 'excludeNamespaces'] as const) {
    for (const pattern of config[name]) {
      if (!isNamespaceGlob(pattern)) {
        problems.push(
          `${source(name)} ${quote(pattern)} is not a namespace name or glob: use lowercase letters, digits, "-", ` +
            `and the wildcards "*" and "?", e.g. "team-*".`,
        );
      }
    }
  }
  if (config.namespaceSelector !== '' && !isLabelSelector(config.namespaceSelector)) {
    problems.push(
      `${source('namespaceSelector')} ${quote(config.namespaceSelector)} is not a label selector. Use kubectl's -l ` +
        `syntax, e.g. "ecr-pull=enabled" or "env in (prod,staging),!no-ecr".`,
    );
  }
  return problems;
}

const TENANT_EXAMPLE = '"team-a-*=arn:aws:iam::123456789012:role/ecr-pull-team-a"';

function checkTenants(config: EcrCredentialsConfig, { source, option }: Naming): string[] {
  const problems: string[] = [];
  const seen = new Set<string>();
  for (const entry of config.tenant) {
    const tenant = splitTenant(entry);
    if (tenant === undefined) {
      problems.push(`${source('tenant')} ${quote(entry)} is not MATCH=ROLE_ARN. Use e.g. ${TENANT_EXAMPLE}.`);
      continue;
    }
    const { match, roleArn } = tenant;
    if (!IAM_ROLE_ARN.test(roleArn)) {
      problems.push(
        `${source('tenant')} ${quote(entry)}: ${quote(roleArn)} is not an IAM role ARN. Use MATCH=arn:PARTITION:iam::ACCOUNT:role/NAME, ` +
          `e.g. ${TENANT_EXAMPLE}; scripts/bootstrap-iam.sh creates such a role and prints its ARN (README, "Tenants").`,
      );
    } else if (REGION.test(config.region) && arnPartition(roleArn) !== regionPartition(config.region)) {
      problems.push(
        `${source('tenant')} ${quote(entry)}: the role is of partition ${arnPartition(roleArn)}, but ` +
          `${source('region')} ${quote(config.region)} is in ${regionPartition(config.region)}; credentials never ` +
          `cross partitions. Use a role ARN starting "arn:${regionPartition(config.region)}:iam::".`,
      );
    }
    const kind = tenantMatchKind(match);
    if (kind === 'selector' && !isLabelSelector(match)) {
      problems.push(
        `${source('tenant')} ${quote(entry)}: ${quote(match)} holds "=", "(", "," or a leading "!", so it is read as a ` +
          `label selector, and it is not one. Use kubectl's -l syntax, e.g. "team=a" or "env in (prod,staging)".`,
      );
    } else if (kind !== 'selector' && !isNamespaceGlob(match)) {
      problems.push(
        `${source('tenant')} ${quote(entry)}: ${quote(match)} is neither a namespace name or glob (lowercase letters, ` +
          `digits, "-", "*" and "?") nor a label selector ("team=a"). Use e.g. ${TENANT_EXAMPLE}.`,
      );
    } else if (seen.has(match)) {
      problems.push(
        `${source('tenant')} names ${quote(match)} twice; the first match wins, so the second would never apply. Give each MATCH once.`,
      );
    }
    seen.add(match);
  }
  if (config.tenantsOnly && config.tenant.length === 0) {
    problems.push(
      `${source('tenantsOnly')} leaves namespaces no tenant matches without a Secret, and no ${option('tenant')} is ` +
        `given, so no namespace would get one. Add ${option('tenant')} MATCH=ROLE_ARN, or drop ${option('tenantsOnly')}.`,
    );
  }
  return problems;
}

/** The proxy's port (an explicit one: a proxy URL without it is ambiguous across clients). */
export function proxyPort(url: string): number | undefined {
  const match = /^https?:\/\/[A-Za-z0-9.-]+:(\d{1,5})\/?$/.exec(url);
  return match?.[1] === undefined ? undefined : Number(match[1]);
}

/** NO_PROXY as rendered: --no-proxy, or the in-cluster names plus the API server CIDRs. */
export function noProxyList(config: Pick<EcrCredentialsConfig, 'noProxy' | 'apiServerCidr'>): string[] {
  if (config.noProxy.length > 0) return [...config.noProxy];
  return ['.svc', '.cluster.local', 'localhost', '127.0.0.1', '169.254.169.254', ...config.apiServerCidr];
}

function checkNetwork(config: EcrCredentialsConfig, { source }: Naming): string[] {
  const problems: string[] = [];
  for (const name of ['apiServerCidr', 'egressCidr'] as const) {
    for (const cidr of config[name]) {
      const check = checkCidr(cidr);
      if (!check.ok) {
        const fix = check.suggestion
          ? `Did you mean "${check.suggestion}"?`
          : 'Use e.g. "10.0.0.10/32" or "192.168.0.0/24".';
        problems.push(`${source(name)} ${quote(cidr)} is not a valid CIDR: ${check.problem}. ${fix}`);
      }
    }
  }
  if (config.httpsProxy !== '') {
    const port = proxyPort(config.httpsProxy);
    if (/^https?:\/\/[^/]*@/.test(config.httpsProxy)) {
      problems.push(
        `${source('httpsProxy')} ${quote(config.httpsProxy.replace(/\/\/[^/]*@/, '//***@'))} holds credentials, which would ` +
          `be written into the manifests in plain text. Use a proxy that admits the pod by address, e.g. "http://proxy.internal:3128".`,
      );
    } else if (port === undefined || port < 1 || port > 65535) {
      problems.push(
        `${source('httpsProxy')} ${quote(config.httpsProxy)} is not a proxy URL with a port. Use http://HOST:PORT, e.g. "http://proxy.internal:3128".`,
      );
    }
  }
  for (const entry of config.noProxy) {
    if (!/^[A-Za-z0-9.*:/_-]+$/.test(entry)) {
      problems.push(
        `${source('noProxy')} ${quote(entry)} is not a host, domain or CIDR: use e.g. ".svc", "10.0.0.0/8" or "api.internal".`,
      );
    }
  }
  for (const name of ['awsEndpointUrlEcr', 'awsEndpointUrlSts'] as const) {
    const url = config[name];
    if (url !== '' && !/^https:\/\/[A-Za-z0-9.-]+(:\d{1,5})?\/?$/.test(url)) {
      problems.push(
        `${source(name)} ${quote(url)} is not an https endpoint URL. Use e.g. "https://vpce-0123-abcd.api.ecr.eu-west-1.vpce.amazonaws.com".`,
      );
    }
  }
  const port = config.apiServerPort;
  if (!Number.isInteger(port) || port < 1 || port > 65535)
    problems.push(portProblem(source('apiServerPort'), String(port)));
  return problems;
}

export function portProblem(where: string, value: string): string {
  return `${where} ${quote(value)} is not a TCP port. Use a whole number from 1 to 65535, e.g. 6443.`;
}

function checkResources(config: EcrCredentialsConfig, { source }: Naming): string[] {
  const problems: string[] = [];
  const pairs = [
    ['cpuRequest', 'cpuLimit', 'CPU', '"50m" or "0.1"'],
    ['memoryRequest', 'memoryLimit', 'memory', '"64Mi" or "1Gi"'],
  ] as const;
  for (const [requestName, limitName, what, example] of pairs) {
    const values = [requestName, limitName].map((name) => {
      const amount = parseQuantity(config[name]);
      if (amount !== undefined && amount > 0) return amount;
      problems.push(`${source(name)} ${quote(config[name])} is not a positive ${what} quantity. Use e.g. ${example}.`);
      return undefined;
    });
    const [request, limit] = values;
    if (request !== undefined && limit !== undefined && request > limit) {
      problems.push(
        `${source(requestName)} ${quote(config[requestName])} is more than ${source(limitName)} ` +
          `${quote(config[limitName])}; Kubernetes rejects a request above its limit. Lower the request or raise the limit.`,
      );
    }
  }
  return problems;
}

/**
 * A list given with nothing in it (`--patch-service-accounts ""`) is a mistake, not a choice:
 * the option would silently fall back to its default. An empty YAML list (`[]`) still says "none".
 */
function checkEmptyLists(options: RawOptions, { source }: Naming): string[] {
  const problems: string[] = [];
  for (const name of OPTION_NAMES) {
    const given = options[name];
    if (OPTIONS[name].type !== 'list' || !Array.isArray(given) || given.length === 0) continue;
    const values = given as readonly string[];
    if ((OPTIONS[name].commas === 'keep' ? entriesOf(values) : listOf(values)).length > 0) continue;
    problems.push(
      `${source(name)} ${quote((given as readonly string[]).join(','))} gives no value. Give at least one (repeat ` +
        `the flag or separate values with commas), or leave ${source(name)} out.`,
    );
  }
  return problems;
}

/** Options that would do nothing with the others given: refused, so nobody relies on them. */
function checkUnusedOptions(options: RawOptions, config: EcrCredentialsConfig, { source }: Naming): string[] {
  const problems: string[] = [];
  const given = (name: OptionName): boolean => options[name] !== undefined;
  if (given('awsSecretName') && config.auth === 'web-identity') {
    problems.push(
      `${source('awsSecretName')} ${quote(config.awsSecretName)} names the Secret with an IAM user's key, which ` +
        `only ${source('auth')} "keys" reads; with ${source('auth')} "web-identity" there is no key Secret. Drop ` +
        `${source('awsSecretName')}, or set ${source('auth')} to "keys".`,
    );
  }
  if (given('tokenAudience') && config.auth === 'keys') {
    problems.push(
      `${source('tokenAudience')} ${quote(config.tokenAudience)} is the audience of the ServiceAccount token that ` +
        `${source('auth')} "web-identity" exchanges for a role; with ${source('auth')} "keys" there is no such ` +
        `token. Drop ${source('tokenAudience')}, or set ${source('auth')} to "web-identity" with ${source('roleArn')}.`,
    );
  }
  if (given('noProxy') && config.httpsProxy === '') {
    problems.push(
      `${source('noProxy')} lists what bypasses the proxy, and no ${source('httpsProxy')} is set, so it would do ` +
        `nothing. Set ${source('httpsProxy')}, or drop ${source('noProxy')}.`,
    );
  }
  if (!config.networkPolicy) {
    for (const name of ['egressCidr', 'apiServerPort'] as const) {
      if (!given(name)) continue;
      problems.push(
        `${source(name)} only shapes the NetworkPolicy, and ${source('networkPolicy')} is false, so it would do ` +
          `nothing. Drop ${source(name)}, or render the NetworkPolicy.`,
      );
    }
    // Without a NetworkPolicy the CIDRs still feed the default NO_PROXY of a proxy.
    if (given('apiServerCidr') && (config.httpsProxy === '' || given('noProxy'))) {
      problems.push(
        `${source('apiServerCidr')} only shapes the NetworkPolicy (and the default ${source('noProxy')} of a proxy), ` +
          `and ${source('networkPolicy')} is false, so it would do nothing. Drop ${source('apiServerCidr')}, or ` +
          `render the NetworkPolicy.`,
      );
    }
  }
  if (given('gitops') && !config.initialJob) {
    problems.push(
      `${source('gitops')} ${quote(config.gitops)} only changes the first-run Job, and ${source('initialJob')} is ` +
        `false, so it would do nothing. Drop ${source('gitops')}, or render the Job.`,
    );
  }
  return problems;
}

/**
 * AWS partitions (aws, aws-cn, aws-us-gov) share no credentials: a role or registry of another
 * partition than the refresh's region is accepted here and fails at every run.
 */
function checkPartitions(config: EcrCredentialsConfig, { source }: Naming): string[] {
  if (!REGION.test(config.region)) return [];
  const problems: string[] = [];
  const partition = regionPartition(config.region);
  const rolePartition = arnPartition(config.roleArn);
  if (rolePartition !== undefined && rolePartition !== partition) {
    problems.push(
      `${source('roleArn')} ${quote(config.roleArn)} is a role of partition ${rolePartition}, but ` +
        `${source('region')} ${quote(config.region)} is in ${partition}; credentials never cross partitions. ` +
        `Use a role ARN starting "arn:${partition}:iam::", or a region of ${rolePartition}.`,
    );
  }
  for (const registry of config.registry) {
    const { host, roleArn } = splitRegistry(registry);
    const hostRegion = ECR_REGISTRY_HOST.test(host) ? registryRegion(host) : undefined;
    if (hostRegion === undefined) continue;
    const hostPartition = regionPartition(hostRegion);
    const registryRole = roleArn === undefined ? undefined : arnPartition(roleArn);
    if (registryRole !== undefined && registryRole !== hostPartition) {
      problems.push(
        `${source('registry')} ${quote(registry)}: the role is of partition ${registryRole}, but the registry is ` +
          `in ${hostPartition}; credentials never cross partitions. Use a role ARN starting "arn:${hostPartition}:iam::".`,
      );
    } else if (hostPartition !== partition) {
      problems.push(
        `${source('registry')} ${quote(registry)} is in partition ${hostPartition}, but ${source('region')} ` +
          `${quote(config.region)} is in ${partition}, and the refresh's credentials never cross partitions. ` +
          `Render a bundle of its own for that registry, with a ${source('region')} of ${hostPartition}.`,
      );
    }
  }
  return problems;
}

/**
 * Linux caps one environment string, `NAME=value` and its terminating NUL, at 32 pages
 * (MAX_ARG_STRLEN, 131,072 bytes): a pod with a longer variable is created but its container
 * never starts (execve fails with E2BIG).
 */
export const ENV_STRING_LIMIT = 131_072;

/**
 * The list variables together. A client-side `kubectl apply` copies the whole CronJob (and the
 * first-run Job) into its last-applied-configuration annotation, and an object's annotations
 * may hold at most 262,144 bytes; the rest of the object takes under 10,000.
 */
export const ENV_LISTS_LIMIT = 200_000;

/** The options that reach the pod as one environment variable each, as the pod template joins them. */
function listVariables(config: EcrCredentialsConfig): { name: OptionName; variable: string; value: string }[] {
  return [
    { name: 'registry', variable: 'ECR_REGISTRIES', value: config.registry.join(' ') },
    { name: 'targetNamespaces', variable: 'ECR_TARGET_NAMESPACES', value: config.targetNamespaces.join(' ') },
    { name: 'excludeNamespaces', variable: 'ECR_EXCLUDE_NAMESPACES', value: config.excludeNamespaces.join(' ') },
    { name: 'namespaceSelector', variable: 'ECR_NAMESPACE_SELECTOR', value: config.namespaceSelector },
    {
      name: 'patchServiceAccounts',
      variable: 'ECR_PATCH_SERVICE_ACCOUNTS',
      value: config.patchServiceAccounts.join(' '),
    },
    { name: 'noProxy', variable: 'NO_PROXY', value: config.httpsProxy === '' ? '' : noProxyList(config).join(',') },
    { name: 'tenant', variable: 'ECR_TENANTS', value: config.tenant.join('\n') },
  ];
}

const LIST_FIX = 'Cover the namespaces with fewer globs (e.g. "team-*"), or label them and select them with';

/**
 * Settings reach the script as environment variables. Lists too long for one are refused here,
 * with the limit, rather than rendered into a pod that can never start.
 */
function checkEnvironmentSize(config: EcrCredentialsConfig, { source, option }: Naming): string[] {
  const problems: string[] = [];
  const variables = listVariables(config);
  for (const { name, variable, value } of variables) {
    const bytes = Buffer.byteLength(`${variable}=${value}`) + 1;
    if (bytes <= ENV_STRING_LIMIT) continue;
    const count = OPTIONS[name].type === 'list' ? ` (${(config[name] as readonly string[]).length} entries)` : '';
    problems.push(
      `${source(name)}${count} reaches the pod as ${variable}, ${bytes.toLocaleString('en-US')} bytes; Linux starts no ` +
        `container with an environment variable over ${ENV_STRING_LIMIT.toLocaleString('en-US')} bytes (128 KiB). ` +
        `${LIST_FIX} ${option('namespaceSelector')}.`,
    );
  }
  const total = variables.reduce((sum, { value }) => sum + Buffer.byteLength(value), 0);
  if (problems.length === 0 && total > ENV_LISTS_LIMIT) {
    const given = variables.filter(({ value }) => value !== '').map(({ name }) => source(name));
    problems.push(
      `${given.join(', ')} together reach the pod as ${total.toLocaleString('en-US')} bytes of environment; over ` +
        `${ENV_LISTS_LIMIT.toLocaleString('en-US')} the CronJob no longer fits the 262,144-byte annotation a ` +
        `client-side kubectl apply keeps. ${LIST_FIX} ${option('namespaceSelector')}.`,
    );
  }
  return problems;
}

/** Labels the bundle sets itself; a --prometheus-rule-labels entry must not silently replace one. */
const OWN_LABEL_PREFIX = 'app.kubernetes.io/';

function checkAlerting(config: EcrCredentialsConfig, { source, option }: Naming): string[] {
  const problems: string[] = [];
  const seen = new Set<string>();
  for (const entry of config.prometheusRuleLabels) {
    const equals = entry.indexOf('=');
    const key = equals < 0 ? entry : entry.slice(0, equals);
    const value = equals < 0 ? '' : entry.slice(equals + 1);
    if (equals < 0 || !isLabelKey(key) || !isLabelValue(value)) {
      problems.push(
        `${source('prometheusRuleLabels')} "${entry}" is not a label KEY=VALUE (a key of letters, digits, "-", "_", "." ` +
          `with an optional DNS prefix and "/"; a value of at most 63 such characters), e.g. "release=kube-prometheus-stack".`,
      );
    } else if (key.startsWith(OWN_LABEL_PREFIX)) {
      problems.push(
        `${source('prometheusRuleLabels')} "${entry}": the bundle sets the ${OWN_LABEL_PREFIX}* labels itself. ` +
          `Select the rule by another label, e.g. "release=kube-prometheus-stack".`,
      );
    } else if (seen.has(key)) {
      problems.push(`${source('prometheusRuleLabels')} names "${key}" twice. Give each label once.`);
    }
    seen.add(key);
  }
  const url = config.prometheusRuleRunbookUrl;
  if (url !== '' && !/^https?:\/\/[^\s/]+(\/\S*)?$/.test(url)) {
    problems.push(
      `${source('prometheusRuleRunbookUrl')} "${url}" is not an http(s) URL. Use e.g. "https://wiki.example.com/runbooks/ecr-credentials".`,
    );
  }
  if (!config.prometheusRule) {
    for (const name of ['prometheusRuleLabels', 'prometheusRuleRunbookUrl'] as const) {
      if (config[name].length > 0) {
        problems.push(
          `${source(name)} is only used with ${option('prometheusRule')}, which is off: nothing would carry it. ` +
            `Add ${option('prometheusRule')}, or drop ${option(name)}.`,
        );
      }
    }
  }
  return problems;
}
