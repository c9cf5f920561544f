import { createHash } from 'node:crypto';
import { Construct } from 'constructs';
import { KubeJob } from '../../imports/k8s.js';
import { PART_OF } from './labels.js';
import { type RefreshPodProps } from './refresh-pod-template.js';
import { RefreshCronJob, refreshJobSpec } from './refresh-cron-job.js';
import type { RefreshScripts } from './refresh-script-config-map.js';

export interface InitialRefreshJobProps extends RefreshPodProps {
  /** Namespace of the Job. @default - required */
  readonly namespace: string;
  /** The refresh script files; a new script version gets a new Job, so it runs at once. @default - required */
  readonly scripts: RefreshScripts;
}

/**
 * One refresh right after apply, so pull secrets exist before the first scheduled run.
 * A Job's pod template is immutable, so the name carries a hash of everything that shapes the
 * run: re-applying unchanged output is a no-op, and after any change a new Job is created
 * instead of an "field is immutable" error. Finished Jobs clean themselves up after a day.
 */
export class InitialRefreshJob extends Construct {
  readonly name: string;

  constructor(scope: Construct, id: string, props: InitialRefreshJobProps) {
    super(scope, id);
    const spec = refreshJobSpec(props);
    const digest = createHash('sha256')
      .update(JSON.stringify(spec))
      .update(JSON.stringify(props.scripts))
      .digest('hex');
    this.name = `${RefreshCronJob.NAME}-initial-${digest.slice(0, 10)}`;
    new KubeJob(this, 'Resource', {
      metadata: { name: this.name, namespace: props.namespace, labels: { ...PART_OF } },
      spec: { ...spec, ttlSecondsAfterFinished: 86400 },
    });
  }
}
