import { Construct } from 'constructs';
import { KubeDeployment, type PodTemplateSpec, type Probe, Quantity } from '../../imports/k8s.js';
import { PART_OF } from './labels.js';
import { type RefreshPodProps, refreshPodTemplate } from './refresh-pod-template.js';

export interface NamespaceWatcherDeploymentProps extends RefreshPodProps {
  /** Namespace of the Deployment. @default - required */
  readonly namespace: string;
}

export const WATCHER_POD_LABELS = {
  'app.kubernetes.io/name': 'ecr-namespace-watcher',
  'app.kubernetes.io/component': 'watcher',
  ...PART_OF,
} as const;

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

/**
 * The namespace watcher: the refresh script in watch mode, one replica. It writes the pull
 * secret into namespaces created between two scheduled runs; the CronJob still refreshes
 * everything on schedule. Same image, hardening, ServiceAccount and AWS settings as the refresh
 * pod; `Recreate`, so two watchers never overlap.
 */
export class NamespaceWatcherDeployment extends Construct {
  static readonly NAME = 'ecr-namespace-watcher';

  constructor(scope: Construct, id: string, props: NamespaceWatcherDeploymentProps) {
    super(scope, id);
    const refresh = refreshPodTemplate(props);
    const [container] = refresh.spec?.containers ?? [];
    if (!container || !refresh.spec) throw new Error('the refresh pod template has no container');
    const template: PodTemplateSpec = {
      metadata: { labels: { ...WATCHER_POD_LABELS } },
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
            // Idle it waits on one watch stream; each batch of new namespaces briefly runs the
            // aws CLI and kubectl, as a refresh run does, hence the same memory limit.
            resources: {
              requests: { cpu: Quantity.fromString('10m'), memory: Quantity.fromString('64Mi') },
              limits: { cpu: Quantity.fromString('100m'), memory: Quantity.fromString('128Mi') },
            },
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
        selector: { matchLabels: { ...WATCHER_POD_LABELS } },
        template,
      },
    });
  }
}
