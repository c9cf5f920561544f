import { type PackageScripts, diagnoseBundle } from './diagnose-bundle.js';
import { diagnoseNamespace } from './diagnose-namespaces.js';
import { diagnosePod } from './diagnose-pods.js';
import type { ClusterState, Secret, ServiceAccount } from './kube-objects.js';
import { exclusionReason, runSettings } from './refresh-settings.js';
import type { BlockedPodReport, StatusReport } from './report.js';

export type { PackageScripts } from './diagnose-bundle.js';

function byNamespace<T extends { metadata: { namespace?: string } }>(items: readonly T[]): Map<string, T[]> {
  const map = new Map<string, T[]>();
  for (const item of items) {
    const ns = item.metadata.namespace ?? '';
    const list = map.get(ns);
    if (list) list.push(item);
    else map.set(ns, [item]);
  }
  return map;
}

/**
 * The whole verdict, a pure function of what was read and the clock: the bundle, each target
 * namespace's Secret, and each pod that cannot pull from ECR with its cause and fix.
 */
export function diagnose(state: ClusterState, installed: PackageScripts, now: number): StatusReport {
  const settings = runSettings(state.cronJob);
  const bundle = diagnoseBundle(state, settings, installed, now);
  const overdue = bundle.cronJob.overdueAfterMinutes;
  const secrets = new Map<string, Secret>(
    state.secrets
      .filter((secret) => secret.metadata.name === settings.secretName)
      .map((secret) => [secret.metadata.namespace ?? '', secret]),
  );
  const accounts = byNamespace<ServiceAccount>(state.serviceAccounts);
  const listed = new Map(state.namespaces.map((namespace) => [namespace.metadata.name, namespace]));
  const targets = state.namespaces
    .filter((namespace) => exclusionReason(namespace, settings) === null)
    .map((namespace) => namespace.metadata.name)
    .sort();

  const namespaces = targets.map((ns) =>
    diagnoseNamespace(ns, secrets.get(ns), accounts.get(ns) ?? [], settings.secretName, overdue, now),
  );

  const blockedPods = state.pods
    .map((pod) => {
      const ns = pod.metadata.namespace ?? 'default';
      const namespace = listed.get(ns);
      const exclusion =
        namespace === undefined
          ? `not matched by ECR_NAMESPACE_SELECTOR (${settings.namespaceSelector || 'none'})`
          : exclusionReason(namespace, settings);
      return diagnosePod(pod, {
        secretName: settings.secretName,
        bundleNamespace: state.bundleNamespace,
        cronJobName: state.cronJob.metadata.name,
        overdueAfterMinutes: overdue,
        configuredRegistries: settings.registries,
        exclusion,
        secret: secrets.get(ns),
        serviceAccount: accounts
          .get(ns)
          ?.find((account) => account.metadata.name === (pod.spec.serviceAccountName ?? 'default')),
        now,
      });
    })
    .filter((report): report is BlockedPodReport => report !== null)
    .sort((a, b) => a.namespace.localeCompare(b.namespace) || a.pod.localeCompare(b.pod));

  const parts = [
    { label: `CronJob ${bundle.cronJob.name}`, part: bundle.cronJob },
    ...(bundle.lastJob ? [{ label: `Job ${bundle.lastJob.name}`, part: bundle.lastJob }] : []),
    ...(bundle.watcher ? [{ label: `Deployment ${bundle.watcher.name}`, part: bundle.watcher }] : []),
    ...(bundle.scripts ? [{ label: `ConfigMap ${bundle.scripts.configMap}`, part: bundle.scripts }] : []),
  ];
  const problems = [
    ...parts.filter(({ part }) => part.severity === 'problem').map(({ label, part }) => `${label}: ${part.detail}`),
    ...namespaces
      .filter((row) => row.severity === 'problem')
      .map((row) => `namespace ${row.namespace}: Secret ${settings.secretName} ${row.detail}`),
    ...blockedPods.map((pod) => `pod ${pod.namespace}/${pod.pod} cannot pull (${pod.cause}): ${pod.detail}`),
  ];
  const warnings = parts.filter(({ part }) => part.severity === 'warning').length;
  const fresh = namespaces.filter((row) => row.state === 'fresh').length;
  return {
    schemaVersion: 1,
    checkedAt: new Date(now).toISOString().replace(/\.\d{3}Z$/, 'Z'),
    exitCode: problems.length === 0 ? 0 : 1,
    summary: {
      targetNamespaces: namespaces.length,
      fresh,
      notFresh: namespaces.length - fresh,
      blockedPods: blockedPods.length,
      problems: problems.length,
      warnings,
    },
    bundle,
    namespaces,
    blockedPods,
    problems,
  };
}
