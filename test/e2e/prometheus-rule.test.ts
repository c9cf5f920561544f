// --prometheus-rule: the rendered rules pass `promtool check rules`, and `promtool test rules`
// with synthetic kube-state-metrics series shows when each alert fires and when it does not
// (promtool from the Prometheus Go module). The PrometheusRule applies to the real API server
// with prometheus-operator's CRD and strict field validation.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { beforeAll, describe, expect, test } from 'vitest';
import {
  bundleObject,
  cluster,
  e2eAvailable,
  installCrds,
  loadBundle,
  promtoolPath,
  synthBundle,
} from './harness/index.js';
import { run } from './harness/process.js';

const NAMESPACE = 'ecr-alerts';
const CRONJOB = 'ecr-credential-refresh';

interface Rule {
  alert: string;
  labels: Record<string, string>;
  annotations: Record<string, string>;
}
interface RuleSpec {
  groups: { name: string; rules: Rule[] }[];
}

/** One promtool unit test: series (minute-spaced values) and the alerts expected at each time. */
interface UnitTest {
  name: string;
  input_series: { series: string; values: string }[];
  alert_rule_test: { eval_time: string; alertname: string; exp_alerts: unknown[] }[];
}

describe.skipIf(!e2eAvailable.ok)('--prometheus-rule', () => {
  let dir: string;
  let spec: RuleSpec;
  let work: string;
  const rule = (alert: string): Rule => {
    const found = spec.groups[0]?.rules.find((candidate) => candidate.alert === alert);
    if (!found) throw new Error(`no ${alert} rule`);
    return found;
  };

  beforeAll(async () => {
    // Every 4 hours: overdue after 4h + 15m run deadline + 15m slack = 270 minutes.
    dir = await synthBundle([
      ...['--namespace', NAMESPACE, '--service-account', 'ecr-alerts-updater', '--no-initial-job'],
      ...['--schedule', '0 */4 * * *', '--prometheus-rule'],
    ]);
    spec = bundleObject(loadBundle(dir), 'PrometheusRule').spec as RuleSpec;
    work = mkdtempSync(join(tmpdir(), 'promtool-'));
    writeFileSync(join(work, 'rules.yaml'), stringify(spec));
  });

  async function promtool(...args: string[]): Promise<{ code: number; output: string }> {
    const result = await run(promtoolPath(), args, { cwd: work });
    return { code: result.code, output: result.stdout + result.stderr };
  }

  test('promtool is the pinned release (scripts/build-control-plane.sh PROMETHEUS_RELEASE)', async () => {
    const result = await promtool('--version');
    expect(result.output).toMatch(/^promtool, version 3\.16\.0 /);
  });

  test('promtool check rules accepts the rendered rules', async () => {
    const result = await promtool('check', 'rules', 'rules.yaml');
    expect(result).toEqual({ code: 0, output: expect.stringContaining('SUCCESS: 2 rules found') as unknown });
  });

  /** Runs `promtool test rules` on the given tests; code 0 only if every expectation held. */
  async function unitTest(tests: UnitTest[]): Promise<{ code: number; output: string }> {
    writeFileSync(
      join(work, 'tests.yaml'),
      stringify({
        rule_files: ['rules.yaml'],
        evaluation_interval: '1m',
        tests: tests.map((t) => ({ interval: '1m', ...t })),
      }),
    );
    return promtool('test', 'rules', 'tests.yaml');
  }

  const cronJobSeries = (metric: string) => `${metric}{namespace="${NAMESPACE}", cronjob="${CRONJOB}"}`;
  const overdue = () => {
    const { labels, annotations } = rule('EcrCredentialRefreshOverdue');
    return { exp_labels: { ...labels, namespace: NAMESPACE, cronjob: CRONJOB }, exp_annotations: annotations };
  };

  test('overdue: fires once the last success is older than 270 minutes, not before', async () => {
    const result = await unitTest([
      {
        name: 'last success at t=0, none since',
        input_series: [
          { series: cronJobSeries('kube_cronjob_created'), values: '0x400' },
          { series: cronJobSeries('kube_cronjob_status_last_successful_time'), values: '0x400' },
        ],
        alert_rule_test: [
          { eval_time: '269m', alertname: 'EcrCredentialRefreshOverdue', exp_alerts: [] },
          { eval_time: '270m', alertname: 'EcrCredentialRefreshOverdue', exp_alerts: [] },
          { eval_time: '271m', alertname: 'EcrCredentialRefreshOverdue', exp_alerts: [overdue()] },
        ],
      },
      {
        name: 'a success at 4h resets the clock',
        input_series: [
          { series: cronJobSeries('kube_cronjob_created'), values: '0x400' },
          // 0 until minute 240, then 14400 (the success at 4h).
          { series: cronJobSeries('kube_cronjob_status_last_successful_time'), values: '0x239 14400x160' },
        ],
        alert_rule_test: [
          { eval_time: '300m', alertname: 'EcrCredentialRefreshOverdue', exp_alerts: [] },
          { eval_time: '400m', alertname: 'EcrCredentialRefreshOverdue', exp_alerts: [] },
        ],
      },
      {
        name: 'never succeeded: the CronJob age counts',
        input_series: [{ series: cronJobSeries('kube_cronjob_created'), values: '0x400' }],
        alert_rule_test: [
          { eval_time: '269m', alertname: 'EcrCredentialRefreshOverdue', exp_alerts: [] },
          { eval_time: '271m', alertname: 'EcrCredentialRefreshOverdue', exp_alerts: [overdue()] },
        ],
      },
    ]);
    expect(result).toEqual({ code: 0, output: expect.stringContaining('SUCCESS') as unknown });
  });

  test('the test above can fail: expecting no alert at 271 minutes is reported', async () => {
    const result = await unitTest([
      {
        name: 'wrong on purpose',
        input_series: [{ series: cronJobSeries('kube_cronjob_status_last_successful_time'), values: '0x400' }],
        alert_rule_test: [{ eval_time: '271m', alertname: 'EcrCredentialRefreshOverdue', exp_alerts: [] }],
      },
    ]);
    expect(result.code).not.toBe(0);
    expect(result.output).toContain('EcrCredentialRefreshOverdue');
  });

  const JOB = `${CRONJOB}-29000000`;
  const jobSeries = (metric: string, extra = '') => `${metric}{namespace="${NAMESPACE}", job_name="${JOB}"${extra}}`;
  const jobFailed = () => {
    const { labels, annotations } = rule('EcrCredentialRefreshJobFailed');
    return {
      exp_labels: { ...labels, namespace: NAMESPACE, job_name: JOB },
      exp_annotations: Object.fromEntries(
        Object.entries(annotations).map(([key, value]) => [key, value.replaceAll('{{ $labels.job_name }}', JOB)]),
      ),
    };
  };

  test('job failed: fires for a failed Job newer than the last success, and stops after the next success', async () => {
    const result = await unitTest([
      {
        name: 'failed Job started at 10m, last success at 0',
        input_series: [
          { series: jobSeries('kube_job_failed', ', condition="true"'), values: '0x10 1x100' },
          { series: jobSeries('kube_job_status_start_time'), values: '600x110' },
          { series: cronJobSeries('kube_cronjob_status_last_successful_time'), values: '0x60 3660x49' },
        ],
        alert_rule_test: [
          { eval_time: '5m', alertname: 'EcrCredentialRefreshJobFailed', exp_alerts: [] },
          { eval_time: '30m', alertname: 'EcrCredentialRefreshJobFailed', exp_alerts: [jobFailed()] },
          // The success at 61m is newer than the failed Job, which stays in the history.
          { eval_time: '90m', alertname: 'EcrCredentialRefreshJobFailed', exp_alerts: [] },
        ],
      },
      {
        name: 'failed Job, no success ever',
        input_series: [
          { series: jobSeries('kube_job_failed', ', condition="true"'), values: '1x60' },
          { series: jobSeries('kube_job_status_start_time'), values: '60x60' },
        ],
        alert_rule_test: [{ eval_time: '10m', alertname: 'EcrCredentialRefreshJobFailed', exp_alerts: [jobFailed()] }],
      },
    ]);
    expect(result).toEqual({ code: 0, output: expect.stringContaining('SUCCESS') as unknown });
  });

  test('the PrometheusRule applies with the prometheus-operator CRD and strict field validation', async () => {
    await installCrds();
    const { kubectl } = cluster();
    await kubectl(['apply', '--server-side', '--validate=strict', '-f', dir]);
    const live = JSON.parse(
      (await kubectl(['get', 'prometheusrule', 'ecr-credential-refresh', '-n', NAMESPACE, '-o', 'json'])).stdout,
    ) as { spec: RuleSpec };
    expect(live.spec).toEqual(spec);
  });
});
