import { Construct } from 'constructs';
import { type JobSpec, KubeCronJob, type PodFailurePolicyRule } from '../../imports/k8s.js';
import { PART_OF } from './labels.js';
import { type RefreshPodProps, refreshPodTemplate } from './refresh-pod-template.js';

export interface RefreshCronJobProps extends RefreshPodProps {
  /** Namespace of the CronJob. @default - required */
  readonly namespace: string;
  /** Cron schedule, already checked to leave less than 12h between runs. @default - required */
  readonly schedule: string;
}

/** The longest a refresh Job may run, retries included, before the Job controller fails it. */
export const REFRESH_DEADLINE_SECONDS = 900;

/** Bounds shared by the scheduled runs and the first-run Job. */
export function refreshJobSpec(props: RefreshPodProps): JobSpec {
  return {
    // Two retries (10 s, 20 s backoff) ride out an API server restart or a throttled AWS call;
    // a failure that survives them is real and should show as a failed Job.
    backoffLimit: 2,
    // Exit 2 (configuration) and 5 (a conflict, a 403/400/422: failures that come back the same)
    // would only repeat: fail the Job at once instead of three identical runs. Exit 6 (the only
    // failures were no answer, 429 or 5xx, after the script's own 30 s pause) and 1, 3, 4 keep
    // the retries.
    podFailurePolicy: {
      rules: [
        // The 1.28 types mark onPodConditions required; the API made it optional (1.29+), and an
        // empty list would read as a change on every client-side apply.
        {
          action: 'FailJob',
          onExitCodes: { containerName: 'refresh', operator: 'In', values: [2, 5] },
        } as PodFailurePolicyRule,
      ],
    },
    // A hung kubectl or AWS call must not hold the Forbid slot until the next schedule.
    activeDeadlineSeconds: REFRESH_DEADLINE_SECONDS,
    template: refreshPodTemplate(props),
  };
}

/** The refresh, every few hours, never two at once. */
export class RefreshCronJob extends Construct {
  static readonly NAME = 'ecr-credential-refresh';

  constructor(scope: Construct, id: string, props: RefreshCronJobProps) {
    super(scope, id);
    new KubeCronJob(this, 'Resource', {
      metadata: { name: RefreshCronJob.NAME, namespace: props.namespace, labels: { ...PART_OF } },
      spec: {
        schedule: props.schedule,
        // The gap check reads the schedule in UTC; without this the controller's local zone
        // applies, and a daylight-saving jump can stretch one gap by an hour.
        timeZone: 'Etc/UTC',
        concurrencyPolicy: 'Forbid',
        // A run that starts late still beats one skipped: skipping waits a whole interval,
        // which can outlast the previous token.
        startingDeadlineSeconds: 3600,
        successfulJobsHistoryLimit: 3,
        failedJobsHistoryLimit: 3,
        jobTemplate: { metadata: { labels: { ...PART_OF, ...props.labels } }, spec: refreshJobSpec(props) },
      },
    });
  }
}
