import { createHash } from 'node:crypto';
import { Construct } from 'constructs';
import { KubeDeployment, type PodTemplateSpec, type Probe } from '../../imports/k8s.js';
import { PART_OF } from './labels.js';
import { type RefreshPodProps, refreshPodTemplate } from './refresh-pod-template.js';
import type { RefreshScripts } from './refresh-script-config-map.js';

export interface NamespaceWatcherDeploymentProps extends RefreshPodProps {
  /** Namespace of the Deployment. @default - required */
  readonly namespace: string;
  /** The script files the ConfigMap ships; their hash is in the pod template, so a new script rolls the pod. @default - required */
  readonly scripts: RefreshScripts;
}

export const WATCHER_POD_LABELS = {
  'app.kubernetes.io/name': 'ecr-namespace-watcher',
  'app.kubernetes.io/component': 'watcher',
  ...PART_OF,
} as const;

/** Pod-template annotation holding the SHA-256 of the script ConfigMap's data. */
export const SCRIPT_HASH_ANNOTATION = 'ecr-k8s-credentials/script-sha256';

/** Written by the watch loop on every turn (at least once per ECR_WATCH_BATCH_SECONDS). */
const HEARTBEAT_FILE = '/tmp/ecr-watch-heartbeat';

/** Healthy while the heartbeat file changed within the last `minutes`. */
function heartbeatProbe(minutes: number, periodSeconds: number): Probe {
  return {
    exec: { command: ['/bin/sh', '-c', `[ -n "$(find ${HEARTBEAT_FILE} -mmin -${minutes} 2>/dev/null)" ]`] },
    periodSeconds,
    failureThreshold: 3,
  };
}

/** SHA-256 of the script files, by name in name order, independent of the object's key order. */
export function scriptsHash(scripts: RefreshScripts): string {
  const hash = createHash('sha256');
  for (const name of Object.keys(scripts).sort()) hash.update(`${name}\0${scripts[name] ?? ''}\0`);
  return hash.digest('hex');
}

/**
 * The namespace watcher: the refresh script in watch mode, one replica. It writes the pull
 * secret into namespaces created between two scheduled runs; the CronJob still refreshes
 * everything on schedule. Same image, hardening, ServiceAccount, AWS settings and resources as
 * the refresh pod; `Recreate`, so two watchers never overlap.
 *
 * The pod reads the script once, at start, from a ConfigMap volume: a changed ConfigMap alone
 * would never reach a running watcher. The pod template carries the scripts' hash, so a new
 * script changes the template and the Deployment rolls the pod.
 */
export class NamespaceWatcherDeployment extends Construct {
  static readonly NAME = 'ecr-namespace-watcher';

  constructor(scope: Construct, id: string, props: NamespaceWatcherDeploymentProps) {
    super(scope, id);
    const refresh = refreshPodTemplate(props, 'watch');
    const [container] = refresh.spec?.containers ?? [];
    if (!container || !refresh.spec) throw new Error('the refresh pod template has no container');
    const template: PodTemplateSpec = {
      metadata: {
        labels: { ...refresh.metadata?.labels, ...WATCHER_POD_LABELS },
        annotations: { [SCRIPT_HASH_ANNOTATION]: scriptsHash(props.scripts) },
      },
      spec: {
        ...refresh.spec,
        // A Deployment's pods restart in place; the kubelet's backoff spaces out the restarts.
        restartPolicy: 'Always',
        containers: [
          {
            ...container,
            name: 'watch',
            command: [...(container.command ?? []), 'watch'],
            env: [...(container.env ?? []), { name: 'ECR_HEARTBEAT_FILE', value: HEARTBEAT_FILE }],
            readinessProbe: heartbeatProbe(1, 10),
            livenessProbe: heartbeatProbe(2, 30),
          },
        ],
      },
    };
    new KubeDeployment(this, 'Resource', {
      metadata: { name: NamespaceWatcherDeployment.NAME, namespace: props.namespace, labels: { ...PART_OF } },
      spec: {
        replicas: 1,
        strategy: { type: 'Recreate' },
        // The selector is immutable: it stays the three labels it always was.
        selector: { matchLabels: { ...WATCHER_POD_LABELS } },
        template,
      },
    });
  }
}
