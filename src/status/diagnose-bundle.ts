import { NamespaceWatcherDeployment } from '../constructs/namespace-watcher-deployment.js';
import { overdueAfterMinutes } from '../constructs/refresh-alert-rule.js';
import type { RefreshScripts } from '../constructs/refresh-script-config-map.js';
import type { ClusterState, Event, Job } from './kube-objects.js';
import type {
  BundleReport,
  CronJobReport,
  JobReport,
  RefreshIncompleteReport,
  ScriptsReport,
  WatcherReport,
} from './report.js';
import type { RunSettings } from './refresh-settings.js';

/** What the installed package would ship, to compare the cluster's ConfigMap against. */
export interface PackageScripts {
  readonly version: string;
  readonly scripts: RefreshScripts;
}

const REFRESH_INCOMPLETE = 'RefreshIncomplete';
const VERSION_LABEL = 'app.kubernetes.io/version';

const time = (text: string | undefined): number | null => {
  if (text === undefined) return null;
  const ms = Date.parse(text);
  return Number.isNaN(ms) ? null : ms;
};

/** "6h30m", "45m", "2d3h": how long ago, for sentences. */
export function durationText(ms: number): string {
  const minutes = Math.max(0, Math.round(ms / 60_000));
  if (minutes < 60) return `${minutes}m`;
  const hours = Math.floor(minutes / 60);
  if (hours < 48) return minutes % 60 === 0 ? `${hours}h` : `${hours}h${minutes % 60}m`;
  return hours % 24 === 0 ? `${Math.floor(hours / 24)}d` : `${Math.floor(hours / 24)}d${hours % 24}h`;
}

const conditionTrue = (job: Job, type: string) =>
  job.status?.conditions?.find((condition) => condition.type === type && condition.status === 'True');

function jobStart(job: Job): number {
  return time(job.status?.startTime) ?? time(job.metadata.creationTimestamp) ?? 0;
}

/** The newest successful refresh the cluster records, as epoch ms. */
function lastRefresh(state: ClusterState): number | null {
  const times = [
    time(state.cronJob.status?.lastSuccessfulTime),
    ...state.jobs.filter((job) => conditionTrue(job, 'Complete')).map((job) => time(job.status?.completionTime)),
  ].filter((value): value is number => value !== null);
  return times.length === 0 ? null : Math.max(...times);
}

function cronJobReport(state: ClusterState, now: number): CronJobReport {
  const { cronJob } = state;
  const overdue = overdueAfterMinutes(cronJob.spec.schedule);
  const last = lastRefresh(state);
  const created = time(cronJob.metadata.creationTimestamp) ?? now;
  const base = {
    name: cronJob.metadata.name,
    schedule: cronJob.spec.schedule,
    suspended: cronJob.spec.suspend === true,
    lastScheduleTime: cronJob.status?.lastScheduleTime ?? null,
    lastSuccessfulTime: cronJob.status?.lastSuccessfulTime ?? null,
    lastRefreshTime: last === null ? null : new Date(last).toISOString(),
    overdueAfterMinutes: overdue,
  };
  const resume = `kubectl -n ${state.bundleNamespace} patch cronjob ${cronJob.metadata.name} -p '{"spec":{"suspend":false}}'`;
  if (base.suspended) {
    return { ...base, severity: 'problem', detail: `the CronJob is suspended: no refresh runs (${resume})` };
  }
  if (last === null) {
    return now - created > overdue * 60_000
      ? {
          ...base,
          severity: 'problem',
          detail: `no refresh has succeeded since the CronJob was created ${durationText(now - created)} ago`,
        }
      : { ...base, severity: 'ok', detail: 'no refresh has succeeded yet' };
  }
  return now - last > overdue * 60_000
    ? {
        ...base,
        severity: 'problem',
        detail: `the last successful refresh was ${durationText(now - last)} ago (overdue after ${durationText(overdue * 60_000)})`,
      }
    : { ...base, severity: 'ok', detail: `last successful refresh ${durationText(now - last)} ago` };
}

const INCOMPLETE_COUNTS =
  /^(\d+) of (\d+) selected namespace\(s\) not refreshed: (\d+) failed, (\d+) conflicted\b.*?; (\d+) updated, (\d+) skipped/;

/** The counts of the refresh script's RefreshIncomplete message (ecr-events.sh, event_message). */
export function refreshIncomplete(events: readonly Event[]): RefreshIncompleteReport | null {
  const newest = [...events].sort(
    (a, b) => (time(b.lastTimestamp ?? b.eventTime) ?? 0) - (time(a.lastTimestamp ?? a.eventTime) ?? 0),
  )[0];
  if (newest === undefined) return null;
  const message = newest.message ?? '';
  const counts = INCOMPLETE_COUNTS.exec(message)?.slice(2).map(Number);
  return {
    events: events.reduce((sum, event) => sum + (event.count ?? 1), 0),
    selected: counts?.[0] ?? null,
    failed: counts?.[1] ?? null,
    conflicted: counts?.[2] ?? null,
    updated: counts?.[3] ?? null,
    skipped: counts?.[4] ?? null,
    message,
  };
}

function lastJobReport(state: ClusterState, now: number): JobReport | null {
  const job = [...state.jobs].sort((a, b) => jobStart(b) - jobStart(a))[0];
  if (job === undefined) return null;
  const events = state.events.filter(
    (event) =>
      event.reason === REFRESH_INCOMPLETE &&
      (event.involvedObject.uid !== undefined && job.metadata.uid !== undefined
        ? event.involvedObject.uid === job.metadata.uid
        : event.involvedObject.name === job.metadata.name),
  );
  const incomplete = refreshIncomplete(events);
  const failed = conditionTrue(job, 'Failed');
  const complete = conditionTrue(job, 'Complete');
  const result = complete ? 'succeeded' : failed ? 'failed' : 'running';
  const logs = `kubectl -n ${state.bundleNamespace} logs job/${job.metadata.name}`;
  const started = job.status?.startTime ?? job.metadata.creationTimestamp;
  const when = started === undefined ? '' : ` started ${durationText(now - (time(started) ?? now))} ago`;
  let detail: string;
  if (result === 'failed') {
    detail = `failed (${failed?.reason ?? 'no reason given'})${when}${incomplete ? `: ${incomplete.message}` : ''}; read: ${logs}`;
  } else if (result === 'succeeded') {
    detail = `succeeded${when}`;
  } else {
    detail = `running${when}`;
  }
  return {
    name: job.metadata.name,
    startTime: job.status?.startTime ?? null,
    completionTime: job.status?.completionTime ?? null,
    result,
    reason: failed?.reason ?? null,
    refreshIncomplete: incomplete,
    severity: result === 'failed' ? 'problem' : 'ok',
    detail,
  };
}

function watcherReport(state: ClusterState): WatcherReport | null {
  const deployment = state.deployments.find((item) => item.metadata.name === NamespaceWatcherDeployment.NAME);
  if (deployment === undefined) return null;
  const replicas = deployment.spec?.replicas ?? 1;
  const ready = deployment.status?.readyReplicas ?? 0;
  return {
    name: deployment.metadata.name,
    replicas,
    readyReplicas: ready,
    severity: ready >= replicas ? 'ok' : 'problem',
    detail:
      ready >= replicas
        ? `${ready}/${replicas} ready`
        : `${ready}/${replicas} ready: new namespaces wait for the next scheduled run; read: kubectl -n ${state.bundleNamespace} describe deployment ${deployment.metadata.name}`,
  };
}

function scriptsReport(state: ClusterState, settings: RunSettings, installed: PackageScripts): ScriptsReport | null {
  if (settings.scriptConfigMap === null) return null;
  const configMap = state.configMaps.find((item) => item.metadata.name === settings.scriptConfigMap);
  const bundleVersion = configMap?.metadata.labels?.[VERSION_LABEL] ?? null;
  const data = configMap?.data ?? {};
  const names = [...new Set([...Object.keys(data), ...Object.keys(installed.scripts)])].sort();
  const differing = names.filter((name) => data[name] !== installed.scripts[name]);
  const base = {
    configMap: settings.scriptConfigMap,
    packageVersion: installed.version,
    bundleVersion,
    matchesPackage: configMap !== undefined && differing.length === 0,
    differingFiles: differing,
  };
  if (configMap === undefined) {
    return {
      ...base,
      severity: 'problem',
      detail: `ConfigMap ${settings.scriptConfigMap} is missing: no run can start`,
    };
  }
  // An older or newer bundle still refreshes: worth knowing before an upgrade, not a failure.
  return differing.length === 0
    ? { ...base, severity: 'ok', detail: `the scripts of package ${installed.version}` }
    : {
        ...base,
        severity: 'warning',
        detail: `differs from package ${installed.version}${bundleVersion === null ? '' : ` (bundle labelled ${bundleVersion})`} in ${differing.join(', ')}; re-synthesize and apply to upgrade`,
      };
}

/** The bundle's own health: its schedule, its last run, its watcher, its script. */
export function diagnoseBundle(
  state: ClusterState,
  settings: RunSettings,
  installed: PackageScripts,
  now: number,
): BundleReport {
  return {
    namespace: state.bundleNamespace,
    secretName: settings.secretName,
    cronJob: cronJobReport(state, now),
    lastJob: lastJobReport(state, now),
    watcher: watcherReport(state),
    scripts: scriptsReport(state, settings, installed),
  };
}
