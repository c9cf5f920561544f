import { Construct } from 'constructs';
import { KubeSecret } from '../../imports/k8s.js';
import { recommendedLabels } from './labels.js';

export interface AwsCredentialsSecretTemplateProps {
  /** Namespace the refresh runs in. @default - required */
  readonly namespace: string;
  /** Name of the Secret. @default - required */
  readonly name: string;
  /** AWS region the credentials' own registry lives in. @default - required */
  readonly region: string;
}

export const PLACEHOLDER = 'REPLACE_ME';

/**
 * The shape of the Secret the refresh reads its AWS keys from, with placeholders. It is written
 * outside what `kubectl apply -f`/`-k` pick up: applying it on every sync would overwrite the
 * real keys. scripts/bootstrap-iam.sh creates the real one.
 */
export class AwsCredentialsSecretTemplate extends Construct {
  constructor(scope: Construct, id: string, props: AwsCredentialsSecretTemplateProps) {
    super(scope, id);
    new KubeSecret(this, 'Resource', {
      metadata: {
        name: props.name,
        namespace: props.namespace,
        labels: recommendedLabels({
          name: 'ecr-credential-refresh',
          instance: props.namespace,
          component: 'credentials',
        }),
      },
      type: 'Opaque',
      stringData: {
        AWS_ACCESS_KEY_ID: PLACEHOLDER,
        AWS_SECRET_ACCESS_KEY: PLACEHOLDER,
        AWS_REGION: props.region,
        // Optional for the script, but without it every run asks STS through the aws CLI.
        AWS_ACCOUNT_ID: PLACEHOLDER,
      },
    });
  }
}
