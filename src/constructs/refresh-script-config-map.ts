import { Construct } from 'constructs';
import { KubeConfigMap } from '../../imports/k8s.js';
import { PART_OF } from './labels.js';

/** The refresh script and the parts it sources, by file name. */
export type RefreshScripts = Readonly<Record<string, string>>;

export interface RefreshScriptConfigMapProps {
  /** Namespace of the ConfigMap. @default - required */
  readonly namespace: string;
  /** The script files, read from src/scripts at synth time; one ConfigMap key each. @default - required */
  readonly scripts: RefreshScripts;
}

/**
 * Ships the refresh script, so the image needs nothing of ours and stays a stock alpine/k8s. The
 * entry script sources its parts from its own directory, where the volume mounts every key.
 */
export class RefreshScriptConfigMap extends Construct {
  /** The entry script, the one the pod runs. */
  static readonly KEY = 'refresh-ecr-credentials.sh';
  readonly name = 'ecr-credential-refresh-script';

  constructor(scope: Construct, id: string, props: RefreshScriptConfigMapProps) {
    super(scope, id);
    new KubeConfigMap(this, 'Resource', {
      metadata: { name: this.name, namespace: props.namespace, labels: { ...PART_OF } },
      data: { ...props.scripts },
    });
  }
}
