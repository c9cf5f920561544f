import yargs from 'yargs';
import { CONTENDERS, type ContenderId } from './contenders.js';

export interface BenchOptions {
  /** Namespace counts to measure, in order. */
  readonly sizes: readonly number[];
  /** Timed update runs per contender and size. */
  readonly runs: number;
  readonly contenders: readonly ContenderId[];
  /** The original loop runs only up to this many namespaces; beyond, it is extrapolated. */
  readonly originalMaxN: number;
  /** The validated floor runs once, only up to this many namespaces. */
  readonly validatedFloorMaxN: number;
  /** kubectl for the scripts; undefined picks a 1.30 one, as alpine/k8s:1.30.7 has. */
  readonly kubectl: string | undefined;
  /** Extra environment for our script, e.g. ECR_APPLY_BATCH_SIZE=50. */
  readonly scriptEnv: Readonly<Record<string, string>>;
  readonly distDir: string;
  readonly synthRuns: number;
  /** Write bench/results.json, docs/benchmarks.md and docs/benchmarks.png. */
  readonly write: boolean;
  /** Measure nothing: redraw docs/ from the existing bench/results.json. */
  readonly reportOnly: boolean;
}

const USAGE = `Usage: npm run bench -- [options]

Times our refresh script (from dist/), the original article's loop and the floor (one kubectl
apply --server-side of the same Secrets) on a real kube-apiserver with N namespaces, and writes
bench/results.json, docs/benchmarks.md and docs/benchmarks.png.`;

function positiveInteger(flag: string, text: string): number {
  if (!/^[1-9]\d*$/.test(text)) throw new Error(`--${flag} "${text}" must be a positive integer, e.g. 3`);
  return Number(text);
}

/** Parses argv; returns undefined after printing --help. */
export async function parseBenchArgs(argv: readonly string[]): Promise<BenchOptions | undefined> {
  const parser = yargs([...argv])
    .scriptName('bench')
    .usage(USAGE)
    .options({
      sizes: { type: 'string', default: '100,1000,5000', describe: 'Comma-separated namespace counts' },
      runs: { type: 'string', default: '3', describe: 'Timed update runs per contender and size' },
      contenders: { type: 'string', default: CONTENDERS.join(','), describe: 'Which to run' },
      'original-max-n': {
        type: 'string',
        default: '5000',
        describe:
          'Largest size the original loop runs at (~0.2 s per namespace; only once where a run takes over 10 min); larger sizes are extrapolated',
      },
      'validated-floor-max-n': {
        type: 'string',
        default: '1000',
        describe: 'Largest size the validated floor runs at (once)',
      },
      kubectl: {
        type: 'string',
        describe: 'kubectl for the scripts [default: a kubectl 1.30, as in alpine/k8s:1.30.7]',
      },
      'script-env': { type: 'string', array: true, default: [], describe: 'KEY=VALUE for our script (repeatable)' },
      dist: { type: 'string', default: 'dist', describe: 'Rendered bundle to take the script, env and RBAC from' },
      'synth-runs': { type: 'string', default: '5', describe: 'Timed runs of npm run synth' },
      write: { type: 'boolean', default: true, describe: 'Write results.json and docs/ (--no-write: print only)' },
      'report-only': {
        type: 'boolean',
        default: false,
        describe: 'Measure nothing; redraw docs/benchmarks.md and .png from bench/results.json',
      },
    })
    .strictOptions()
    .version(false)
    .wrap(100)
    .exitProcess(false)
    .fail((message: string, error: Error | undefined) => {
      throw error ?? new Error(`${message}. Run "npm run bench -- --help".`);
    });
  const parsed = await parser.parseAsync();
  if (parsed.help === true) return undefined;

  const contenders = parsed.contenders.split(',').map((name) => {
    if (!(CONTENDERS as readonly string[]).includes(name)) {
      throw new Error(`--contenders: unknown "${name}"; choose from ${CONTENDERS.join(', ')}`);
    }
    return name as ContenderId;
  });
  const scriptEnv: Record<string, string> = {};
  for (const pair of parsed['script-env']) {
    const match = /^([A-Z_][A-Z0-9_]*)=(.*)$/s.exec(pair);
    if (match?.[1] === undefined || match[2] === undefined) {
      throw new Error(`--script-env "${pair}" must be KEY=VALUE, e.g. ECR_APPLY_BATCH_SIZE=50`);
    }
    scriptEnv[match[1]] = match[2];
  }
  return {
    // Ascending: a size the original skips is extrapolated from the smaller ones before it.
    sizes: parsed.sizes
      .split(',')
      .map((size) => positiveInteger('sizes', size.trim()))
      .sort((a, b) => a - b),
    runs: positiveInteger('runs', parsed.runs),
    contenders,
    originalMaxN: positiveInteger('original-max-n', parsed['original-max-n']),
    validatedFloorMaxN: positiveInteger('validated-floor-max-n', parsed['validated-floor-max-n']),
    kubectl: parsed.kubectl,
    scriptEnv,
    distDir: parsed.dist,
    synthRuns: positiveInteger('synth-runs', parsed['synth-runs']),
    write: parsed.write,
    reportOnly: parsed['report-only'],
  };
}
