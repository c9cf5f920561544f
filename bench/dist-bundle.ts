import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseAllDocuments } from 'yaml';

/** One `env` entry of the refresh container, as rendered. */
export interface ContainerEnvVar {
  readonly name: string;
  readonly value?: string;
  readonly valueFrom?: { readonly secretKeyRef?: { readonly name: string; readonly key: string } };
}

/** What the benchmark takes from a rendered bundle: it runs what users apply, not src/. */
export interface DistBundle {
  /** The refresh script files by name (entry + the parts it sources), from the ConfigMap the CronJob mounts. */
  readonly scripts: Readonly<Record<string, string>>;
  /** The CronJob container's env list. */
  readonly env: readonly ContainerEnvVar[];
  /** Namespace, ServiceAccount and RBAC objects, to apply as they are. */
  readonly accessObjects: readonly KubeObject[];
  readonly serviceAccount: { readonly namespace: string; readonly name: string };
  /** What the CronJob grants one run, e.g. {cpu: "100m", memory: "128Mi", deadline_s: 900}. */
  readonly limits: { readonly cpu?: string; readonly memory?: string; readonly deadline_s?: number };
}

export interface KubeObject {
  readonly apiVersion: string;
  readonly kind: string;
  readonly metadata: {
    readonly name: string;
    readonly namespace?: string;
    readonly labels?: Readonly<Record<string, string>>;
    readonly annotations?: Readonly<Record<string, string>>;
  };
  readonly [field: string]: unknown;
}

interface CronJob extends KubeObject {
  readonly spec: {
    readonly jobTemplate: {
      readonly spec: {
        readonly activeDeadlineSeconds?: number;
        readonly template: {
          readonly spec: {
            readonly serviceAccountName: string;
            readonly containers: readonly {
              readonly env?: readonly ContainerEnvVar[];
              readonly resources?: { readonly limits?: { readonly cpu?: string; readonly memory?: string } };
            }[];
          };
        };
      };
    };
  };
}

const SCRIPT_CONFIG_MAP = 'ecr-credential-refresh-script';
export const SCRIPT_KEY = 'refresh-ecr-credentials.sh';
const ACCESS_KINDS = new Set([
  'Namespace',
  'ServiceAccount',
  'ClusterRole',
  'ClusterRoleBinding',
  'Role',
  'RoleBinding',
]);

/** Reads every top-level .yaml of `distDir` (what `kubectl apply -f dist/` applies). */
export function readDistBundle(distDir: string): DistBundle {
  const objects = readdirSync(distDir)
    .filter((file) => file.endsWith('.yaml'))
    .sort()
    .flatMap((file) =>
      parseAllDocuments(readFileSync(join(distDir, file), 'utf8'))
        .map((doc) => doc.toJS() as KubeObject | null)
        .filter((object): object is KubeObject => object !== null),
    );

  const configMap = objects.find((o) => o.kind === 'ConfigMap' && o.metadata.name === SCRIPT_CONFIG_MAP);
  const scripts = configMap?.data as Record<string, string> | undefined;
  if (scripts?.[SCRIPT_KEY] === undefined) {
    throw new Error(`${distDir} has no ConfigMap ${SCRIPT_CONFIG_MAP} with key ${SCRIPT_KEY}; run npm run synth first`);
  }
  const cronJob = objects.find((o): o is CronJob => o.kind === 'CronJob');
  if (cronJob === undefined) throw new Error(`${distDir} has no CronJob`);
  const podSpec = cronJob.spec.jobTemplate.spec.template.spec;
  const container = podSpec.containers[0];
  if (container === undefined) throw new Error(`the CronJob in ${distDir} has no container`);
  const namespace = cronJob.metadata.namespace;
  if (namespace === undefined) throw new Error(`the CronJob in ${distDir} has no namespace`);

  return {
    scripts,
    env: container.env ?? [],
    accessObjects: objects.filter((o) => ACCESS_KINDS.has(o.kind)),
    serviceAccount: { namespace, name: podSpec.serviceAccountName },
    limits: {
      ...container.resources?.limits,
      ...(cronJob.spec.jobTemplate.spec.activeDeadlineSeconds === undefined
        ? {}
        : { deadline_s: cronJob.spec.jobTemplate.spec.activeDeadlineSeconds }),
    },
  };
}

/**
 * The container's environment with Secret-sourced values taken from `secretData` (an optional
 * key that is absent stays unset, as in a pod), then `overrides` on top.
 */
export function containerEnv(
  env: readonly ContainerEnvVar[],
  secretData: Readonly<Record<string, string>>,
  overrides: Readonly<Record<string, string>>,
): Record<string, string> {
  const result: Record<string, string> = {};
  for (const variable of env) {
    if (variable.value !== undefined) {
      result[variable.name] = variable.value;
    } else if (variable.valueFrom?.secretKeyRef !== undefined) {
      const value = secretData[variable.valueFrom.secretKeyRef.key];
      if (value !== undefined) result[variable.name] = value;
    } else if (variable.valueFrom === undefined) {
      result[variable.name] = '';
    }
  }
  return { ...result, ...overrides };
}
