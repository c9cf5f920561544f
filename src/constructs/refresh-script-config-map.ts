import { Construct } from 'constructs';
import { KubeConfigMap } from '../../imports/k8s.js';
import { PART_OF } from './labels.js';

export interface RefreshScriptConfigMapProps {
  /** Namespace of the ConfigMap. @default - required */
  readonly namespace: string;
  /** The refresh script's text, read from src/scripts at synth time. @default - required */
  readonly script: string;
}

/** Ships the refresh script, so the image needs nothing of ours and stays a stock alpine/k8s. */
export class RefreshScriptConfigMap extends Construct {
  static readonly KEY = 'refresh-ecr-credentials.sh';
  readonly name = 'ecr-credential-refresh-script';

  constructor(scope: Construct, id: string, props: RefreshScriptConfigMapProps) {
    super(scope, id);
    new KubeConfigMap(this, 'Resource', {
      metadata: { name: this.name, namespace: props.namespace, labels: { ...PART_OF } },
      data: { [RefreshScriptConfigMap.KEY]: props.script },
    });
  }
}
