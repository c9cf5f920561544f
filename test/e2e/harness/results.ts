// The refresh script's promise, read from its log: every selected namespace ends with exactly one
// result line (updated | skipped | conflict | failed) and the summary's counts add up to
// `selected`. Every e2e run that writes checks it with accountingErrors().

/** One logfmt line as key -> value. */
export interface LogRecord {
  readonly [key: string]: string | undefined;
}

/** Parses logfmt lines: key=value and key="quoted \"value\"". Other lines are ignored. */
export function parseLogfmt(text: string): LogRecord[] {
  return text
    .split('\n')
    .filter((line) => line.startsWith('level='))
    .map((line) => {
      const record: Record<string, string> = {};
      for (const match of line.matchAll(/([\w.-]+)=("(?:[^"\\]|\\.)*"|\S*)/g)) {
        const [, key, raw] = match;
        if (key === undefined || raw === undefined) continue;
        record[key] = raw.startsWith('"') ? raw.slice(1, -1).replace(/\\(.)/g, '$1') : raw;
      }
      return record;
    });
}

const RESULTS = ['updated', 'skipped', 'conflict', 'failed'] as const;

/**
 * What breaks the promise in one refresh run's stdout, as sentences; [] when every selected
 * namespace has exactly one result line and the summary adds up. A run that ended before any
 * namespace (a configuration, AWS or listing error: no namespace line, no summary) has nothing
 * to account for.
 */
export function accountingErrors(stdout: string): string[] {
  const records = parseLogfmt(stdout);
  const lines = records.filter((record) => record.event === 'namespace');
  const summary = records.find((record) => record.event === 'summary');
  if (summary === undefined) {
    return lines.length === 0 ? [] : [`${lines.length} namespace result line(s) but no summary line`];
  }
  const errors: string[] = [];
  const perNamespace = new Map<string, number>();
  const tally: Record<string, number> = { updated: 0, skipped: 0, conflict: 0, failed: 0 };
  for (const line of lines) {
    const name = line.namespace ?? '';
    perNamespace.set(name, (perNamespace.get(name) ?? 0) + 1);
    if (!(RESULTS as readonly string[]).includes(line.result ?? '')) {
      errors.push(`namespace ${name}: result "${line.result}" is none of ${RESULTS.join(', ')}`);
    } else {
      tally[line.result as string] = (tally[line.result as string] ?? 0) + 1;
    }
  }
  for (const [name, count] of perNamespace) {
    if (count !== 1) errors.push(`namespace ${name}: ${count} result lines`);
  }
  const selected = Number(summary.selected);
  const counted = RESULTS.reduce((sum, result) => sum + Number(summary[result]), 0);
  if (!Number.isInteger(selected) || counted !== selected) {
    errors.push(
      `summary: ${RESULTS.map((r) => `${r}=${summary[r]}`).join(' + ')} = ${counted}, not selected=${summary.selected}`,
    );
  }
  if (perNamespace.size !== selected) {
    errors.push(`${perNamespace.size} namespaces have a result line, selected=${summary.selected}`);
  }
  for (const result of RESULTS) {
    if (Number(summary[result]) !== tally[result]) {
      errors.push(`summary ${result}=${summary[result]}, but ${tally[result]} result=${result} lines`);
    }
  }
  return errors;
}
