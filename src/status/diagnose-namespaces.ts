import { durationText } from './diagnose-bundle.js';
import type { ManagedFieldsEntry, Secret, ServiceAccount } from './kube-objects.js';
import type { NamespaceReport, SecretState, Severity } from './report.js';

/** The refresh script's field manager and annotation prefix (refresh-ecr-credentials.sh). */
export const FIELD_MANAGER = 'ecr-k8s-credentials';
const ANNOTATION_PREFIX = 'ecr-k8s-credentials';
export const REFRESHED_AT = `${ANNOTATION_PREFIX}/refreshed-at`;
export const EXPIRES_AT = `${ANNOTATION_PREFIX}/expires-at`;
export const REGISTRIES = `${ANNOTATION_PREFIX}/registries`;

/** ECR tokens live 12 hours; without an expires-at annotation the Secret expires this long after its refresh. */
const TOKEN_LIFETIME_MS = 12 * 3_600_000;
const DOCKER_CONFIG_KEY = '.dockerconfigjson';

const time = (text: string | undefined): number | null => {
  if (text === undefined || text === '') return null;
  const ms = Date.parse(text);
  return Number.isNaN(ms) ? null : ms;
};

/** Whether a managedFields entry owns `fieldsV1` path `f:a` / `f:b` / ... */
function owns(entry: ManagedFieldsEntry, path: readonly string[]): boolean {
  let node: unknown = entry.fieldsV1;
  for (const key of path) {
    if (typeof node !== 'object' || node === null || !(key in node)) return false;
    node = (node as Record<string, unknown>)[key];
  }
  return true;
}

/** The managers that own the Secret's `.dockerconfigjson`: the token itself, whoever wrote the rest. */
export function dockerConfigOwners(secret: Secret): string[] {
  const owners = (secret.metadata.managedFields ?? [])
    .filter((entry) => owns(entry, ['f:data', `f:${DOCKER_CONFIG_KEY}`]))
    .map((entry) => entry.manager ?? '(unnamed)');
  return [...new Set(owners)];
}

/** The registry hosts the kubelet finds in the Secret; the annotation if the data cannot be read. */
export function secretRegistries(secret: Secret): string[] {
  const encoded = secret.data?.[DOCKER_CONFIG_KEY];
  if (encoded !== undefined) {
    try {
      const config = JSON.parse(Buffer.from(encoded, 'base64').toString('utf8')) as { auths?: unknown };
      if (typeof config.auths === 'object' && config.auths !== null) return Object.keys(config.auths).sort();
    } catch {
      // Not JSON: fall back to what the refresh wrote down.
    }
  }
  const annotated = secret.metadata.annotations?.[REGISTRIES] ?? '';
  return annotated.split(',').filter((host) => host !== '');
}

/** When the Secret stops working: its expires-at, else 12 h after its refresh, else unknown. */
export function secretExpiry(secret: Secret): number | null {
  const annotations = secret.metadata.annotations ?? {};
  const expires = time(annotations[EXPIRES_AT]);
  if (expires !== null) return expires;
  const refreshed = time(annotations[REFRESHED_AT]);
  return refreshed === null ? null : refreshed + TOKEN_LIFETIME_MS;
}

/** When the ServiceAccount's imagePullSecrets were last written, by its managedFields. */
export function imagePullSecretsWrittenAt(account: ServiceAccount): number | null {
  const times = (account.metadata.managedFields ?? [])
    .filter((entry) => owns(entry, ['f:imagePullSecrets']))
    .map((entry) => time(entry.time))
    .filter((value): value is number => value !== null);
  return times.length === 0 ? null : Math.max(...times);
}

export const listsSecret = (account: ServiceAccount | undefined, secretName: string): boolean =>
  (account?.imagePullSecrets ?? []).some((reference) => reference.name === secretName);

export interface SecretVerdict {
  readonly state: SecretState;
  readonly detail: string;
}

/**
 * The one verdict on a namespace's Secret. Order matters: a Secret somebody else owns is never
 * refreshed, whatever its annotations say; an expired one is worse than a late one.
 */
export function judgeSecret(secret: Secret | undefined, overdueAfterMinutes: number, now: number): SecretVerdict {
  if (secret === undefined) return { state: 'missing', detail: 'is missing' };
  const owners = dockerConfigOwners(secret);
  const foreign = owners.filter((owner) => owner !== FIELD_MANAGER);
  if (foreign.length > 0 || owners.length === 0) {
    return {
      state: 'conflict',
      detail: `is owned by ${foreign.length > 0 ? foreign.join(', ') : 'an unknown field manager'}, not ${FIELD_MANAGER}, so the refresh leaves it unchanged (a conflict)`,
    };
  }
  const expiry = secretExpiry(secret);
  const refreshed = time(secret.metadata.annotations?.[REFRESHED_AT]);
  if (expiry !== null && expiry <= now) {
    return { state: 'expired', detail: `expired ${durationText(now - expiry)} ago` };
  }
  if (refreshed === null) return { state: 'stale', detail: `has no ${REFRESHED_AT} annotation` };
  if (now - refreshed > overdueAfterMinutes * 60_000) {
    return {
      state: 'stale',
      detail: `was refreshed ${durationText(now - refreshed)} ago (overdue after ${durationText(overdueAfterMinutes * 60_000)})${expiry === null ? '' : `; expires in ${durationText(expiry - now)}`}`,
    };
  }
  return {
    state: 'fresh',
    detail: `was refreshed ${durationText(now - refreshed)} ago${expiry === null ? '' : `, expires in ${durationText(expiry - now)}`}`,
  };
}

/** One row per target namespace. */
export function diagnoseNamespace(
  namespace: string,
  secret: Secret | undefined,
  accounts: readonly ServiceAccount[],
  secretName: string,
  overdueAfterMinutes: number,
  now: number,
): NamespaceReport {
  const verdict = judgeSecret(secret, overdueAfterMinutes, now);
  const severity: Severity = verdict.state === 'fresh' ? 'ok' : 'problem';
  return {
    namespace,
    state: verdict.state,
    refreshedAt: secret?.metadata.annotations?.[REFRESHED_AT] ?? null,
    expiresAt: secret?.metadata.annotations?.[EXPIRES_AT] || null,
    registries: secret === undefined ? [] : secretRegistries(secret),
    fieldManagers: secret === undefined ? [] : dockerConfigOwners(secret),
    serviceAccounts: accounts
      .filter((account) => listsSecret(account, secretName))
      .map((account) => account.metadata.name)
      .sort(),
    severity,
    detail: verdict.detail,
  };
}
