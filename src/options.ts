/**
 * Every user-facing option, in one table: yargs builds the CLI from it, the config-file loader
 * checks keys against it, the construct's props are its fields, and the README's option table
 * is written from the same names. A config file uses the flag names as keys (`schedule:`,
 * `registry: [...]`, `network-policy: false`).
 */

import type { GitOpsTool } from './constructs/initial-refresh-job.js';

/** Where the refresh gets AWS credentials (`auth`). */
export type AuthMode = 'keys' | 'web-identity';

// Adding an option: a documented field here and its row in OPTIONS below (the compiler insists
// on both), its default in DEFAULTS (config.ts), its README row. test/options.test.ts checks
// that the field's @default is its row's defaultText (flags named as props), and the public API
// snapshot of test/pack changes with it (`npm run test:pack -- -u` after review).

/**
 * The refresher's settings. They are the props of the EcrCredentialRefresh construct and, in
 * kebab-case, the command's flags and config-file keys (`targetNamespaces` is
 * `--target-namespaces`). Every field is optional; `@default` is what an absent one means.
 */
export interface RefreshOptions {
  /**
   * Namespace the updater runs in; the construct creates it and labels it to enforce Pod Security "restricted".
   * @default ecr-updater
   */
  readonly namespace?: string;
  /**
   * ServiceAccount the updater runs as; also names its Role for Events.
   * @default ecr-credential-updater
   */
  readonly serviceAccount?: string;
  /**
   * Name of the kubernetes.io/dockerconfigjson pull secret kept fresh in each target namespace.
   * @default ecr-registry-credentials
   */
  readonly secretName?: string;
  /**
   * Secret in the updater namespace holding AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY and AWS_REGION (auth "keys" only).
   * @default aws-ecr-credentials
   */
  readonly awsSecretName?: string;
  /**
   * Where AWS credentials come from: "keys" (an IAM user's key in awsSecretName) or "web-identity" (the ServiceAccount token exchanged for roleArn).
   * @default keys
   */
  readonly auth?: AuthMode;
  /**
   * IAM role the ServiceAccount token is exchanged for; required with auth "web-identity".
   * @default - none
   */
  readonly roleArn?: string;
  /**
   * Audience of the projected ServiceAccount token (auth "web-identity"); the IAM OIDC provider must list it.
   * @default sts.amazonaws.com
   */
  readonly tokenAudience?: string;
  /**
   * Cron schedule (UTC) of the refresh; rejected if two runs can be 12h or more apart, as ECR tokens expire after 12h.
   * @default 0 *\/6 * * *
   */
  readonly schedule?: string;
  /**
   * Image with busybox sh, kubectl, the aws CLI and jq; it needs a tag or digest ("latest" alone is refused); pin it by digest in production.
   * @default alpine/k8s:1.30.7
   */
  readonly image?: string;
  /**
   * AWS region of the own registry: in the credentials Secret template (auth "keys") or AWS_REGION of the pod (auth "web-identity").
   * @default us-east-1
   */
  readonly region?: string;
  /**
   * Namespaces (names or globs such as "team-*") that get the pull secret.
   * @default - all namespaces
   */
  readonly targetNamespaces?: readonly string[];
  /**
   * Namespace globs that never get the pull secret, e.g. "kube-*".
   * @default - none
   */
  readonly excludeNamespaces?: readonly string[];
  /**
   * Label selector target namespaces must match, e.g. "ecr-pull=enabled".
   * @default - none
   */
  readonly namespaceSelector?: string;
  /**
   * Extra ECR registry hosts (ACCOUNT.dkr.ecr.REGION.amazonaws.com); "HOST=ROLE_ARN" gets that registry's token by assuming the role. The credentials' own registry in region is always included.
   * @default - none
   */
  readonly registry?: readonly string[];
  /**
   * CIDRs of the Kubernetes API server endpoints, to narrow the NetworkPolicy's egress rule.
   * @default - any address
   */
  readonly apiServerCidr?: readonly string[];
  /**
   * Port of the API server endpoints (behind the kubernetes Service) the NetworkPolicy allows.
   * @default 6443
   */
  readonly apiServerPort?: number;
  /**
   * Proxy for the AWS calls, "http://HOST:PORT", set as HTTPS_PROXY and HTTP_PROXY (both cases) on the pod.
   * @default - none
   */
  readonly httpsProxy?: string;
  /**
   * Hosts, domains and CIDRs that bypass httpsProxy (NO_PROXY); the API server address is always added at run time.
   * @default .svc,.cluster.local,localhost,127.0.0.1,169.254.169.254 and apiServerCidr
   */
  readonly noProxy?: readonly string[];
  /**
   * CIDRs the NetworkPolicy allows on 443 (and the proxy port), e.g. the proxy or VPC endpoints.
   * @default - any address
   */
  readonly egressCidr?: readonly string[];
  /**
   * ECR API endpoint, e.g. a VPC interface endpoint (AWS_ENDPOINT_URL_ECR).
   * @default - the public regional endpoint
   */
  readonly awsEndpointUrlEcr?: string;
  /**
   * STS endpoint, e.g. a VPC interface endpoint (AWS_ENDPOINT_URL_STS).
   * @default - the public regional endpoint
   */
  readonly awsEndpointUrlSts?: string;
  /**
   * Use FIPS endpoints (AWS_USE_FIPS_ENDPOINT) and the own registry's dkr.ecr-fips host.
   * @default false
   */
  readonly fips?: boolean;
  /**
   * Add public.ecr.aws to every pull secret, with a token from ECR Public (us-east-1, the aws partition only).
   * @default false
   */
  readonly ecrPublic?: boolean;
  /**
   * Render the egress NetworkPolicy.
   * @default true
   */
  readonly networkPolicy?: boolean;
  /**
   * Render a Job that refreshes once right after apply.
   * @default true
   */
  readonly initialJob?: boolean;
  /**
   * Take over same-named pull secrets written by another tool instead of reporting a conflict.
   * @default false
   */
  readonly adoptExistingSecrets?: boolean;
  /**
   * Render the namespace watcher, a Deployment that writes the pull secret into new namespaces within seconds.
   * @default false
   */
  readonly watchNamespaces?: boolean;
  /**
   * ServiceAccounts (e.g. "default") that list the pull secret in imagePullSecrets in every target namespace.
   * @default - none
   */
  readonly patchServiceAccounts?: readonly string[];
  /**
   * Render a MutatingAdmissionPolicy (Kubernetes 1.36+) by which the API server adds the pull secret to imagePullSecrets of every Pod created in a target namespace that pulls from the registries.
   * @default false
   */
  readonly injectPullSecret?: boolean;
  /**
   * Argo CD's namespace (e.g. "argocd"): it gets repo-creds Secrets for Helm OCI charts and OCI sources from each registry.
   * @default - none
   */
  readonly argocdRepoCreds?: string;
  /**
   * Tenants, each "MATCH=ROLE_ARN": the namespaces MATCH selects get a Secret whose tokens that role mints, assumed from the base credentials; the first match wins. MATCH is a namespace glob ("team-a-*") or, when it holds "=", "(" or "," or starts with "!", a label selector ("team=a").
   * @default - none
   */
  readonly tenant?: readonly string[];
  /**
   * With tenant: namespaces no tenant matches get no Secret, instead of the base credentials' one.
   * @default false
   */
  readonly tenantsOnly?: boolean;
  /**
   * CPU request of the refresh container and of the watcher's.
   * @default 50m
   */
  readonly cpuRequest?: string;
  /**
   * CPU limit of the refresh container and of the watcher's.
   * @default 100m
   */
  readonly cpuLimit?: string;
  /**
   * Memory request of the refresh container and of the watcher's.
   * @default 32Mi
   */
  readonly memoryRequest?: string;
  /**
   * Memory limit of the refresh container and of the watcher's.
   * @default 128Mi
   */
  readonly memoryLimit?: string;
  /**
   * GitOps tool that syncs the objects: "argocd" (the first-run Job is a PostSync hook), "flux" (kustomize-controller recreates it when an overlay changes it) or "none".
   * @default none
   */
  readonly gitops?: GitOpsTool;
  /**
   * Render a PrometheusRule (prometheus-operator, kube-state-metrics series) that alerts when the refresh has not succeeded for longer than the schedule allows, or a refresh Job failed.
   * @default false
   */
  readonly prometheusRule?: boolean;
  /**
   * Labels (KEY=VALUE) of the PrometheusRule, for the ruleSelector of the Prometheus that should load it, e.g. "release=kube-prometheus-stack".
   * @default - none
   */
  readonly prometheusRuleLabels?: readonly string[];
  /**
   * Link to your runbook for the two alerts, their runbook_url annotation (an http(s) URL).
   * @default - no runbook_url
   */
  readonly prometheusRuleRunbookUrl?: string;
}

/** On the command line and in a config file a choice (auth, gitops) is any string until it is checked. */
type Unchecked<T> = { readonly [K in keyof T]: T[K] extends string | undefined ? string : T[K] };

/** Options as given on the command line or in a config file, before defaults and validation. */
export interface RawOptions extends Unchecked<RefreshOptions> {
  /**
   * Directory the command writes the bundle to (the command only).
   * @default dist
   */
  readonly outDir?: string;
}

export type OptionName = keyof RawOptions;

export interface OptionSpec {
  /** The flag without its dashes; also the key in a config file. */
  readonly flag: string;
  /** `list` options take several values: repeat the flag or separate values with commas. */
  readonly type: 'string' | 'list' | 'boolean' | 'number';
  /** A list whose values may hold commas themselves (label selectors) is given by repeating the flag only. */
  readonly commas?: 'keep';
  readonly describe: string;
  /** Default as shown in --help and README. */
  readonly defaultText: string;
}

export const OPTIONS: { readonly [K in OptionName]-?: OptionSpec } = {
  outDir: {
    flag: 'out-dir',
    type: 'string',
    describe:
      'Directory of the bundle alone: new, empty, or written by this command before (it replaces or removes only the files it listed there)',
    defaultText: 'dist',
  },
  namespace: {
    flag: 'namespace',
    type: 'string',
    describe: 'Namespace the updater runs in (created by the bundle)',
    defaultText: 'ecr-updater',
  },
  serviceAccount: {
    flag: 'service-account',
    type: 'string',
    describe:
      'ServiceAccount the updater runs as (the ClusterRole and binding are named ecr-k8s-credentials-<namespace>)',
    defaultText: 'ecr-credential-updater',
  },
  secretName: {
    flag: 'secret-name',
    type: 'string',
    describe: 'Name of the kubernetes.io/dockerconfigjson pull secret kept fresh in each namespace',
    defaultText: 'ecr-registry-credentials',
  },
  awsSecretName: {
    flag: 'aws-secret-name',
    type: 'string',
    describe:
      'Secret in the updater namespace holding AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_REGION (--auth keys)',
    defaultText: 'aws-ecr-credentials',
  },
  auth: {
    flag: 'auth',
    type: 'string',
    describe:
      'Where AWS credentials come from: "keys" (an IAM user key in --aws-secret-name) or "web-identity" (the ServiceAccount token exchanged for --role-arn; no key in the cluster)',
    defaultText: 'keys',
  },
  roleArn: {
    flag: 'role-arn',
    type: 'string',
    describe: 'IAM role the ServiceAccount token is exchanged for (required with --auth web-identity)',
    defaultText: '- none',
  },
  tokenAudience: {
    flag: 'token-audience',
    type: 'string',
    describe:
      'Audience of the projected ServiceAccount token (--auth web-identity); the IAM OIDC provider must list it',
    defaultText: 'sts.amazonaws.com',
  },
  schedule: {
    flag: 'schedule',
    type: 'string',
    describe: 'Cron schedule of the refresh; the longest gap between runs must stay under 12h',
    defaultText: '0 */6 * * *',
  },
  image: {
    flag: 'image',
    type: 'string',
    describe:
      'Image with busybox sh, kubectl, aws CLI and jq; a tag or digest is required, :latest alone is refused (pin by digest in production: IMAGE:TAG@sha256:DIGEST)',
    defaultText: 'alpine/k8s:1.30.7',
  },
  region: {
    flag: 'region',
    type: 'string',
    describe:
      'AWS region of the own registry: written into the credentials Secret template (--auth keys) or set on the pod (--auth web-identity)',
    defaultText: 'us-east-1',
  },
  targetNamespaces: {
    flag: 'target-namespaces',
    type: 'list',
    describe: 'Namespaces (names or globs) that get the pull secret',
    defaultText: '- all namespaces',
  },
  excludeNamespaces: {
    flag: 'exclude-namespaces',
    type: 'list',
    describe: 'Namespace globs that never get the pull secret',
    defaultText: '- none',
  },
  namespaceSelector: {
    flag: 'namespace-selector',
    type: 'string',
    describe: 'Label selector namespaces must match, e.g. "ecr-pull=enabled"',
    defaultText: '- none',
  },
  registry: {
    flag: 'registry',
    type: 'list',
    describe:
      "Extra ECR registry host (ACCOUNT.dkr.ecr.REGION.amazonaws.com); HOST=ROLE_ARN gets its token by assuming that role. The credentials' own account in --region is always included",
    defaultText: '- none',
  },
  apiServerCidr: {
    flag: 'api-server-cidr',
    type: 'list',
    describe: 'CIDR(s) of the Kubernetes API server endpoints, to narrow the NetworkPolicy egress rule',
    defaultText: '- any address',
  },
  apiServerPort: {
    flag: 'api-server-port',
    type: 'number',
    describe: 'Port of the API server endpoints (behind the kubernetes Service) allowed by the NetworkPolicy',
    defaultText: '6443',
  },
  httpsProxy: {
    flag: 'https-proxy',
    type: 'string',
    describe:
      'Proxy for the AWS calls, http://HOST:PORT; set as HTTPS_PROXY/HTTP_PROXY (both cases) for the aws CLI, kubectl and curl',
    defaultText: '- none',
  },
  noProxy: {
    flag: 'no-proxy',
    type: 'list',
    describe:
      'Hosts, domains and CIDRs that bypass --https-proxy (NO_PROXY); the API server address the pod is given is always added at run time',
    defaultText: '.svc,.cluster.local,localhost,127.0.0.1,169.254.169.254 and --api-server-cidr',
  },
  egressCidr: {
    flag: 'egress-cidr',
    type: 'list',
    describe: 'CIDR(s) the NetworkPolicy allows on 443 (and the proxy port), e.g. the proxy or VPC endpoints',
    defaultText: '- any address',
  },
  awsEndpointUrlEcr: {
    flag: 'aws-endpoint-url-ecr',
    type: 'string',
    describe: 'ECR API endpoint, e.g. a VPC interface endpoint (AWS_ENDPOINT_URL_ECR)',
    defaultText: '- the public regional endpoint',
  },
  awsEndpointUrlSts: {
    flag: 'aws-endpoint-url-sts',
    type: 'string',
    describe: 'STS endpoint, e.g. a VPC interface endpoint (AWS_ENDPOINT_URL_STS)',
    defaultText: '- the public regional endpoint',
  },
  fips: {
    flag: 'fips',
    type: 'boolean',
    describe: "Use FIPS endpoints (AWS_USE_FIPS_ENDPOINT) and the own registry's dkr.ecr-fips host",
    defaultText: 'false',
  },
  ecrPublic: {
    flag: 'ecr-public',
    type: 'boolean',
    describe:
      'Add public.ecr.aws to every pull secret, with a token from ECR Public GetAuthorizationToken in us-east-1 (needs ecr-public:GetAuthorizationToken and sts:GetServiceBearerToken; the aws partition only, no --fips)',
    defaultText: 'false',
  },
  networkPolicy: {
    flag: 'network-policy',
    type: 'boolean',
    describe: 'Render the egress NetworkPolicy',
    defaultText: 'true',
  },
  initialJob: {
    flag: 'initial-job',
    type: 'boolean',
    describe: 'Render a Job that refreshes once right after apply',
    defaultText: 'true',
  },
  adoptExistingSecrets: {
    flag: 'adopt-existing-secrets',
    type: 'boolean',
    describe:
      'Take over same-named pull secrets written by another tool (e.g. the Terraform module) instead of reporting a conflict',
    defaultText: 'false',
  },
  watchNamespaces: {
    flag: 'watch-namespaces',
    type: 'boolean',
    describe:
      'Render the namespace watcher: a Deployment that writes the pull secret into new namespaces within seconds (RBAC gains watch on namespaces)',
    defaultText: 'false',
  },
  patchServiceAccounts: {
    flag: 'patch-service-accounts',
    type: 'list',
    describe:
      'ServiceAccounts (e.g. "default") that list the pull secret in imagePullSecrets in every target namespace, so pods need no imagePullSecrets of their own',
    defaultText: '- none',
  },
  injectPullSecret: {
    flag: 'inject-pull-secret',
    type: 'boolean',
    describe:
      'Render a MutatingAdmissionPolicy (admissionregistration.k8s.io/v1, Kubernetes 1.36 or newer) by which the API server adds the pull secret to imagePullSecrets of every Pod created in a target namespace that pulls from the registries',
    defaultText: 'false',
  },
  argocdRepoCreds: {
    flag: 'argocd-repo-creds',
    type: 'string',
    describe:
      'Argo CD\'s namespace (e.g. "argocd"): the refresh also writes there, per registry, repo-creds Secrets that let Argo CD pull Helm OCI charts and OCI sources from ECR',
    defaultText: '- none',
  },
  tenant: {
    flag: 'tenant',
    type: 'list',
    commas: 'keep',
    describe:
      'Tenant MATCH=ROLE_ARN: namespaces MATCH selects get a Secret whose tokens that role mints (assumed from the base credentials); first match wins. MATCH is a namespace glob ("team-a-*") or, holding "=", "(" or "," or starting with "!", a label selector ("team=a")',
    defaultText: '- none',
  },
  tenantsOnly: {
    flag: 'tenants-only',
    type: 'boolean',
    describe: "With --tenant: namespaces no tenant matches get no Secret, not the base credentials' one",
    defaultText: 'false',
  },
  cpuRequest: {
    flag: 'cpu-request',
    type: 'string',
    describe: 'CPU request of the refresh container (and of the watcher)',
    defaultText: '50m',
  },
  cpuLimit: {
    flag: 'cpu-limit',
    type: 'string',
    describe: 'CPU limit of the refresh container (and of the watcher)',
    defaultText: '100m',
  },
  memoryRequest: {
    flag: 'memory-request',
    type: 'string',
    describe: 'Memory request of the refresh container (and of the watcher)',
    defaultText: '32Mi',
  },
  memoryLimit: {
    flag: 'memory-limit',
    type: 'string',
    describe: 'Memory limit of the refresh container (and of the watcher)',
    defaultText: '128Mi',
  },
  gitops: {
    flag: 'gitops',
    type: 'string',
    describe:
      'GitOps tool that syncs the bundle: "argocd" (the first-run Job is a PostSync hook), "flux" (kustomize-controller recreates it when an overlay changes it) or "none"',
    defaultText: 'none',
  },
  prometheusRule: {
    flag: 'prometheus-rule',
    type: 'boolean',
    describe:
      'Render a PrometheusRule (prometheus-operator, kube-state-metrics series) that alerts when the refresh has not succeeded for longer than the schedule allows, or a refresh Job failed',
    defaultText: 'false',
  },
  prometheusRuleLabels: {
    flag: 'prometheus-rule-labels',
    type: 'list',
    describe:
      'Label KEY=VALUE of the PrometheusRule, for the ruleSelector of the Prometheus that should load it (kube-prometheus-stack selects release=<its Helm release>)',
    defaultText: '- none',
  },
  prometheusRuleRunbookUrl: {
    flag: 'prometheus-rule-runbook-url',
    type: 'string',
    describe: 'Link to your runbook for the alerts (their runbook_url annotation, http(s))',
    defaultText: '- no runbook_url',
  },
};

export const OPTION_NAMES = Object.keys(OPTIONS) as OptionName[];

/** The construct's props among the options: every option but where the command writes. */
export type PropName = keyof RefreshOptions;

export const PROP_NAMES = OPTION_NAMES.filter((name): name is PropName => name !== 'outDir');

/**
 * Why a value given in a file or by a JavaScript caller cannot be the option's type, e.g. "true
 * or false"; undefined when it can. A list also takes one string.
 */
export function expectedType(name: OptionName, value: unknown): string | undefined {
  const { type } = OPTIONS[name];
  const ok =
    type === 'list'
      ? typeof value === 'string' || (Array.isArray(value) && value.every((item) => typeof item === 'string'))
      : typeof value === (type === 'number' ? 'number' : type);
  if (ok) return undefined;
  return { list: 'a list of strings', string: 'a string', boolean: 'true or false', number: 'a number' }[type];
}
