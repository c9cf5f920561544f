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

/**
 * Rewritten every second while the watch loop keeps within the lease of its current step
 * (`keep_heartbeat` in ecr-watch.sh). A batch takes a lease as long as its worst case
 * (`batch_seconds`: 975 s for keys, one region and up to 500 namespaces), so a slow AWS or API
 * server never lets the file go stale; a step that overruns its worst case does.
 */
const HEARTBEAT_FILE = '/tmp/ecr-watch-heartbeat';

/**
 * Healthy while the heartbeat file is younger than `maxAgeSeconds`. The file is rewritten every
 * second, so a few seconds of slack cover a loaded node; the probe fails `maxAgeSeconds` after
 * the last beat, and acts after `failureThreshold` failures `periodSeconds` apart.
 */
function heartbeatProbe(maxAgeSeconds: number, periodSeconds: number, failureThreshold: number): Probe {
  return {
    exec: {
      command: [
        '/bin/sh',
        '-c',
        `[ "$(($(date +%s) - $(stat -c %Y ${HEARTBEAT_FILE} 2>/dev/null || echo 0)))" -lt ${maxAgeSeconds} ]`,
      ],
    },
    periodSeconds,
    failureThreshold,
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
            // The first beat comes after the account lookup (STS, up to AWS_MAX_ATTEMPTS x 40 s
            // + 4 x 20 s of pauses = 280 s at 5 tries): 30 x 10 s = 300 s to start.
            startupProbe: heartbeatProbe(30, 10, 30),
            // Not ready 15 s after the last beat; restarted 30 s after it plus 3 failures 10 s
            // apart: at most a minute after the loop overran its step's worst case.
            readinessProbe: heartbeatProbe(15, 10, 1),
            livenessProbe: heartbeatProbe(30, 10, 3),
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
