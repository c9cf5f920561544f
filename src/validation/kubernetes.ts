/** Checks for values Kubernetes itself would reject, so synth fails before kubectl does. */

const DNS_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
const DNS_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;

/** A namespace name: RFC 1123 label. */
export function isDnsLabel(value: string): boolean {
  return value.length <= 63 && DNS_LABEL.test(value);
}

/** The longest object name Kubernetes takes (an RFC 1123 subdomain). */
export const DNS_SUBDOMAIN_MAX = 253;

/** A Secret, ServiceAccount or ClusterRole name: RFC 1123 subdomain. */
export function isDnsSubdomain(value: string): boolean {
  return value.length <= DNS_SUBDOMAIN_MAX && DNS_SUBDOMAIN.test(value);
}

/** A namespace name or a shell glob over namespace names (`*`, `?`). */
export function isNamespaceGlob(value: string): boolean {
  return value.length > 0 && value.length <= 63 && /^[a-z0-9*?-]+$/.test(value);
}

/** Suggests a valid DNS label for a mistyped one, e.g. "ECR_Updater" -> "ecr-updater". */
export function suggestDnsLabel(value: string): string {
  const cleaned = value
    .toLowerCase()
    .replace(/[^a-z0-9-]+/g, '-')
    .replace(/^-+|-+$/g, '')
    .slice(0, 63)
    .replace(/-+$/, '');
  return cleaned === '' ? 'ecr-updater' : cleaned;
}

const QUANTITY = /^(?<number>[+-]?(\d+\.?\d*|\.\d+))(?<suffix>[eE][+-]?\d+|[numkMGTPE]|[KMGTPE]i)?$/;
const SUFFIX_FACTORS: Readonly<Record<string, number>> = {
  n: 1e-9,
  u: 1e-6,
  m: 1e-3,
  k: 1e3,
  M: 1e6,
  G: 1e9,
  T: 1e12,
  P: 1e15,
  E: 1e18,
  Ki: 2 ** 10,
  Mi: 2 ** 20,
  Gi: 2 ** 30,
  Ti: 2 ** 40,
  Pi: 2 ** 50,
  Ei: 2 ** 60,
};

/** The value of a resource quantity ("50m" -> 0.05, "64Mi" -> 67108864), or undefined if invalid. */
export function parseQuantity(value: string): number | undefined {
  const match = QUANTITY.exec(value);
  if (!match?.groups) return undefined;
  const number = Number(match.groups.number);
  const suffix = match.groups.suffix ?? '';
  if (suffix === '') return number;
  if (/^[eE]/.test(suffix)) return number * 10 ** Number(suffix.slice(1));
  return number * (SUFFIX_FACTORS[suffix] ?? NaN);
}

const LABEL_NAME = '[A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?';
const LABEL_KEY = `(${DNS_SUBDOMAIN.source.slice(1, -1)}/)?${LABEL_NAME}`;
const LABEL_VALUE = `(${LABEL_NAME})?`;
const REQUIREMENT = new RegExp(
  [
    `^!?${LABEL_KEY}$`,
    `^${LABEL_KEY}\\s*(=|==|!=)\\s*${LABEL_VALUE}$`,
    `^${LABEL_KEY}\\s+(in|notin)\\s+\\(\\s*${LABEL_VALUE}(\\s*,\\s*${LABEL_VALUE})*\\s*\\)$`,
  ].join('|'),
);

/** A label key: an optional DNS-subdomain prefix and "/", then a name of at most 63 characters. */
export function isLabelKey(value: string): boolean {
  const slash = value.lastIndexOf('/');
  const prefix = slash < 0 ? undefined : value.slice(0, slash);
  return (prefix === undefined || isDnsSubdomain(prefix)) && new RegExp(`^${LABEL_NAME}$`).test(value.slice(slash + 1));
}

/** A label value: empty, or at most 63 characters of letters, digits, "-", "_" and ".". */
export function isLabelValue(value: string): boolean {
  return new RegExp(`^${LABEL_VALUE}$`).test(value);
}

/** A label selector in kubectl's `-l` syntax: `a=b,c!=d,e in (f,g),!h`. */
export function isLabelSelector(value: string): boolean {
  const balanced = (value.match(/\(/g) ?? []).length === (value.match(/\)/g) ?? []).length;
  return balanced && splitRequirements(value).every((requirement) => REQUIREMENT.test(requirement));
}

const IMAGE_REFERENCE =
  /^([a-z0-9]([-a-z0-9.]*[a-z0-9])?(:\d+)?\/)?[a-z0-9]+([._-][a-z0-9]+)*(\/[a-z0-9]+([._-][a-z0-9]+)*)*(:[\w][\w.-]{0,127})?(@sha256:[a-f0-9]{64})?$/;

/** A container image reference: `[registry[:port]/]path[:tag][@sha256:digest]`. */
export function isImageReference(value: string): boolean {
  return IMAGE_REFERENCE.test(value);
}

/** One requirement of a LabelSelector's matchExpressions. */
export interface LabelSelectorRequirement {
  readonly key: string;
  readonly operator: 'In' | 'NotIn' | 'Exists' | 'DoesNotExist';
  readonly values?: readonly string[];
}

/** The top-level requirements of a selector: commas inside `in (...)` do not split. */
function splitRequirements(value: string): string[] {
  const requirements: string[] = [];
  let depth = 0;
  let current = '';
  for (const char of value) {
    if (char === '(') depth++;
    if (char === ')') depth--;
    if (char === ',' && depth === 0) {
      requirements.push(current.trim());
      current = '';
    } else {
      current += char;
    }
  }
  requirements.push(current.trim());
  return requirements;
}

/**
 * A selector in kubectl's `-l` syntax (one isLabelSelector accepts) as the matchExpressions of
 * a LabelSelector, with the same meaning: `a!=b` and `a notin (b)` match objects without `a`
 * too, as NotIn does.
 */
export function labelSelectorRequirements(value: string): LabelSelectorRequirement[] {
  return splitRequirements(value).map((requirement) => {
    const set = /^(\S+)\s+(in|notin)\s+\((.*)\)$/.exec(requirement);
    if (set?.[1] !== undefined && set[3] !== undefined) {
      const values = set[3].split(',').map((item) => item.trim());
      return { key: set[1], operator: set[2] === 'in' ? 'In' : 'NotIn', values };
    }
    const equality = /^([^=!\s]+)\s*(==|=|!=)\s*(\S*)$/.exec(requirement);
    if (equality?.[1] !== undefined) {
      return { key: equality[1], operator: equality[2] === '!=' ? 'NotIn' : 'In', values: [equality[3] ?? ''] };
    }
    if (requirement.startsWith('!')) return { key: requirement.slice(1), operator: 'DoesNotExist' };
    return { key: requirement, operator: 'Exists' };
  });
}

/** The tag and digest of an image reference, if it has them (a registry's `:port` is no tag). */
export function imageVersion(value: string): { tag?: string; digest?: string } {
  const at = value.indexOf('@');
  const name = at < 0 ? value : value.slice(0, at);
  const lastPart = name.slice(name.lastIndexOf('/') + 1);
  const colon = lastPart.indexOf(':');
  return {
    ...(colon < 0 ? {} : { tag: lastPart.slice(colon + 1) }),
    ...(at < 0 ? {} : { digest: value.slice(at + 1) }),
  };
}

/**
 * What a tenant's MATCH is (`--tenant MATCH=ROLE_ARN`): a label selector when it holds "=", "("
 * or "," or starts with "!" (no namespace name does), a namespace glob when it is made of what
 * names and globs are made of, else neither. The refresh script's tenant_match_kind
 * (ecr-tenants.sh) applies the same rule; one table (test/fixtures/tenant-matches.json) is run
 * through both.
 */
export function tenantMatchKind(match: string): 'selector' | 'glob' | undefined {
  if (/[=(,]/.test(match) || match.startsWith('!')) return 'selector';
  return /^[a-z0-9*?-]+$/.test(match) ? 'glob' : undefined;
}

/** A tenant entry split at its last "=arn:": a selector's own "=" stays in MATCH. */
export function splitTenant(entry: string): { match: string; roleArn: string } | undefined {
  const at = entry.lastIndexOf('=arn:');
  if (at < 0) return undefined;
  return { match: entry.slice(0, at), roleArn: entry.slice(at + 1) };
}
