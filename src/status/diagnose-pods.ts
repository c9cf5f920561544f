import { ECR_PUBLIC_HOST, ECR_REGISTRY_HOST } from '../validation/aws.js';
import { durationText } from './diagnose-bundle.js';
import {
  dockerConfigOwners,
  FIELD_MANAGER,
  imagePullSecretsWrittenAt,
  judgeSecret,
  listsSecret,
  secretRegistries,
} from './diagnose-namespaces.js';
import type { ContainerStatus, Pod, Secret, ServiceAccount } from './kube-objects.js';
import type { BlockedPodReport, PullCause } from './report.js';

/** What a waiting container reports while the kubelet cannot pull its image. */
const PULL_FAILURES: readonly string[] = ['ErrImagePull', 'ImagePullBackOff'];

/** What the pod diagnosis needs to know about the pod's namespace. */
export interface PodContext {
  readonly secretName: string;
  readonly bundleNamespace: string;
  readonly cronJobName: string;
  readonly overdueAfterMinutes: number;
  /** The registry hosts the bundle is configured with (`--registry`, the CronJob's ECR_REGISTRIES; public.ecr.aws with ECR_PUBLIC). */
  readonly configuredRegistries: readonly string[];
  /** Why the refresh leaves the pod's namespace out, or null if it is a target. */
  readonly exclusion: string | null;
  readonly secret: Secret | undefined;
  readonly serviceAccount: ServiceAccount | undefined;
  readonly now: number;
}

/** The registry host of an image reference (`HOST/repo:tag`), or null for Docker Hub short names. */
export function imageHost(image: string): string | null {
  const slash = image.indexOf('/');
  if (slash < 0) return null;
  const first = image.slice(0, slash);
  return first.includes('.') || first.includes(':') || first === 'localhost' ? first.replace(/:\d+$/, '') : null;
}

/**
 * An image of a private ECR registry, or of ECR Public when the bundle writes it (`configured`
 * lists public.ecr.aws): without --ecr-public such pulls are anonymous and none of the Secret's business.
 */
function isEcrImage(image: string, configured: readonly string[]): boolean {
  const host = imageHost(image) ?? '';
  return ECR_REGISTRY_HOST.test(host) || (host === ECR_PUBLIC_HOST && configured.includes(ECR_PUBLIC_HOST));
}

/** The containers (init ones too) waiting on a failed pull of an ECR image (of `configured` registries for ECR Public). */
export function blockedContainers(
  pod: Pod,
  configured: readonly string[] = [],
): BlockedPodReport['containers'][number][] {
  const specs = [...(pod.spec.initContainers ?? []), ...pod.spec.containers];
  const statuses: readonly ContainerStatus[] = [
    ...(pod.status?.initContainerStatuses ?? []),
    ...(pod.status?.containerStatuses ?? []),
  ];
  return statuses.flatMap((status) => {
    const reason = status.state?.waiting?.reason ?? '';
    const message = status.state?.waiting?.message ?? '';
    const image = specs.find((spec) => spec.name === status.name)?.image ?? status.image ?? '';
    return PULL_FAILURES.includes(reason) && isEcrImage(image, configured)
      ? [{ name: status.name, image, reason, message }]
      : [];
  });
}

/** The pod's controller; a ReplicaSet of a Deployment is named DEPLOYMENT-<pod-template-hash>. */
export function podOwner(pod: Pod): { kind: string; name: string } | null {
  const controller = pod.metadata.ownerReferences?.find((reference) => reference.controller === true);
  if (controller === undefined) return null;
  const hash = pod.metadata.labels?.['pod-template-hash'];
  if (controller.kind === 'ReplicaSet' && hash !== undefined && controller.name.endsWith(`-${hash}`)) {
    return { kind: 'Deployment', name: controller.name.slice(0, -hash.length - 1) };
  }
  return { kind: controller.kind, name: controller.name };
}

const ROLLABLE: readonly string[] = ['Deployment', 'StatefulSet', 'DaemonSet'];

/** The command that gets the pod created again, so admission copies the ServiceAccount's list. */
function recreate(pod: Pod, owner: { kind: string; name: string } | null): string[] {
  const ns = pod.metadata.namespace ?? 'default';
  if (owner !== null && ROLLABLE.includes(owner.kind)) {
    return [`kubectl rollout restart ${owner.kind.toLowerCase()}/${owner.name} -n ${ns}`];
  }
  if (owner !== null) return [`kubectl delete pod ${pod.metadata.name} -n ${ns}`];
  return [`kubectl delete pod ${pod.metadata.name} -n ${ns}`, '# then create the pod again from its manifest'];
}

const refreshNow = (context: PodContext): string =>
  `kubectl -n ${context.bundleNamespace} create job --from=cronjob/${context.cronJobName} ${context.cronJobName}-manual-$(date +%s)`;

const quoteJson = (value: unknown): string => `'${JSON.stringify(value)}'`;

/** Finds the cause, most specific first, and the fix. */
export function diagnosePod(pod: Pod, context: PodContext): BlockedPodReport | null {
  const containers = blockedContainers(pod, context.configuredRegistries);
  if (containers.length === 0) return null;
  const ns = pod.metadata.namespace ?? 'default';
  const accountName = pod.spec.serviceAccountName ?? 'default';
  const owner = podOwner(pod);
  const report = (cause: PullCause, detail: string, fix: string[]): BlockedPodReport => ({
    namespace: ns,
    pod: pod.metadata.name,
    serviceAccount: accountName,
    owner,
    containers,
    cause,
    detail,
    fix,
  });
  const { secretName } = context;

  if (context.exclusion !== null) {
    return report('namespace-not-targeted', `the refresh leaves namespace ${ns} out: ${context.exclusion}`, [
      `# re-synthesize so that --target-namespaces, --exclude-namespaces and --namespace-selector select ${ns}, then:`,
      'kubectl apply -f dist',
      refreshNow(context),
    ]);
  }

  const podSecrets = (pod.spec.imagePullSecrets ?? []).map((reference) => reference.name);
  if (!podSecrets.includes(secretName)) {
    const account = context.serviceAccount;
    const written = account === undefined ? null : imagePullSecretsWrittenAt(account);
    const created = Date.parse(pod.metadata.creationTimestamp ?? '');
    // Admission copies the account's list only into a pod that has none of its own, and only at
    // creation: a pod without any list under an account that has ours predates the list, whatever
    // the clock says; a pod with a list (copied from the account earlier, or its own) predates it if
    // it is no younger than the last write of the list (managedFields times have 1 s resolution).
    const olderThanPatch =
      listsSecret(account, secretName) && (podSecrets.length === 0 || (written !== null && created <= written));
    if (olderThanPatch) {
      const when =
        written === null ? '' : ` (its imagePullSecrets were written ${durationText(context.now - written)} ago)`;
      return report(
        'pod-older-than-service-account-patch',
        `the pod was created before ServiceAccount ${accountName} listed ${secretName}${when}; imagePullSecrets are copied into a pod only when it is created`,
        recreate(pod, owner),
      );
    }
    if (podSecrets.length > 0) {
      const template = owner !== null && ROLLABLE.includes(owner.kind);
      return report(
        'no-image-pull-secrets',
        `the pod's own imagePullSecrets (${podSecrets.join(', ')}) do not list ${secretName}, so its ServiceAccount's are not added`,
        template
          ? [
              `kubectl patch ${owner.kind.toLowerCase()}/${owner.name} -n ${ns} --type=json -p ${quoteJson([
                { op: 'add', path: '/spec/template/spec/imagePullSecrets/-', value: { name: secretName } },
              ])}`,
            ]
          : [
              `# add {name: ${secretName}} to the pod's spec.imagePullSecrets in its manifest, then:`,
              ...recreate(pod, owner),
            ],
      );
    }
    const patch =
      (account?.imagePullSecrets ?? []).length === 0
        ? [{ op: 'add', path: '/imagePullSecrets', value: [{ name: secretName }] }]
        : [{ op: 'add', path: '/imagePullSecrets/-', value: { name: secretName } }];
    return report(
      'no-image-pull-secrets',
      account === undefined
        ? `the pod has no imagePullSecrets and its ServiceAccount ${accountName} does not exist`
        : `neither the pod nor its ServiceAccount ${accountName} lists ${secretName} (synthesize with --patch-service-accounts ${accountName} to keep it so)`,
      [
        `kubectl patch serviceaccount ${accountName} -n ${ns} --type=json -p ${quoteJson(patch)}`,
        ...recreate(pod, owner),
      ],
    );
  }

  const verdict = judgeSecret(context.secret, context.overdueAfterMinutes, context.now);
  if (verdict.state === 'missing') {
    return report('secret-missing', `Secret ${secretName} does not exist in ${ns}`, [refreshNow(context)]);
  }
  if (verdict.state === 'conflict') {
    const owners = context.secret === undefined ? [] : dockerConfigOwners(context.secret);
    return report(
      'secret-foreign',
      `Secret ${secretName} belongs to ${owners.filter((owner) => owner !== FIELD_MANAGER).join(', ') || 'another field manager'}, so the refresh leaves it unchanged (or synthesize with --adopt-existing-secrets)`,
      [`kubectl delete secret ${secretName} -n ${ns}`, refreshNow(context)],
    );
  }
  if (verdict.state === 'expired') {
    return report(
      'secret-expired',
      `Secret ${secretName} ${verdict.detail}; the bundle's CronJob and last Job above say why no refresh came`,
      [refreshNow(context)],
    );
  }
  const hosts = context.secret === undefined ? [] : secretRegistries(context.secret);
  const missing = [...new Set(containers.map((container) => imageHost(container.image) ?? ''))].filter(
    (host) => !hosts.includes(host),
  );
  if (missing.length > 0 && missing.every((host) => context.configuredRegistries.includes(host))) {
    return report(
      'registry-not-in-secret',
      `Secret ${secretName} holds ${hosts.join(', ') || 'no registry'}, not ${missing.join(', ')}; the bundle is configured with it, but no refresh has written it since`,
      [refreshNow(context)],
    );
  }
  if (missing.length > 0) {
    return report(
      'registry-not-in-secret',
      `Secret ${secretName} holds ${hosts.join(', ') || 'no registry'}, not ${missing.join(', ')}`,
      [
        `# re-synthesize with ${missing.map((host) => `--registry ${host}`).join(' ')} added to your flags or config, then:`,
        'kubectl apply -f dist',
        refreshNow(context),
      ],
    );
  }
  const kubelet = containers.map((container) => container.message).find((message) => message !== '');
  return report(
    'pull-refused',
    `Secret ${secretName} is ${verdict.state} and holds the registry, so the registry refused the pull (image missing, or IAM denies it)${kubelet === undefined ? '' : `: ${kubelet}`}`,
    [`kubectl describe pod ${pod.metadata.name} -n ${ns}`],
  );
}
