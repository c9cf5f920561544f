import { ApiObject, Chart, JsonPatch } from 'cdk8s';
import { Construct } from 'constructs';
import {
  argocdRepoCredsNames,
  ConfigError,
  injectionPolicyName,
  noProxyList,
  PROP_NAMING,
  proxyPort,
  resolveOptions,
} from '../config.js';
import { expectedType, OPTIONS, PROP_NAMES, type PropName, type RefreshOptions } from '../options.js';
import { cut, showJson } from '../quote.js';
import { readRefreshScripts } from '../refresh-scripts.js';
import { closest } from '../suggest.js';
import { ArgocdRepoCredsRbac } from './argocd-repo-creds-rbac.js';
import { EgressNetworkPolicy } from './egress-network-policy.js';
import { InitialRefreshJob } from './initial-refresh-job.js';
import { clusterScopedName, PART_OF, recommendedLabels, REFRESH_POD_LABELS } from './labels.js';
import { NamespaceWatcherDeployment } from './namespace-watcher-deployment.js';
import { PullSecretInjectionPolicy } from './pull-secret-injection-policy.js';
import { RefreshAlertRule } from './refresh-alert-rule.js';
import { RefreshCronJob } from './refresh-cron-job.js';
import type { RefreshPodProps } from './refresh-pod-template.js';
import { RefreshScriptConfigMap, type RefreshScripts } from './refresh-script-config-map.js';
import { UpdaterNamespace } from './updater-namespace.js';
import { UpdaterRbac } from './updater-rbac.js';
import { UpdaterServiceAccount } from './updater-service-account.js';

export interface EcrCredentialRefreshProps extends RefreshOptions {
  /**
   * The refresh script files by name (the entry script is refresh-ecr-credentials.sh), shipped in one ConfigMap.
   * @default - the scripts of this package, readRefreshScripts()
   */
  readonly scripts?: RefreshScripts;
}

/** The props with every default applied, as the objects were built from them. */
export type RefreshSettings = { readonly [K in keyof RefreshOptions]-?: NonNullable<RefreshOptions[K]> };

/** Kinds the construct renders that have no namespace: a chart's namespace must not be stamped on them. */
const CLUSTER_SCOPED: readonly string[] = [
  'Namespace',
  'ClusterRole',
  'ClusterRoleBinding',
  'MutatingAdmissionPolicy',
  'MutatingAdmissionPolicyBinding',
];

/**
 * Keeps a fresh ECR pull secret in every target namespace: the updater's Namespace,
 * ServiceAccount and least-privilege RBAC, its egress NetworkPolicy, the refresh script's
 * ConfigMap, the CronJob, the first-run Job and, if asked, the namespace watcher and a
 * PrometheusRule. The command renders exactly this construct; the props are its options.
 *
 * Invalid props throw one ConfigError before any object exists, listing every problem by prop
 * name. The AWS key Secret is not part of it: applying placeholders on every sync would
 * overwrite the real keys (see AwsCredentialsSecretTemplate).
 */
export class EcrCredentialRefresh extends Construct {
  /** The props with every default applied. */
  readonly settings: RefreshSettings;
  /** The refresh script files shipped in the ConfigMap, by name. */
  readonly scripts: RefreshScripts;

  constructor(scope: Construct, id: string, props: EcrCredentialRefreshProps = {}) {
    super(scope, id);
    const { scripts, ...options } = props;
    this.settings = resolveProps(options);
    checkNoOtherInstall(this);
    this.scripts = scripts ?? readRefreshScripts();

    const config = this.settings;
    const namespace = new UpdaterNamespace(this, 'Namespace', { name: config.namespace }).name;
    const serviceAccount = new UpdaterServiceAccount(this, 'ServiceAccount', {
      namespace,
      name: config.serviceAccount,
    });
    new UpdaterRbac(this, 'Rbac', {
      name: clusterScopedName(namespace),
      eventRoleName: `${config.serviceAccount}-events`,
      serviceAccountNamespace: namespace,
      serviceAccountName: serviceAccount.name,
      secretName: config.secretName,
      watchNamespaces: config.watchNamespaces,
      patchServiceAccounts: config.patchServiceAccounts,
    });
    if (config.argocdRepoCreds !== '') {
      new ArgocdRepoCredsRbac(this, 'ArgocdRepoCredsRbac', {
        // Argo CD's namespace is shared by every install: the name is the install's, as the ClusterRole's.
        name: `${clusterScopedName(namespace)}-argocd-repo-creds`,
        namespace: config.argocdRepoCreds,
        serviceAccountNamespace: namespace,
        serviceAccountName: serviceAccount.name,
        secretNames: argocdRepoCredsNames(config.secretName, config.registry.length),
      });
    }
    if (config.networkPolicy) {
      new EgressNetworkPolicy(this, 'NetworkPolicy', {
        namespace,
        // Every pod of the bundle: the refresh and, with --watch-namespaces, the watcher.
        podLabels: config.watchNamespaces ? PART_OF : REFRESH_POD_LABELS,
        apiServerCidrs: config.apiServerCidr,
        apiServerPort: config.apiServerPort,
        egressCidrs: config.egressCidr,
        proxyPort: config.httpsProxy === '' ? undefined : proxyPort(config.httpsProxy),
      });
    }
    const scriptConfigMap = new RefreshScriptConfigMap(this, 'RefreshScript', { namespace, scripts: this.scripts });
    const pod: RefreshPodProps = {
      image: config.image,
      serviceAccountName: serviceAccount.name,
      auth:
        config.auth === 'web-identity'
          ? { kind: 'web-identity', roleArn: config.roleArn, audience: config.tokenAudience, region: config.region }
          : { kind: 'keys', awsSecretName: config.awsSecretName },
      scriptConfigMapName: scriptConfigMap.name,
      pullSecretName: config.secretName,
      registries: config.registry,
      targetNamespaces: config.targetNamespaces,
      excludeNamespaces: config.excludeNamespaces,
      namespaceSelector: config.namespaceSelector,
      adoptExistingSecrets: config.adoptExistingSecrets,
      patchServiceAccounts: config.patchServiceAccounts,
      argocdNamespace: config.argocdRepoCreds,
      ecrPublic: config.ecrPublic,
      tenants: config.tenant,
      tenantsOnly: config.tenantsOnly,
      ...(config.httpsProxy === '' ? {} : { proxy: { url: config.httpsProxy, noProxy: noProxyList(config) } }),
      awsEndpoints: { ecr: config.awsEndpointUrlEcr, sts: config.awsEndpointUrlSts, fips: config.fips },
      resources: config,
      labels: recommendedLabels({
        name: REFRESH_POD_LABELS['app.kubernetes.io/name'],
        instance: namespace,
        component: 'refresh',
      }),
    };
    new RefreshCronJob(this, 'CronJob', { ...pod, namespace, schedule: config.schedule });
    if (config.watchNamespaces) {
      new NamespaceWatcherDeployment(this, 'NamespaceWatcher', { ...pod, namespace, scripts: this.scripts });
    }
    if (config.injectPullSecret) {
      new PullSecretInjectionPolicy(this, 'PullSecretInjection', {
        name: injectionPolicyName(namespace),
        secretName: config.secretName,
        updaterNamespace: namespace,
        region: config.region,
        fips: config.fips,
        // With web identity the own registry is the role's account; with keys only the run knows it.
        ownAccount: config.auth === 'web-identity' ? config.roleArn.split(':')[4] : undefined,
        registries: config.registry,
        ecrPublic: config.ecrPublic,
        targetNamespaces: config.targetNamespaces,
        excludeNamespaces: config.excludeNamespaces,
        namespaceSelector: config.namespaceSelector,
      });
    }
    if (config.prometheusRule) {
      new RefreshAlertRule(this, 'AlertRule', {
        namespace,
        schedule: config.schedule,
        labels: Object.fromEntries(config.prometheusRuleLabels.map((entry) => splitOnce(entry, '='))),
        ...(config.prometheusRuleRunbookUrl === '' ? {} : { runbookUrl: config.prometheusRuleRunbookUrl }),
      });
    }
    if (config.initialJob) {
      new InitialRefreshJob(this, 'InitialJob', { ...pod, namespace, scripts: this.scripts, gitops: config.gitops });
    }
    labelObjects(this, namespace);
    keepOutOfChartNamespace(this);
  }
}

function splitOnce(text: string, separator: string): [string, string] {
  const at = text.indexOf(separator);
  return [text.slice(0, at), text.slice(at + separator.length)];
}

/** What each child is to the install, its `app.kubernetes.io/component`; by construct id. */
const COMPONENTS: Readonly<Record<string, string>> = {
  Namespace: 'namespace',
  ServiceAccount: 'rbac',
  Rbac: 'rbac',
  ArgocdRepoCredsRbac: 'rbac',
  PullSecretInjection: 'admission',
  NetworkPolicy: 'network-policy',
  RefreshScript: 'script',
  CronJob: 'refresh',
  InitialJob: 'refresh',
  NamespaceWatcher: 'watcher',
  AlertRule: 'alerting',
};

/** Kubernetes' recommended labels on every object; the watcher's name is its own, as its pods'. */
function labelObjects(refresh: Construct, namespace: string): void {
  for (const child of refresh.node.children) {
    const labels = recommendedLabels({
      name: child.node.id === 'NamespaceWatcher' ? NamespaceWatcherDeployment.NAME : RefreshCronJob.NAME,
      instance: namespace,
      component: COMPONENTS[child.node.id] ?? child.node.id.toLowerCase(),
    });
    for (const object of child.node.findAll().filter((construct) => ApiObject.isApiObject(construct))) {
      for (const [key, value] of Object.entries(labels)) object.metadata.addLabel(key, value);
    }
  }
}

/**
 * Two installs in one chart would render objects of the same names (every name derives from
 * the namespace); applied, the second would silently take over the first's.
 */
function checkNoOtherInstall(refresh: EcrCredentialRefresh): void {
  const chart = Chart.of(refresh);
  const other = chart.node
    .findAll()
    .find(
      (construct): construct is EcrCredentialRefresh =>
        construct instanceof EcrCredentialRefresh &&
        construct !== refresh &&
        construct.settings.namespace === refresh.settings.namespace,
    );
  if (other === undefined) return;
  const namespace = refresh.settings.namespace;
  throw new ConfigError([
    `namespace "${namespace}" is already the namespace of the EcrCredentialRefresh at "${other.node.path}" in this ` +
      `chart. Every object of an install is named after its namespace (the ClusterRole and ClusterRoleBinding are ` +
      `"${clusterScopedName(namespace)}"), so the second would overwrite the first. Give each install a namespace ` +
      `of its own, e.g. "${namespace.slice(0, 61)}-2".`,
  ]);
}

/** cdk8s stamps a chart's namespace on every object without one, cluster-scoped or not. */
function keepOutOfChartNamespace(scope: Construct): void {
  if (Chart.of(scope).namespace === undefined) return;
  for (const object of scope.node.findAll()) {
    if (ApiObject.isApiObject(object) && CLUSTER_SCOPED.includes(object.kind)) {
      object.addJsonPatch(JsonPatch.remove('/metadata/namespace'));
    }
  }
}

const CONSTRUCT_ONLY_PROPS: readonly string[] = ['scripts'];

/**
 * The same rules as the command, each message naming the prop. Types and names are checked at
 * run time too: a JavaScript caller's misspelt prop must not silently fall back to a default.
 */
function resolveProps(options: RefreshOptions): RefreshSettings {
  const problems: string[] = [];
  for (const [key, value] of Object.entries(options)) {
    if (value === undefined) continue;
    if (!(PROP_NAMES as readonly string[]).includes(key)) {
      const guess = closest(key, [...PROP_NAMES, ...CONSTRUCT_ONLY_PROPS]);
      problems.push(`${cut(key)} is not a prop of EcrCredentialRefresh.${guess ? ` Did you mean ${guess}?` : ''}`);
      continue;
    }
    const expected = expectedType(key as PropName, value);
    if (expected) problems.push(`${key} is ${showJson(value)}; it must be ${expected}.`);
  }
  if (problems.length > 0) throw new ConfigError(problems);
  const given = Object.fromEntries(
    PROP_NAMES.map((name) => [
      name,
      OPTIONS[name].type === 'list' && typeof options[name] === 'string' ? [options[name]] : options[name],
    ]),
  ) as RefreshOptions;
  const config = resolveOptions(given, PROP_NAMING);
  return Object.fromEntries(PROP_NAMES.map((name) => [name, config[name]])) as unknown as RefreshSettings;
}
