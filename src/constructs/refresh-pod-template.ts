import { type EnvVar, type PodTemplateSpec, Quantity, type Volume, type VolumeMount } from '../../imports/k8s.js';
import { REFRESH_POD_LABELS } from './labels.js';
import { RefreshScriptConfigMap } from './refresh-script-config-map.js';

/** Where the refresh gets its AWS credentials. */
export type RefreshAuth =
  | {
      /** An IAM user's key, read from a Secret in the updater namespace. */
      readonly kind: 'keys';
      /** Secret holding AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_REGION (and optionally AWS_ACCOUNT_ID). */
      readonly awsSecretName: string;
    }
  | {
      /** The pod's projected ServiceAccount token, exchanged by the aws CLI for role credentials. */
      readonly kind: 'web-identity';
      /** IAM role assumed with AssumeRoleWithWebIdentity. */
      readonly roleArn: string;
      /** Audience of the projected token; the IAM OIDC provider lists it as a client ID. */
      readonly audience: string;
      /** Region of the own registry. */
      readonly region: string;
    };

/** What the refresh pod needs; shared by the CronJob and the first-run Job. */
export interface RefreshPodProps {
  /** Image with busybox sh, kubectl, the aws CLI and jq. @default - required */
  readonly image: string;
  /** ServiceAccount the pod runs as. @default - required */
  readonly serviceAccountName: string;
  /** Where AWS credentials come from. @default - required */
  readonly auth: RefreshAuth;
  /** ConfigMap holding the refresh script. @default - required */
  readonly scriptConfigMapName: string;
  /** Name of the pull secret written into each namespace. @default - required */
  readonly pullSecretName: string;
  /** Extra registry hosts (`HOST` or `HOST=ROLE_ARN`) beyond the own account's registry. @default - none */
  readonly registries?: readonly string[];
  /** Namespace names or globs to write to. @default - all namespaces */
  readonly targetNamespaces?: readonly string[];
  /** Namespace globs never written to. @default - none */
  readonly excludeNamespaces?: readonly string[];
  /** Label selector target namespaces must match. @default - none */
  readonly namespaceSelector?: string;
  /** Take over same-named secrets owned by another field manager. @default false */
  readonly adoptExistingSecrets?: boolean;
  /** ServiceAccounts that get the pull secret appended to imagePullSecrets. @default - none */
  readonly patchServiceAccounts?: readonly string[];
  /** Add public.ecr.aws with a token from ECR Public to the pull secret. @default false */
  readonly ecrPublic?: boolean;
  /** Argo CD's namespace, which gets repo-creds Secrets. @default - none */
  readonly argocdNamespace?: string;
  /** Tenants, "MATCH=ROLE_ARN": the namespaces MATCH selects get that role's tokens. @default - none */
  readonly tenants?: readonly string[];
  /** Namespaces no tenant matches get no Secret. @default false */
  readonly tenantsOnly?: boolean;
  /** Proxy for the AWS calls and what bypasses it. @default - no proxy */
  readonly proxy?: { readonly url: string; readonly noProxy: readonly string[] };
  /** AWS endpoint overrides and FIPS. @default - public regional endpoints */
  readonly awsEndpoints?: { readonly ecr?: string; readonly sts?: string; readonly fips?: boolean };
  /** Labels of the pod beyond its selector labels (the recommended ones). @default - none */
  readonly labels?: Readonly<Record<string, string>>;
  /** CPU and memory requests and limits, as quantities. @default - required */
  readonly resources: {
    readonly cpuRequest: string;
    readonly cpuLimit: string;
    readonly memoryRequest: string;
    readonly memoryLimit: string;
  };
}

const SCRIPT_DIR = '/opt/ecr-credential-refresh';
const HOME = '/home/refresh';
/** `nobody`: alpine/k8s has no USER line and would otherwise run as root. */
const NON_ROOT_UID = 65534;

/** Where the projected token is mounted (web identity). */
const AWS_TOKEN_DIR = '/var/run/secrets/ecr-k8s-credentials/aws';
/** An hour, the longest a refresh Job may run being 15 minutes; the kubelet renews it earlier. */
const AWS_TOKEN_SECONDS = 3600;

function fromAwsSecret(name: string, secretName: string, optional = false): EnvVar {
  return { name, valueFrom: { secretKeyRef: { name: secretName, key: name, ...(optional ? { optional } : {}) } } };
}

function fieldEnv(name: string, fieldPath: string): EnvVar {
  return { name, valueFrom: { fieldRef: { fieldPath } } };
}

/** The credential part of the pod: environment, and in web-identity mode the token volume. */
function credentials(auth: RefreshAuth): { env: EnvVar[]; mounts: VolumeMount[]; volumes: Volume[] } {
  if (auth.kind === 'keys') {
    return {
      env: [
        fromAwsSecret('AWS_ACCESS_KEY_ID', auth.awsSecretName),
        fromAwsSecret('AWS_SECRET_ACCESS_KEY', auth.awsSecretName),
        fromAwsSecret('AWS_REGION', auth.awsSecretName),
        // Optional: without it the script asks STS for the account the keys belong to.
        fromAwsSecret('AWS_ACCOUNT_ID', auth.awsSecretName, true),
      ],
      mounts: [],
      volumes: [],
    };
  }
  return {
    // The aws CLI exchanges the token itself (AssumeRoleWithWebIdentity) whenever these two are
    // set, and re-reads the file, so the kubelet's renewals are picked up.
    env: [
      { name: 'AWS_ROLE_ARN', value: auth.roleArn },
      { name: 'AWS_WEB_IDENTITY_TOKEN_FILE', value: `${AWS_TOKEN_DIR}/token` },
      { name: 'AWS_ROLE_SESSION_NAME', value: 'ecr-k8s-credentials' },
      { name: 'AWS_REGION', value: auth.region },
      // The own registry is the role's account: no STS call needed to learn it.
      { name: 'AWS_ACCOUNT_ID', value: auth.roleArn.split(':')[4] ?? '' },
    ],
    mounts: [{ name: 'aws-token', mountPath: AWS_TOKEN_DIR, readOnly: true }],
    volumes: [
      {
        name: 'aws-token',
        projected: {
          sources: [
            { serviceAccountToken: { audience: auth.audience, expirationSeconds: AWS_TOKEN_SECONDS, path: 'token' } },
          ],
        },
      },
    ],
  };
}

/**
 * The hardened refresh pod (`job`: run by the CronJob or the first-run Job; `watch`: the
 * watcher's, which has no Job to report on): non-root, read-only root filesystem, no capabilities, RuntimeDefault
 * seccomp, so it is admitted under Pod Security "restricted". Settings reach the script only as
 * environment variables; nothing is interpolated into the script text.
 */
export function refreshPodTemplate(props: RefreshPodProps, mode: 'job' | 'watch' = 'job'): PodTemplateSpec {
  const setting = (name: string, value: string): EnvVar =>
    // An empty value is stored as no value; writing `value: ""` would make every client-side
    // apply report a change. The variable is still set, to the empty string.
    value === '' ? { name } : { name, value };
  const aws = credentials(props.auth);
  const env: EnvVar[] = [
    ...aws.env,
    // The CLI retries throttling and 5xx with exponential backoff in "standard" mode.
    { name: 'AWS_RETRY_MODE', value: 'standard' },
    { name: 'AWS_MAX_ATTEMPTS', value: '5' },
    // Outside EC2 the metadata endpoint does not exist; probing it only adds timeouts.
    { name: 'AWS_EC2_METADATA_DISABLED', value: 'true' },
    { name: 'HOME', value: HOME },
    { name: 'TMPDIR', value: '/tmp' },
    { name: 'ECR_SECRET_NAME', value: props.pullSecretName },
    setting('ECR_REGISTRIES', (props.registries ?? []).join(' ')),
    setting('ECR_TARGET_NAMESPACES', (props.targetNamespaces ?? []).join(' ')),
    setting('ECR_EXCLUDE_NAMESPACES', (props.excludeNamespaces ?? []).join(' ')),
    setting('ECR_NAMESPACE_SELECTOR', props.namespaceSelector ?? ''),
    setting('ECR_ADOPT_EXISTING', String(props.adoptExistingSecrets ?? false)),
    // Both spellings: the aws CLI (Python) and curl read either, Go's kubectl the upper case,
    // busybox wget the lower case.
    ...(props.proxy
      ? ['HTTPS_PROXY', 'https_proxy', 'HTTP_PROXY', 'http_proxy']
          .map((name) => ({ name, value: props.proxy?.url }))
          .concat(['NO_PROXY', 'no_proxy'].map((name) => ({ name, value: props.proxy?.noProxy.join(',') })))
      : []),
    ...(props.awsEndpoints?.ecr ? [{ name: 'AWS_ENDPOINT_URL_ECR', value: props.awsEndpoints.ecr }] : []),
    ...(props.awsEndpoints?.sts ? [{ name: 'AWS_ENDPOINT_URL_STS', value: props.awsEndpoints.sts }] : []),
    ...(props.awsEndpoints?.fips === true ? [{ name: 'AWS_USE_FIPS_ENDPOINT', value: 'true' }] : []),
    ...((props.patchServiceAccounts ?? []).length > 0
      ? [{ name: 'ECR_PATCH_SERVICE_ACCOUNTS', value: (props.patchServiceAccounts ?? []).join(' ') }]
      : []),
    ...(props.argocdNamespace ? [{ name: 'ECR_ARGOCD_NAMESPACE', value: props.argocdNamespace }] : []),
    ...(props.ecrPublic === true ? [{ name: 'ECR_PUBLIC', value: 'true' }] : []),
    // One tenant per line: a label selector may hold spaces and commas.
    ...((props.tenants ?? []).length > 0 ? [{ name: 'ECR_TENANTS', value: (props.tenants ?? []).join('\n') }] : []),
    ...(props.tenantsOnly === true ? [{ name: 'ECR_TENANTS_ONLY', value: 'true' }] : []),
  ];
  if (mode === 'job') {
    env.push(
      // The Job this pod runs for, for the Event a failing run leaves on it. The Job controller
      // labels its pods with the Job's name and uid; the downward API cannot read ownerReferences.
      fieldEnv('ECR_POD_NAMESPACE', 'metadata.namespace'),
      fieldEnv('ECR_JOB_NAME', "metadata.labels['batch.kubernetes.io/job-name']"),
      fieldEnv('ECR_JOB_UID', "metadata.labels['batch.kubernetes.io/controller-uid']"),
    );
  }
  return {
    metadata: { labels: { ...REFRESH_POD_LABELS, ...props.labels } },
    spec: {
      serviceAccountName: props.serviceAccountName,
      // kubectl needs the token; the ServiceAccount itself has automounting off.
      automountServiceAccountToken: true,
      // Never, not OnFailure: every attempt keeps its own failed pod and logs for `kubectl logs`.
      restartPolicy: 'Never',
      enableServiceLinks: false,
      nodeSelector: { 'kubernetes.io/os': 'linux' },
      securityContext: {
        runAsNonRoot: true,
        runAsUser: NON_ROOT_UID,
        runAsGroup: NON_ROOT_UID,
        seccompProfile: { type: 'RuntimeDefault' },
      },
      containers: [
        {
          name: 'refresh',
          image: props.image,
          imagePullPolicy: 'IfNotPresent',
          command: ['/bin/sh', `${SCRIPT_DIR}/${RefreshScriptConfigMap.KEY}`],
          env,
          resources: {
            requests: {
              cpu: Quantity.fromString(props.resources.cpuRequest),
              memory: Quantity.fromString(props.resources.memoryRequest),
            },
            limits: {
              cpu: Quantity.fromString(props.resources.cpuLimit),
              memory: Quantity.fromString(props.resources.memoryLimit),
            },
          },
          securityContext: {
            allowPrivilegeEscalation: false,
            readOnlyRootFilesystem: true,
            runAsNonRoot: true,
            capabilities: { drop: ['ALL'] },
          },
          // The summary line lands in `kubectl describe pod` when the run fails.
          terminationMessagePolicy: 'FallbackToLogsOnError',
          volumeMounts: [
            { name: 'script', mountPath: SCRIPT_DIR, readOnly: true },
            // kubectl caches discovery and the aws CLI keeps state under HOME.
            { name: 'home', mountPath: HOME },
            { name: 'tmp', mountPath: '/tmp' },
            ...aws.mounts,
          ],
        },
      ],
      volumes: [
        { name: 'script', configMap: { name: props.scriptConfigMapName, defaultMode: 0o444 } },
        { name: 'home', emptyDir: { sizeLimit: Quantity.fromString('64Mi') } },
        // tmpfs: the Secret body and the API's responses (which echo the pull token) never reach
        // the node's disk, and the per-namespace response files cost a fraction of the CPU a
        // disk-backed emptyDir costs. Its pages count against the memory limit; the script keeps
        // one batch of responses per worker.
        { name: 'tmp', emptyDir: { medium: 'Memory', sizeLimit: Quantity.fromString('64Mi') } },
        ...aws.volumes,
      ],
    },
  };
}
