/**
 * The fields `status` reads from the API's JSON, and nothing more: each object as kubectl
 * prints it with `-o json`. Optional where the API server may leave a field out.
 */

export interface ManagedFieldsEntry {
  readonly manager?: string;
  readonly operation?: string;
  readonly time?: string;
  readonly fieldsV1?: Readonly<Record<string, unknown>>;
}

export interface ObjectMeta {
  readonly name: string;
  readonly namespace?: string;
  readonly uid?: string;
  readonly creationTimestamp?: string;
  readonly labels?: Readonly<Record<string, string>>;
  readonly annotations?: Readonly<Record<string, string>>;
  readonly ownerReferences?: readonly { readonly kind: string; readonly name: string; readonly controller?: boolean }[];
  readonly managedFields?: readonly ManagedFieldsEntry[];
}

export interface EnvVar {
  readonly name: string;
  readonly value?: string;
}

export interface Container {
  readonly name: string;
  readonly image?: string;
  readonly env?: readonly EnvVar[];
}

export interface LocalObjectReference {
  readonly name?: string;
}

export interface PodSpec {
  readonly serviceAccountName?: string;
  readonly imagePullSecrets?: readonly LocalObjectReference[];
  readonly containers: readonly Container[];
  readonly initContainers?: readonly Container[];
  readonly volumes?: readonly { readonly name: string; readonly configMap?: { readonly name?: string } }[];
}

export interface ContainerStatus {
  readonly name: string;
  readonly image?: string;
  readonly state?: { readonly waiting?: { readonly reason?: string; readonly message?: string } };
}

export interface Pod {
  readonly kind?: 'Pod';
  readonly metadata: ObjectMeta;
  readonly spec: PodSpec;
  readonly status?: {
    readonly phase?: string;
    readonly containerStatuses?: readonly ContainerStatus[];
    readonly initContainerStatuses?: readonly ContainerStatus[];
  };
}

export interface CronJob {
  readonly kind: 'CronJob';
  readonly metadata: ObjectMeta;
  readonly spec: {
    readonly schedule: string;
    readonly suspend?: boolean;
    readonly jobTemplate: { readonly spec: { readonly template: { readonly spec: PodSpec } } };
  };
  readonly status?: { readonly lastScheduleTime?: string; readonly lastSuccessfulTime?: string };
}

export interface JobCondition {
  readonly type: string;
  readonly status: string;
  readonly reason?: string;
  readonly message?: string;
}

export interface Job {
  readonly kind: 'Job';
  readonly metadata: ObjectMeta;
  readonly status?: {
    readonly startTime?: string;
    readonly completionTime?: string;
    readonly active?: number;
    readonly conditions?: readonly JobCondition[];
  };
}

export interface Deployment {
  readonly kind: 'Deployment';
  readonly metadata: ObjectMeta;
  readonly spec?: { readonly replicas?: number };
  readonly status?: { readonly replicas?: number; readonly readyReplicas?: number; readonly updatedReplicas?: number };
}

export interface ConfigMap {
  readonly kind: 'ConfigMap';
  readonly metadata: ObjectMeta;
  readonly data?: Readonly<Record<string, string>>;
}

export interface Event {
  readonly metadata: ObjectMeta;
  readonly reason?: string;
  readonly message?: string;
  readonly count?: number;
  readonly lastTimestamp?: string;
  readonly eventTime?: string;
  readonly involvedObject: { readonly kind?: string; readonly name?: string; readonly uid?: string };
}

export interface Namespace {
  readonly metadata: ObjectMeta;
  readonly status?: { readonly phase?: string };
}

export interface Secret {
  readonly metadata: ObjectMeta;
  readonly type?: string;
  readonly data?: Readonly<Record<string, string>>;
}

export interface ServiceAccount {
  readonly metadata: ObjectMeta;
  readonly imagePullSecrets?: readonly LocalObjectReference[];
}

/** Everything one status check reads; the diagnosis is a pure function of it and the clock. */
export interface ClusterState {
  /** The namespace the bundle was looked for in (`--namespace`). */
  readonly bundleNamespace: string;
  readonly cronJob: CronJob;
  readonly jobs: readonly Job[];
  readonly deployments: readonly Deployment[];
  readonly configMaps: readonly ConfigMap[];
  /** RefreshIncomplete Events in the bundle's namespace. */
  readonly events: readonly Event[];
  /** The namespaces the CronJob's label selector matches (all, without one). */
  readonly namespaces: readonly Namespace[];
  /** The pull Secrets, by the CronJob's ECR_SECRET_NAME, in every namespace. */
  readonly secrets: readonly Secret[];
  readonly serviceAccounts: readonly ServiceAccount[];
  /** Pods not yet finished (neither Succeeded nor Failed), in every namespace. */
  readonly pods: readonly Pod[];
}
