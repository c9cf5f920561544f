import { Construct } from 'constructs';
import { KubeNamespace } from '../../imports/k8s.js';
import { PART_OF } from './labels.js';

export interface UpdaterNamespaceProps {
  /** Name of the namespace the updater runs in. @default - required */
  readonly name: string;
}

/**
 * The updater's own namespace, enforcing Pod Security "restricted": the refresh pod is built to
 * pass it, and nothing less hardened can be scheduled next to the AWS keys.
 */
export class UpdaterNamespace extends Construct {
  readonly name: string;

  constructor(scope: Construct, id: string, props: UpdaterNamespaceProps) {
    super(scope, id);
    this.name = props.name;
    new KubeNamespace(this, 'Resource', {
      metadata: {
        name: props.name,
        labels: {
          ...PART_OF,
          'pod-security.kubernetes.io/enforce': 'restricted',
          'pod-security.kubernetes.io/enforce-version': 'latest',
          'pod-security.kubernetes.io/warn': 'restricted',
          'pod-security.kubernetes.io/audit': 'restricted',
        },
      },
    });
  }
}
