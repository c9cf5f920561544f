import { packageVersion } from '../package-info.js';

/** What every pod of the bundle carries; the NetworkPolicy selects it when the watcher runs too. */
export const PART_OF = { 'app.kubernetes.io/part-of': 'ecr-k8s-credentials' } as const;

/** The refresh pods' selector labels (NetworkPolicy); kept as they were so selectors never change. */
export const REFRESH_POD_LABELS = {
  'app.kubernetes.io/name': 'ecr-credential-refresh',
  'app.kubernetes.io/component': 'refresh',
  ...PART_OF,
} as const;

/**
 * Kubernetes' recommended labels
 * (https://kubernetes.io/docs/concepts/overview/working-with-objects/common-labels/). The install
 * is its namespace: two installs in one cluster differ in `instance`.
 */
export function recommendedLabels(props: {
  /** The application: the refresh, or the watcher for its Deployment. */
  readonly name: string;
  /** The install: its namespace. */
  readonly instance: string;
  /** What the object is to the install: refresh, watcher, rbac, script... */
  readonly component: string;
}): Record<string, string> {
  return {
    'app.kubernetes.io/name': props.name,
    'app.kubernetes.io/instance': props.instance,
    'app.kubernetes.io/component': props.component,
    'app.kubernetes.io/version': packageVersion(),
    'app.kubernetes.io/managed-by': 'ecr-k8s-credentials',
    ...PART_OF,
  };
}

/**
 * Name of a cluster-scoped object of the install in `namespace`. Cluster-scoped names are shared
 * by every install in the cluster: derived from the install's namespace, two installs never
 * overwrite each other's objects. RBAC names may be any path segment; this stays a DNS subdomain.
 */
export function clusterScopedName(namespace: string): string {
  return `ecr-k8s-credentials-${namespace}`;
}
