import { ApiObject } from 'cdk8s';
import { Construct } from 'constructs';
import { ECR_PUBLIC_HOST, ownRegistryHost, splitRegistry } from '../validation/aws.js';
import { labelSelectorRequirements, type LabelSelectorRequirement } from '../validation/kubernetes.js';
import { PART_OF } from './labels.js';

/** The oldest Kubernetes minor that serves admissionregistration.k8s.io/v1 MutatingAdmissionPolicy. */
export const INJECTION_MINIMUM_KUBERNETES = '1.36';

export interface PullSecretInjectionPolicyProps {
  /** Name of the MutatingAdmissionPolicy and its binding (cluster-scoped). @default - required */
  readonly name: string;
  /** The pull secret added to each Pod's imagePullSecrets. @default - required */
  readonly secretName: string;
  /** The updater's namespace: its Pods are never changed. @default - required */
  readonly updaterNamespace: string;
  /** Region of the own registry. @default - required */
  readonly region: string;
  /** The own registry is the dkr.ecr-fips host. @default false */
  readonly fips?: boolean;
  /**
   * Account of the own registry, when synth knows it (web identity: the role's account).
   * @default - any account: with keys the account is only known at run time
   */
  readonly ownAccount?: string;
  /** Extra registry hosts (`HOST` or `HOST=ROLE_ARN`), as --registry takes them. @default - none */
  readonly registries?: readonly string[];
  /** The pull secret holds public.ecr.aws too (--ecr-public). @default false */
  readonly ecrPublic?: boolean;
  /** Namespace names or globs whose Pods are changed. @default - all namespaces */
  readonly targetNamespaces?: readonly string[];
  /** Namespace globs whose Pods are never changed. @default - none */
  readonly excludeNamespaces?: readonly string[];
  /** Label selector (kubectl -l syntax) namespaces must match. @default - none */
  readonly namespaceSelector?: string;
}

/** admissionregistration.k8s.io/v1 MutatingAdmissionPolicy, the fields this construct sets. */
interface MutatingAdmissionPolicySpec {
  readonly failurePolicy: 'Ignore' | 'Fail';
  readonly reinvocationPolicy: 'Never' | 'IfNeeded';
  readonly matchConstraints: {
    readonly namespaceSelector: { readonly matchExpressions: readonly LabelSelectorRequirement[] };
    readonly resourceRules: readonly {
      readonly apiGroups: readonly string[];
      readonly apiVersions: readonly string[];
      readonly operations: readonly string[];
      readonly resources: readonly string[];
    }[];
  };
  readonly matchConditions: readonly { readonly name: string; readonly expression: string }[];
  readonly mutations: readonly {
    readonly patchType: 'JSONPatch';
    readonly jsonPatch: { readonly expression: string };
  }[];
}

/** admissionregistration.k8s.io/v1 MutatingAdmissionPolicyBinding. */
interface MutatingAdmissionPolicyBindingSpec {
  readonly policyName: string;
}

const API_VERSION = 'admissionregistration.k8s.io/v1';

/** Never touched, whatever the targets say: the cluster's own Pods and the bundle's. */
const SYSTEM_NAMESPACE = 'kube-system';

/** A CEL string literal: JSON's escapes are CEL's for these ASCII values. */
const cel = (value: string): string => JSON.stringify(value);

const escapeRegex = (value: string): string => value.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/** A namespace glob (`*`, `?`, as the script's `case` patterns) as an RE2 alternative. */
const globRegex = (glob: string): string =>
  glob
    .replace(/[.+^${}()|[\]\\]/g, '\\$&')
    .replace(/\*/g, '.*')
    .replace(/\?/g, '.');

/**
 * The registry hosts the pull secret holds credentials for, as an RE2 pattern an image reference
 * must start with: the extra registries as given and the own registry built as the script builds
 * it. Without a known account, any account's own-registry host in the region matches; the kubelet
 * only uses a pull secret for the hosts it lists, so the extra reference is inert.
 */
export function registryImagePattern(props: PullSecretInjectionPolicyProps): string {
  const own = escapeRegex(ownRegistryHost('ACCOUNT', props.region, props.fips ?? false)).replace(
    'ACCOUNT',
    props.ownAccount === undefined ? '[0-9]{12}' : escapeRegex(props.ownAccount),
  );
  const extra = (props.registries ?? []).map((entry) => escapeRegex(splitRegistry(entry).host));
  if (props.ecrPublic === true) extra.push(escapeRegex(ECR_PUBLIC_HOST));
  return `^(?:${[own, ...new Set(extra)].join('|')})/`;
}

/**
 * A MutatingAdmissionPolicy and its binding: the API server itself adds the pull secret to
 * spec.imagePullSecrets of each Pod created in a target namespace whose containers, init
 * containers or ephemeral containers pull from a registry the secret holds, after the entries
 * the Pod has, and never twice. No webhook server: nothing runs, nothing to keep available.
 *
 * The mutation is a JSONPatch: imagePullSecrets holds atomic LocalObjectReferences, and an
 * ApplyConfiguration mutation of it is refused at admission. failurePolicy Ignore: a policy
 * that fails to evaluate must never block Pods; the e2e suite runs the same cases under Fail
 * to show the expressions compile and act.
 */
export class PullSecretInjectionPolicy extends Construct {
  readonly name: string;

  constructor(scope: Construct, id: string, props: PullSecretInjectionPolicyProps) {
    super(scope, id);
    this.name = props.name;
    const secret = cel(props.secretName);
    const image = `has(c.image) && c.image.matches(${cel(registryImagePattern(props))})`;
    const pullsFromRegistry = ['containers', 'initContainers', 'ephemeralContainers']
      .map((list) => `(has(object.spec.${list}) && object.spec.${list}.exists(c, ${image}))`)
      .join(' || ');
    const reference = `Object.spec.imagePullSecrets{name: ${secret}}`;
    const spec: MutatingAdmissionPolicySpec = {
      failurePolicy: 'Ignore',
      // Runs again if a later mutation (a webhook adding a sidecar) changed the Pod; the
      // conditions keep a second run from adding the secret twice.
      reinvocationPolicy: 'IfNeeded',
      matchConstraints: {
        namespaceSelector: {
          matchExpressions: [
            {
              key: 'kubernetes.io/metadata.name',
              operator: 'NotIn',
              values: [props.updaterNamespace, SYSTEM_NAMESPACE],
            },
            ...(props.namespaceSelector ? labelSelectorRequirements(props.namespaceSelector) : []),
          ],
        },
        resourceRules: [{ apiGroups: [''], apiVersions: ['v1'], operations: ['CREATE'], resources: ['pods'] }],
      },
      matchConditions: [
        ...namespaceConditions(props),
        { name: 'pulls-from-the-registries', expression: pullsFromRegistry },
        {
          name: 'lacks-the-secret',
          expression: `!has(object.spec.imagePullSecrets) || !object.spec.imagePullSecrets.exists(s, has(s.name) && s.name == ${secret})`,
        },
      ],
      mutations: [
        {
          patchType: 'JSONPatch',
          jsonPatch: {
            // "add .../-" appends after the Pod's own entries; without a list, the list is added.
            expression:
              `has(object.spec.imagePullSecrets) ` +
              `? [JSONPatch{op: "add", path: "/spec/imagePullSecrets/-", value: ${reference}}] ` +
              `: [JSONPatch{op: "add", path: "/spec/imagePullSecrets", value: [${reference}]}]`,
          },
        },
      ],
    };
    const metadata = { name: props.name, labels: { ...PART_OF } };
    new ApiObject(this, 'Policy', { apiVersion: API_VERSION, kind: 'MutatingAdmissionPolicy', metadata, spec });
    const binding: MutatingAdmissionPolicyBindingSpec = { policyName: props.name };
    new ApiObject(this, 'Binding', {
      apiVersion: API_VERSION,
      kind: 'MutatingAdmissionPolicyBinding',
      metadata,
      spec: binding,
    });
  }
}

/** The target and exclude globs, on the Pod's namespace name (a selector cannot hold globs). */
function namespaceConditions(props: PullSecretInjectionPolicyProps): { name: string; expression: string }[] {
  const anyOf = (globs: readonly string[]): string =>
    `request.namespace.matches(${cel(`^(?:${globs.map(globRegex).join('|')})$`)})`;
  const conditions: { name: string; expression: string }[] = [];
  if ((props.targetNamespaces ?? []).length > 0) {
    conditions.push({ name: 'target-namespace', expression: anyOf(props.targetNamespaces ?? []) });
  }
  if ((props.excludeNamespaces ?? []).length > 0) {
    conditions.push({ name: 'not-excluded-namespace', expression: `!${anyOf(props.excludeNamespaces ?? [])}` });
  }
  return conditions;
}
