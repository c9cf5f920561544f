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
        selector: { matchLabels: { ...WATCHER_POD_LABELS } },
        template,
      },
    });
  }
}
