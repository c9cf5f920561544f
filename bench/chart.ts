import { createHash } from 'node:crypto';
import { existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { cacheDir, which } from '../test/e2e/harness/prerequisites.js';
import { run } from '../test/e2e/harness/process.js';

const REQUIREMENTS = fileURLToPath(new URL('./requirements.txt', import.meta.url));
const CHART_SCRIPT = fileURLToPath(new URL('./chart.py', import.meta.url));
const PIP_TIMEOUT_MS = 10 * 60_000;

export type ChartOutcome = { readonly ok: true } | { readonly ok: false; readonly why: string };

/**
 * A venv with the pinned matplotlib, next to the e2e suite's in the machine cache; rebuilt when
 * bench/requirements.txt changes (the stamp is written last, so a half-built venv is redone).
 */
async function chartPython(): Promise<string> {
  const venv = join(cacheDir(), 'bench-venv');
  const python = join(venv, 'bin', 'python');
  const stamp = join(venv, '.requirements.sha256');
  const want = createHash('sha256').update(readFileSync(REQUIREMENTS)).digest('hex');
  if (existsSync(python) && existsSync(stamp) && readFileSync(stamp, 'utf8').trim() === want) return python;
  const python3 = which('python3');
  if (python3 === undefined) throw new Error('python3 is not installed');
  console.log(`[bench] creating ${venv} for the chart (pip install -r ${REQUIREMENTS})`);
  rmSync(venv, { recursive: true, force: true });
  const steps: [string, string[]][] = [
    [python3, ['-m', 'venv', venv]],
    [python, ['-m', 'pip', 'install', '--quiet', '--disable-pip-version-check', '-r', REQUIREMENTS]],
  ];
  for (const [command, args] of steps) {
    const result = await run(command, args, { timeoutMs: PIP_TIMEOUT_MS });
    if (result.code !== 0) throw new Error(`${command} ${args.join(' ')} failed:\n${result.stderr.slice(-2_000)}`);
  }
  writeFileSync(stamp, `${want}\n`);
  return python;
}

/** Draws the PNG with bench/chart.py. A failure is reported, not thrown: the numbers still count. */
export async function renderChart(resultsFile: string, pngFile: string): Promise<ChartOutcome> {
  try {
    const python = await chartPython();
    const result = await run(python, [CHART_SCRIPT, resultsFile, pngFile]);
    if (result.code !== 0) return { ok: false, why: `chart.py failed: ${result.stderr.slice(-1_000)}` };
    return { ok: true };
  } catch (err) {
    return { ok: false, why: err instanceof Error ? err.message : String(err) };
  }
}
