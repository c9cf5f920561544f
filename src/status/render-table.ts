import type { NamespaceReport, Severity, StatusReport } from './report.js';

/** Up to this many target namespaces every row is shown; above it only those not fresh. */
export const ALL_ROWS_UP_TO = 30;

const CODES = { green: 32, yellow: 33, red: 31, bold: 1, dim: 2 } as const;
type Style = keyof typeof CODES;

/** Column layout that ignores colour codes when measuring. */
function columns(rows: readonly (readonly string[])[], indent = '  '): string[] {
  // eslint-disable-next-line no-control-regex
  const visible = (text: string) => text.replace(/\u001b\[[0-9;]*m/g, '').length;
  const widths: number[] = [];
  for (const row of rows) row.forEach((cell, i) => (widths[i] = Math.max(widths[i] ?? 0, visible(cell))));
  return rows.map(
    (row) =>
      indent +
      row
        .map((cell, i) => (i === row.length - 1 ? cell : cell + ' '.repeat((widths[i] ?? 0) - visible(cell) + 2)))
        .join('')
        .trimEnd(),
  );
}

const SEVERITY_STYLE: Record<Severity, Style> = { ok: 'green', warning: 'yellow', problem: 'red' };
const STATE_STYLE: Record<NamespaceReport['state'], Style> = {
  fresh: 'green',
  stale: 'yellow',
  expired: 'red',
  missing: 'red',
  conflict: 'red',
};

/**
 * The report for a person: the bundle, the namespaces, the blocked pods with cause and fix, and
 * the verdict last, where the eye lands. `color` only when stdout is a terminal.
 */
export function renderTable(report: StatusReport, color: boolean): string {
  const paint = (style: Style, text: string) => (color ? `\u001b[${CODES[style]}m${text}\u001b[0m` : text);
  const severity = (value: Severity) => paint(SEVERITY_STYLE[value], value);
  const { bundle } = report;
  const lines: string[] = [];

  lines.push(
    paint('bold', `Bundle in namespace ${bundle.namespace}`) +
      ` (Secret ${bundle.secretName}, checked ${report.checkedAt})`,
  );
  const parts: string[][] = [
    [
      'CronJob',
      bundle.cronJob.name,
      severity(bundle.cronJob.severity),
      `${bundle.cronJob.schedule}: ${bundle.cronJob.detail}`,
    ],
    bundle.lastJob
      ? ['last Job', bundle.lastJob.name, severity(bundle.lastJob.severity), bundle.lastJob.detail]
      : ['last Job', '-', severity('ok'), 'no Job yet'],
    bundle.watcher
      ? ['watcher', bundle.watcher.name, severity(bundle.watcher.severity), bundle.watcher.detail]
      : ['watcher', '-', '-', 'not installed'],
    bundle.scripts
      ? ['script', bundle.scripts.configMap, severity(bundle.scripts.severity), bundle.scripts.detail]
      : ['script', '-', '-', 'the CronJob mounts no ConfigMap'],
  ];
  lines.push(...columns(parts));
  const incomplete = bundle.lastJob?.refreshIncomplete;
  if (incomplete) {
    lines.push(`  RefreshIncomplete events: ${incomplete.events}; ${incomplete.message}`);
  }

  lines.push('');
  const { summary } = report;
  lines.push(
    paint('bold', 'Target namespaces') +
      ` ${summary.fresh} of ${summary.targetNamespaces} fresh` +
      (summary.targetNamespaces > ALL_ROWS_UP_TO ? ' (only those not fresh are listed)' : ''),
  );
  const rows = report.namespaces.filter((row) => summary.targetNamespaces <= ALL_ROWS_UP_TO || row.state !== 'fresh');
  if (rows.length > 0) {
    lines.push(
      ...columns([
        ['NAMESPACE', 'SECRET', 'REFRESHED AT', 'EXPIRES AT', 'REGISTRIES', 'FIELD MANAGER', 'SERVICEACCOUNTS'],
        ...rows.map((row) => [
          row.namespace,
          paint(STATE_STYLE[row.state], row.state),
          row.refreshedAt ?? '-',
          row.expiresAt ?? '-',
          row.registries.join(',') || '-',
          row.fieldManagers.join(',') || '-',
          row.serviceAccounts.join(',') || '-',
        ]),
      ]),
    );
  }

  lines.push('');
  lines.push(paint('bold', 'Pods that cannot pull from ECR') + ` ${report.blockedPods.length}`);
  for (const pod of report.blockedPods) {
    const owner = pod.owner === null ? '' : ` (${pod.owner.kind.toLowerCase()}/${pod.owner.name})`;
    const containers = pod.containers.map((container) => `${container.name} ${container.reason} ${container.image}`);
    lines.push(`  ${paint('bold', `${pod.namespace}/${pod.pod}`)}${owner} serviceaccount ${pod.serviceAccount}`);
    for (const container of containers) lines.push(`    container ${container}`);
    lines.push(`    cause: ${paint('red', pod.cause)}: ${pod.detail}`);
    pod.fix.forEach((command, i) => lines.push(`    ${i === 0 ? 'fix:   ' : '       '}${command}`));
  }

  lines.push('');
  if (report.exitCode === 0) {
    lines.push(paint('green', 'OK: every target namespace is fresh and no pod is blocked.'));
  } else {
    lines.push(paint('red', `${report.problems.length} problem(s):`));
    for (const problem of report.problems) lines.push(`  - ${problem}`);
  }
  return lines.join('\n') + '\n';
}
