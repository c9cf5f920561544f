import { Chart } from 'cdk8s';
import { Construct } from 'constructs';
import { DEFAULTS, type EcrCredentialsConfig } from './config.js';
import { AwsCredentialsSecretTemplate } from './constructs/aws-credentials-secret-template.js';
import { EcrCredentialRefresh } from './constructs/ecr-credential-refresh.js';
import type { RefreshScripts } from './constructs/refresh-script-config-map.js';
import { PROP_NAMES } from './options.js';

export interface EcrCredentialsChartProps {
  /** Validated settings. @default - required */
  readonly config: EcrCredentialsConfig;
  /** The refresh script files by name. @default - required */
  readonly scripts: RefreshScripts;
}

/**
 * Everything `kubectl apply -f dist` installs: the construct users of cdk8s put in their own
 * charts, with the command's settings. No side effects: the entry point and the tests build the
 * same chart.
 */
export class EcrCredentialsChart extends Chart {
  /** Its children's construct ids are the bundle's file layout (see bundle.ts). */
  readonly refresh: EcrCredentialRefresh;

  constructor(scope: Construct, id: string, props: EcrCredentialsChartProps) {
    // Namespaces are set per object: a chart namespace would be stamped on cluster-scoped ones too.
    super(scope, id, { disableResourceNameHashes: true });
    // Only what differs from the defaults is passed, as a user would: the construct refuses
    // options given for another mode (a key Secret name with web identity, say).
    const settings = Object.fromEntries(
      PROP_NAMES.filter((name) => JSON.stringify(props.config[name]) !== JSON.stringify(DEFAULTS[name])).map((name) => [
        name,
        props.config[name],
      ]),
    );
    this.refresh = new EcrCredentialRefresh(this, 'Refresh', { ...settings, scripts: props.scripts });
  }
}

export interface AwsCredentialsTemplateChartProps {
  /** Validated settings. @default - required */
  readonly config: EcrCredentialsConfig;
}

/** The credentials Secret template: a chart of its own so it can never end up in the applied set. */
export class AwsCredentialsTemplateChart extends Chart {
  constructor(scope: Construct, id: string, props: AwsCredentialsTemplateChartProps) {
    super(scope, id, { disableResourceNameHashes: true });
    new AwsCredentialsSecretTemplate(this, 'AwsCredentials', {
      namespace: props.config.namespace,
      name: props.config.awsSecretName,
      region: props.config.region,
    });
  }
}
