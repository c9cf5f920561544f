import { Construct } from 'constructs';
import { KubeServiceAccount } from '../../imports/k8s.js';
import { PART_OF } from './labels.js';

export interface UpdaterServiceAccountProps {
  /** Namespace of the ServiceAccount. @default - required */
  readonly namespace: string;
  /** Name of the ServiceAccount. @default - required */
  readonly name: string;
}

/**
 * The identity the refresh runs as. Its token is not mounted by default; only the refresh pod
 * opts in, so nothing else scheduled with this account by mistake gets secret-writing rights.
 */
export class UpdaterServiceAccount extends Construct {
  readonly name: string;

  constructor(scope: Construct, id: string, props: UpdaterServiceAccountProps) {
    super(scope, id);
    this.name = props.name;
    new KubeServiceAccount(this, 'Resource', {
      metadata: { name: props.name, namespace: props.namespace, labels: { ...PART_OF } },
      automountServiceAccountToken: false,
    });
  }
}
