import { ECR_PUBLIC_HOST } from '../validation/aws.js';
import { labelSelectorRequirements, splitTenant, tenantMatchKind } from '../validation/kubernetes.js';
import type { CronJob, Namespace } from './kube-objects.js';

/** The settings a refresh run gets, read back from the CronJob's environment as the script reads them. */
export interface RunSettings {
  readonly secretName: string;
  /** Globs; empty: every namespace. */
  readonly targetNamespaces: readonly string[];
  readonly excludeNamespaces: readonly string[];
  /** Label selector; empty: none. */
  readonly namespaceSelector: string;
  /** The extra registry hosts (`--registry`), without their role ARNs; public.ecr.aws last with ECR_PUBLIC=true. */
  readonly registries: readonly string[];
  /** The ConfigMap the refresh pod mounts its script from. */
  readonly scriptConfigMap: string | null;
  /** The tenants' MATCHes (ECR_TENANTS), in order. */
  readonly tenantMatches: readonly string[];
  /** ECR_TENANTS_ONLY: a namespace no tenant matches gets no Secret. */
  readonly tenantsOnly: boolean;
}

const DEFAULT_SECRET_NAME = 'ecr-registry-credentials';

const words = (text: string | undefined): string[] => (text ?? '').split(/\s+/).filter((word) => word !== '');

/** The CronJob is the bundle's record of its own settings: the generator writes them into its env. */
export function runSettings(cronJob: CronJob): RunSettings {
  const pod = cronJob.spec.jobTemplate.spec.template.spec;
  const env = new Map((pod.containers[0]?.env ?? []).map((variable) => [variable.name, variable.value]));
  const scriptVolume = pod.volumes?.find((volume) => volume.configMap?.name !== undefined);
  return {
    secretName: env.get('ECR_SECRET_NAME') || DEFAULT_SECRET_NAME,
    targetNamespaces: words(env.get('ECR_TARGET_NAMESPACES')),
    excludeNamespaces: words(env.get('ECR_EXCLUDE_NAMESPACES')),
    namespaceSelector: (env.get('ECR_NAMESPACE_SELECTOR') ?? '').trim(),
    registries: [
      ...words(env.get('ECR_REGISTRIES')).map((entry) => entry.split('=')[0] ?? entry),
      ...(env.get('ECR_PUBLIC') === 'true' ? [ECR_PUBLIC_HOST] : []),
    ],
    scriptConfigMap: scriptVolume?.configMap?.name ?? null,
    tenantMatches: (env.get('ECR_TENANTS') ?? '').split('\n').flatMap((line) => splitTenant(line)?.match ?? []),
    tenantsOnly: env.get('ECR_TENANTS_ONLY') === 'true',
  };
}

/** Whether a namespace's labels satisfy a selector in kubectl's -l syntax, as the API server judges it. */
export function selectorMatches(labels: Readonly<Record<string, string>>, selector: string): boolean {
  return labelSelectorRequirements(selector).every(({ key, operator, values = [] }) => {
    const value = labels[key];
    switch (operator) {
      case 'In':
        return value !== undefined && values.includes(value);
      case 'NotIn':
        return value === undefined || !values.includes(value);
      case 'Exists':
        return value !== undefined;
      case 'DoesNotExist':
        return value === undefined;
    }
  });
}

/** Whether a tenant MATCH (a namespace glob or a label selector, as tenantMatchKind tells) selects the namespace. */
function tenantMatches(namespace: Namespace, match: string): boolean {
  return tenantMatchKind(match) === 'selector'
    ? selectorMatches(namespace.metadata.labels ?? {}, match)
    : globToRegExp(match).test(namespace.metadata.name);
}

/**
 * A shell `case` pattern (what the script matches namespaces with) as a RegExp: `*`, `?` and
 * bracket expressions (`[!...]` negates); everything else is literal.
 */
export function globToRegExp(glob: string): RegExp {
  let source = '';
  for (let i = 0; i < glob.length; i++) {
    const char = glob[i] as string;
    if (char === '*') source += '.*';
    else if (char === '?') source += '.';
    else if (char === '[') {
      const close = glob.indexOf(']', i + 2);
      if (close < 0) {
        source += '\\[';
        continue;
      }
      let body = glob.slice(i + 1, close);
      if (body.startsWith('!')) body = `^${body.slice(1)}`;
      source += `[${body.replace(/\\/g, '\\\\')}]`;
      i = close;
    } else source += char.replace(/[.+^${}()|\\/]/g, '\\$&');
  }
  return new RegExp(`^${source}$`);
}

/** Why the refresh leaves a namespace out, or null if it writes the Secret there. */
export function exclusionReason(namespace: Namespace, settings: RunSettings): string | null {
  const name = namespace.metadata.name;
  const matches = (globs: readonly string[]) => globs.some((glob) => globToRegExp(glob).test(name));
  if (settings.targetNamespaces.length > 0 && !matches(settings.targetNamespaces)) {
    return `not matched by ECR_TARGET_NAMESPACES (${settings.targetNamespaces.join(' ')})`;
  }
  if (matches(settings.excludeNamespaces)) {
    return `excluded by ECR_EXCLUDE_NAMESPACES (${settings.excludeNamespaces.join(' ')})`;
  }
  if (namespace.status?.phase === 'Terminating') return 'namespace is terminating';
  if (settings.tenantsOnly && !settings.tenantMatches.some((match) => tenantMatches(namespace, match))) {
    return 'no tenant matches it, and ECR_TENANTS_ONLY is true';
  }
  return null;
}
