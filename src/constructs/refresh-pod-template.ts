import { type EnvVar, type PodTemplateSpec, Quantity } from '../../imports/k8s.js';
import { REFRESH_POD_LABELS } from './labels.js';
import { RefreshScriptConfigMap } from './refresh-script-config-map.js';

/** What the refresh pod needs; shared by the CronJob and the first-run Job. */
export interface RefreshPodProps {
  /** Image with busybox sh, kubectl, the aws CLI and jq. @default - required */
  readonly image: string;
  /** ServiceAccount the pod runs as. @default - required */
  readonly serviceAccountName: string;
  /** Secret holding AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_REGION (and optionally AWS_ACCOUNT_ID). @default - required */
  readonly awsSecretName: string;
  /** ConfigMap holding the refresh script. @default - required */
  readonly scriptConfigMapName: string;
  /** Name of the pull secret written into each namespace. @default - required */
  readonly pullSecretName: string;
  /** Extra registry hosts beyond the credentials' own account and region. @default - none */
  readonly registries?: readonly string[];
  /** Namespace names or globs to write to. @default - all namespaces */
  readonly targetNamespaces?: readonly string[];
  /** Namespace globs never written to. @default - none */
  readonly excludeNamespaces?: readonly string[];
  /** Label selector target namespaces must match. @default - none */
  readonly namespaceSelector?: string;
  /** Take over same-named secrets owned by another field manager. @default false */
  readonly adoptExistingSecrets?: boolean;
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

function fromAwsSecret(name: string, secretName: string, optional = false): EnvVar {
  return { name, valueFrom: { secretKeyRef: { name: secretName, key: name, ...(optional ? { optional } : {}) } } };
}

/**
 * The hardened refresh pod: non-root, read-only root filesystem, no capabilities, RuntimeDefault
 * seccomp, so it is admitted under Pod Security "restricted". Settings reach the script only as
 * environment variables; nothing is interpolated into the script text.
 */
export function refreshPodTemplate(props: RefreshPodProps): PodTemplateSpec {
  const setting = (name: string, value: string): EnvVar =>
    // An empty value is stored as no value; writing `value: ""` would make every client-side
    // apply report a change. The variable is still set, to the empty string.
    value === '' ? { name } : { name, value };
  const env: EnvVar[] = [
    fromAwsSecret('AWS_ACCESS_KEY_ID', props.awsSecretName),
    fromAwsSecret('AWS_SECRET_ACCESS_KEY', props.awsSecretName),
    fromAwsSecret('AWS_REGION', props.awsSecretName),
    // Optional: without it the script asks STS for the account the keys belong to.
    fromAwsSecret('AWS_ACCOUNT_ID', props.awsSecretName, true),
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
  ];
  return {
    metadata: { labels: { ...REFRESH_POD_LABELS } },
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
          ],
        },
      ],
      volumes: [
        { name: 'script', configMap: { name: props.scriptConfigMapName, defaultMode: 0o444 } },
        { name: 'home', emptyDir: { sizeLimit: Quantity.fromString('64Mi') } },
        { name: 'tmp', emptyDir: { sizeLimit: Quantity.fromString('64Mi') } },
      ],
    },
  };
}
