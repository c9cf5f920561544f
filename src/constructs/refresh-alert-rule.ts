import { ApiObject } from 'cdk8s';
import { Construct } from 'constructs';
import { parseCron, runGaps } from '../validation/cron.js';
import { PART_OF } from './labels.js';
import { REFRESH_DEADLINE_SECONDS, RefreshCronJob } from './refresh-cron-job.js';

export interface RefreshAlertRuleProps {
  /** Namespace of the refresh CronJob (and of the PrometheusRule). @default - required */
  readonly namespace: string;
  /** The CronJob's schedule; the overdue threshold follows its longest gap. @default - required */
  readonly schedule: string;
  /** Extra labels of the PrometheusRule, for a Prometheus `ruleSelector` (e.g. `release`). @default - none */
  readonly labels?: Readonly<Record<string, string>>;
  /** Link to the runbook, the `runbook_url` annotation of both alerts. @default - no runbook_url */
  readonly runbookUrl?: string;
}

/**
 * How long each alert's condition must hold before it fires (`for:`): a kube-state-metrics
 * restart or a missed scrape drops the last-success series for a moment, and without `for:` the
 * "never succeeded" branch (or a failed Job's comparison with no success) fires at once.
 */
export const ALERT_FOR_MINUTES = 5;

/** Slack beyond a run's own deadline for a late start, a slow scrape, a Prometheus restart. */
export const ALERT_SLACK_MINUTES = 15;

/**
 * How long after its last success the refresh counts as overdue: the longest gap the schedule
 * leaves between two runs (the same calendar analysis that validates --schedule), plus the
 * longest a run may take before it records its success, plus the slack.
 */
export function overdueAfterMinutes(schedule: string): number {
  return runGaps(parseCron(schedule)).longestMinutes + REFRESH_DEADLINE_SECONDS / 60 + ALERT_SLACK_MINUTES;
}

function durationText(minutes: number): string {
  const hours = Math.floor(minutes / 60);
  const rest = minutes % 60;
  return rest === 0 ? `${hours}h` : `${hours}h${rest}m`;
}

/**
 * A prometheus-operator PrometheusRule on kube-state-metrics series (kube_cronjob_*, kube_job_*,
 * with the object's own `namespace` label, as kube-state-metrics is usually scraped with
 * honorLabels). Two alerts: the refresh is overdue, long enough before the 12h token expiry to
 * act; and a refresh Job failed since the last success, at once.
 */
export class RefreshAlertRule extends Construct {
  static readonly NAME = 'ecr-credential-refresh';
  static readonly OVERDUE_ALERT = 'EcrCredentialRefreshOverdue';
  static readonly JOB_FAILED_ALERT = 'EcrCredentialRefreshJobFailed';

  constructor(scope: Construct, id: string, props: RefreshAlertRuleProps) {
    super(scope, id);
    const ns = props.namespace;
    const cronJob = `namespace="${ns}", cronjob="${RefreshCronJob.NAME}"`;
    // Scheduled runs are CRONJOB-<minutes>, the first-run Job CRONJOB-initial-<hash>.
    const jobs = `namespace="${ns}", job_name=~"${RefreshCronJob.NAME}-.+"`;
    const overdueMinutes = overdueAfterMinutes(props.schedule);
    // The condition holds ALERT_FOR_MINUTES before the alert fires at overdueMinutes.
    const overdueSeconds = (overdueMinutes - ALERT_FOR_MINUTES) * 60;
    const lastSuccess = `max by (namespace, cronjob) (kube_cronjob_status_last_successful_time{${cronJob}})`;
    // runbook JOB: what to read and do, for the log of JOB; part of the description, so it reaches
    // whoever gets the alert without a link to follow.
    const runbook = (job: string): string =>
      `Read the Job's log: kubectl -n ${ns} logs job/${job} (the level=error lines; exit_code 2 = configuration, ` +
      `3 = AWS credentials, IAM or network to AWS, 4 = Kubernetes API, 5 = namespaces failed or conflicted, ` +
      `also listed by: kubectl -n ${ns} get events --field-selector reason=RefreshIncomplete). After the fix, ` +
      `refresh at once: kubectl -n ${ns} create job --from=cronjob/${RefreshCronJob.NAME} ${RefreshCronJob.NAME}-manual.`;
    const latestJob =
      `Find the latest refresh Job: kubectl -n ${ns} get jobs -l app.kubernetes.io/part-of=ecr-k8s-credentials ` +
      `--sort-by=.status.startTime (none at all: is the CronJob suspended, or kube-controller-manager down?). `;
    const runbookUrl = props.runbookUrl === undefined ? {} : { runbook_url: props.runbookUrl };
    new ApiObject(this, 'Resource', {
      apiVersion: 'monitoring.coreos.com/v1',
      kind: 'PrometheusRule',
      metadata: { name: RefreshAlertRule.NAME, namespace: ns, labels: { ...PART_OF, ...props.labels } },
      spec: {
        groups: [
          {
            name: 'ecr-k8s-credentials',
            rules: [
              {
                alert: RefreshAlertRule.OVERDUE_ALERT,
                // A CronJob that never succeeded has no last-success series: then its age counts.
                expr:
                  `time() - ${lastSuccess} > ${overdueSeconds}\n` +
                  `or (time() - max by (namespace, cronjob) (kube_cronjob_created{${cronJob}}) > ${overdueSeconds}\n` +
                  `  unless on (namespace, cronjob) ${lastSuccess})\n`,
                for: `${ALERT_FOR_MINUTES}m`,
                labels: { severity: 'critical' },
                annotations: {
                  summary: `ECR pull secrets in the cluster have not been refreshed for over ${durationText(overdueMinutes)}.`,
                  description:
                    `The CronJob ${ns}/${RefreshCronJob.NAME} has not completed a run for over ` +
                    `${durationText(overdueMinutes)}: its schedule "${props.schedule}" leaves at most ` +
                    `${durationText(overdueMinutes - REFRESH_DEADLINE_SECONDS / 60 - ALERT_SLACK_MINUTES)} between runs, ` +
                    `a run may take ${durationText(REFRESH_DEADLINE_SECONDS / 60)}, plus ${ALERT_SLACK_MINUTES}m of slack. ` +
                    `ECR tokens expire 12h after the last successful run; after that, pods cannot pull from ECR. ` +
                    latestJob +
                    runbook('JOB'),
                  ...runbookUrl,
                },
              },
              {
                alert: RefreshAlertRule.JOB_FAILED_ALERT,
                // Failed Jobs stay in the CronJob's history: only one that started after the last
                // success (or with no success yet) is news.
                expr:
                  `max by (namespace, job_name) (kube_job_failed{${jobs}, condition="true"}) == 1\n` +
                  `and on (namespace, job_name)\n` +
                  `  max by (namespace, job_name) (kube_job_status_start_time{${jobs}})\n` +
                  `  > on (namespace) group_left ()\n` +
                  `  (max by (namespace) (kube_cronjob_status_last_successful_time{${cronJob}})\n` +
                  `    or label_replace(vector(0), "namespace", "${ns}", "", ""))\n`,
                for: `${ALERT_FOR_MINUTES}m`,
                labels: { severity: 'warning' },
                annotations: {
                  summary: 'An ECR pull secret refresh Job failed.',
                  description:
                    `The Job ${ns}/{{ $labels.job_name }} failed after the last successful refresh. The pull ` +
                    `secrets it should have written keep their old token, which expires 12h after it was issued. ` +
                    runbook('{{ $labels.job_name }}'),
                  ...runbookUrl,
                },
              },
            ],
          },
        ],
      },
    });
  }
}
