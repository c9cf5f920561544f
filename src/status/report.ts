/**
 * What `status` finds, and the shape of `--output json` (documented in README, "Troubleshooting";
 * `schemaVersion` changes when a field is removed or changes meaning). Times are ISO 8601 UTC
 * strings, absent values are `null`, never missing keys.
 */

/** How a part of the bundle or a namespace stands. Only `problem` makes the exit code 1. */
export type Severity = 'ok' | 'warning' | 'problem';

export interface CronJobReport {
  readonly name: string;
  readonly schedule: string;
  readonly suspended: boolean;
  readonly lastScheduleTime: string | null;
  readonly lastSuccessfulTime: string | null;
  /** The newest successful refresh: the CronJob's last success or a completed Job of the bundle. */
  readonly lastRefreshTime: string | null;
  /** A refresh counts as overdue this long after the last one (the PrometheusRule's threshold). */
  readonly overdueAfterMinutes: number;
  readonly severity: Severity;
  readonly detail: string;
}

/** The counts a RefreshIncomplete Event names ("N of M selected namespace(s) not refreshed: ..."). */
export interface RefreshIncompleteReport {
  /** Events on the Job (each may have repeated: the sum of their counts). */
  readonly events: number;
  readonly selected: number | null;
  readonly failed: number | null;
  readonly conflicted: number | null;
  readonly updated: number | null;
  readonly skipped: number | null;
  readonly message: string;
}

export interface JobReport {
  readonly name: string;
  readonly startTime: string | null;
  readonly completionTime: string | null;
  readonly result: 'succeeded' | 'failed' | 'running';
  /** The Job's Failed condition reason (BackoffLimitExceeded, PodFailurePolicy, DeadlineExceeded). */
  readonly reason: string | null;
  readonly refreshIncomplete: RefreshIncompleteReport | null;
  readonly severity: Severity;
  readonly detail: string;
}

export interface WatcherReport {
  readonly name: string;
  readonly replicas: number;
  readonly readyReplicas: number;
  readonly severity: Severity;
  readonly detail: string;
}

export interface ScriptsReport {
  readonly configMap: string;
  /** The version of the package running `status`. */
  readonly packageVersion: string;
  /** The bundle's `app.kubernetes.io/version` label, if it carries one. */
  readonly bundleVersion: string | null;
  /** Whether the ConfigMap holds exactly this package's refresh scripts. */
  readonly matchesPackage: boolean;
  /** Script files that differ, are missing from, or are extra in the ConfigMap. */
  readonly differingFiles: readonly string[];
  readonly severity: Severity;
  readonly detail: string;
}

export interface BundleReport {
  readonly namespace: string;
  readonly secretName: string;
  readonly cronJob: CronJobReport;
  readonly lastJob: JobReport | null;
  readonly watcher: WatcherReport | null;
  readonly scripts: ScriptsReport | null;
}

export type SecretState = 'fresh' | 'stale' | 'expired' | 'missing' | 'conflict';

export interface NamespaceReport {
  readonly namespace: string;
  readonly state: SecretState;
  readonly refreshedAt: string | null;
  readonly expiresAt: string | null;
  /** Registry hosts in the Secret's .dockerconfigjson (what the kubelet uses). */
  readonly registries: readonly string[];
  /** Field managers that own the Secret's .dockerconfigjson; ours is ecr-k8s-credentials. */
  readonly fieldManagers: readonly string[];
  /** ServiceAccounts of the namespace whose imagePullSecrets list the Secret. */
  readonly serviceAccounts: readonly string[];
  readonly severity: Severity;
  readonly detail: string;
}

/** Why a pod cannot pull from ECR, most specific first. */
export type PullCause =
  | 'namespace-not-targeted'
  | 'no-image-pull-secrets'
  | 'pod-older-than-service-account-patch'
  | 'secret-missing'
  | 'secret-foreign'
  | 'secret-expired'
  | 'registry-not-in-secret'
  | 'pull-refused';

export interface BlockedPodReport {
  readonly namespace: string;
  readonly pod: string;
  readonly serviceAccount: string;
  /** The controller that recreates the pod (a ReplicaSet is followed to its Deployment). */
  readonly owner: { readonly kind: string; readonly name: string } | null;
  /** The containers waiting on a pull: reason ErrImagePull or ImagePullBackOff, and the kubelet's message. */
  readonly containers: readonly {
    readonly name: string;
    readonly image: string;
    readonly reason: string;
    readonly message: string;
  }[];
  readonly cause: PullCause;
  readonly detail: string;
  /** The command(s) that fix it, to run in order. */
  readonly fix: readonly string[];
}

export interface StatusReport {
  readonly schemaVersion: 1;
  readonly checkedAt: string;
  /** 0: every target namespace fresh, nothing blocked; 1: something stale, expired or blocked. */
  readonly exitCode: 0 | 1;
  readonly summary: {
    readonly targetNamespaces: number;
    readonly fresh: number;
    readonly notFresh: number;
    readonly blockedPods: number;
    readonly problems: number;
    readonly warnings: number;
  };
  readonly bundle: BundleReport;
  readonly namespaces: readonly NamespaceReport[];
  readonly blockedPods: readonly BlockedPodReport[];
  /** One sentence per problem, in report order. */
  readonly problems: readonly string[];
}
