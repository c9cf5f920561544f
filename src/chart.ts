import { Chart } from 'cdk8s';
import { Construct } from 'constructs';
import { type EcrCredentialsConfig, noProxyList, proxyPort } from './config.js';
import { AwsCredentialsSecretTemplate } from './constructs/aws-credentials-secret-template.js';
import { EgressNetworkPolicy } from './constructs/egress-network-policy.js';
import { type GitOpsTool, InitialRefreshJob } from './constructs/initial-refresh-job.js';
import { PART_OF, REFRESH_POD_LABELS } from './constructs/labels.js';
import { NamespaceWatcherDeployment } from './constructs/namespace-watcher-deployment.js';
import { RefreshAlertRule } from './constructs/refresh-alert-rule.js';
import { RefreshCronJob } from './constructs/refresh-cron-job.js';
import type { RefreshPodProps } from './constructs/refresh-pod-template.js';
import { RefreshScriptConfigMap, type RefreshScripts } from './constructs/refresh-script-config-map.js';
import { UpdaterNamespace } from './constructs/updater-namespace.js';
import { UpdaterRbac } from './constructs/updater-rbac.js';
import { UpdaterServiceAccount } from './constructs/updater-service-account.js';

export interface EcrCredentialsChartProps {
  /** Validated settings. @default - required */
  readonly config: EcrCredentialsConfig;
  /** The refresh script files by name. @default - required */
  readonly scripts: RefreshScripts;
}

/**
 * Everything `kubectl apply -f dist` installs. Construct ids are the bundle's file layout (see
 * bundle.ts). No side effects: the entry point and the tests build the same chart.
 */
export class EcrCredentialsChart extends Chart {
  constructor(scope: Construct, id: string, props: EcrCredentialsChartProps) {
    // Namespaces are set per object: a chart namespace would be stamped on cluster-scoped ones too.
    super(scope, id, { disableResourceNameHashes: true });
    const { config, scripts } = props;
    const namespace = new UpdaterNamespace(this, 'Namespace', { name: config.namespace }).name;
    const serviceAccount = new UpdaterServiceAccount(this, 'ServiceAccount', {
      namespace,
      name: config.serviceAccount,
    });
    new UpdaterRbac(this, 'Rbac', {
      name: config.serviceAccount,
      serviceAccountNamespace: namespace,
      serviceAccountName: serviceAccount.name,
      secretName: config.secretName,
      watchNamespaces: config.watchNamespaces,
      patchServiceAccounts: config.patchServiceAccounts,
    });
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
    const scriptConfigMap = new RefreshScriptConfigMap(this, 'RefreshScript', { namespace, scripts });
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
      ...(config.httpsProxy === '' ? {} : { proxy: { url: config.httpsProxy, noProxy: noProxyList(config) } }),
      awsEndpoints: { ecr: config.awsEndpointUrlEcr, sts: config.awsEndpointUrlSts, fips: config.fips },
      resources: config,
    };
    new RefreshCronJob(this, 'CronJob', { ...pod, namespace, schedule: config.schedule });
    if (config.watchNamespaces) {
      new NamespaceWatcherDeployment(this, 'NamespaceWatcher', { ...pod, namespace });
    }
    if (config.prometheusRule) {
      new RefreshAlertRule(this, 'AlertRule', { namespace, schedule: config.schedule });
    }
    if (config.initialJob) {
      // Validated by resolveConfig.
      const gitops = config.gitops as GitOpsTool;
      new InitialRefreshJob(this, 'InitialJob', { ...pod, namespace, scripts, gitops });
    }
  }
}

export interface AwsCredentialsTemplateChartProps {
  /** Validated settings. @default - required */
  readonly config: EcrCredentialsConfig;
}

/** The credentials Secret template: a chart of its own so it can never end up in the applied set. */
export class AwsCredentialsTemplateChart extends Chart {
  constructor(scope: Construct, id: string, props: AwsCredentialsTemplateChartProps) {
    super(scope, id, { disableResourceNameHashes: true });
    new AwsCredentialsSecretTemplate(this, 'AwsCredentials', {
      namespace: props.config.namespace,
      name: props.config.awsSecretName,
      region: props.config.region,
    });
  }
}
