// The mutation check of the shell scripts: applies each one-line mutation of
// scripts/mutations/shell-mutations.ts, one at a time, to a scratch copy of the repository (never
// to the working tree), re-renders dist/ when the mutated file is one the bundle ships, runs only
// the e2e tests the entry names (E2E_REQUIRED=1) and reports whether they noticed.
//
//   npx tsx scripts/mutations/run.ts            every mutation
//   npx tsx scripts/mutations/run.ts --check    only that every pattern matches one line and
//                                               every named test exists (seconds)
//   npx tsx scripts/mutations/run.ts --only ID[,ID...]   the named mutations
//   npx tsx scripts/mutations/run.ts --baseline also runs each entry's tests unmutated first:
//                                               a test that fails without the mutation proves nothing
//
// Each mutation ends as one of: killed (a named test failed), survived (all named tests passed:
// a promise no test holds), pattern-missing (the line is gone or no longer unique: re-target it),
// test-missing (a named test file or title is gone), no-tests (the filter selected no test) or
// error (the run broke before a test ran). Exit 0 only when every mutation is killed.
import { spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { SHELL_MUTATIONS, type ShellMutation } from './shell-mutations.js';

const REPO_ROOT = fileURLToPath(new URL('../..', import.meta.url));
const REPORT_DIR = join(REPO_ROOT, 'reports', 'mutation');
/** One mutation's e2e run may not take longer than this (a hung script still ends). */
const RUN_TIMEOUT_MS = 20 * 60_000;

export type Outcome = 'killed' | 'survived' | 'pattern-missing' | 'test-missing' | 'no-tests' | 'error' | 'applies';

interface Result {
  readonly id: string;
  readonly outcome: Outcome;
  readonly seconds: number;
  readonly detail: string;
}

interface Options {
  readonly check: boolean;
  readonly baseline: boolean;
  readonly only: readonly string[] | undefined;
}

function parseArgs(argv: readonly string[]): Options {
  let check = false;
  let baseline = false;
  let only: string[] | undefined;
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (arg === '--check') check = true;
    else if (arg === '--baseline') baseline = true;
    else if (arg === '--only') only = (argv[++i] ?? '').split(',').filter(Boolean);
    else if (arg?.startsWith('--only=')) only = arg.slice('--only='.length).split(',').filter(Boolean);
    else throw new Error(`unknown argument "${arg}"; use --check, --baseline or --only ID[,ID...]`);
  }
  return { check, baseline, only };
}

/** Where the mutation applies: the index of the one line that holds `line` (and, if given, whose previous line holds `after`). */
export function locate(text: string, mutation: ShellMutation): { index: number } | { problem: string } {
  const lines = text.split('\n');
  const hits: number[] = [];
  lines.forEach((line, index) => {
    if (!line.includes(mutation.line)) return;
    if (mutation.after !== undefined && !(lines[index - 1] ?? '').includes(mutation.after)) return;
    hits.push(index + 1);
  });
  if (hits.length === 1) return { index: (hits[0] ?? 1) - 1 };
  const what = mutation.after === undefined ? '' : ` after a line holding ${JSON.stringify(mutation.after)}`;
  return hits.length === 0
    ? { problem: `no line of ${mutation.file} holds ${JSON.stringify(mutation.line)}${what}` }
    : {
        problem: `${hits.length} lines of ${mutation.file} hold ${JSON.stringify(mutation.line)}${what} (lines ${hits.join(', ')}); make it unique`,
      };
}

/** The file's text with the mutation applied, or the reason it cannot be. */
export function mutate(text: string, mutation: ShellMutation): { text: string } | { problem: string } {
  const found = locate(text, mutation);
  if ('problem' in found) return found;
  const lines = text.split('\n');
  const before = lines[found.index] ?? '';
  const after = before.replace(mutation.line, () => mutation.replacement);
  if (after === before) return { problem: `the replacement leaves line ${found.index + 1} unchanged` };
  lines[found.index] = after;
  return { text: lines.join('\n') };
}

/** Whether every named test file exists and holds each title (titles are literal text of the test's name). */
function missingTests(root: string, mutation: ShellMutation): string | undefined {
  for (const test of mutation.tests) {
    const file = join(root, test.file);
    if (!existsSync(file)) return `${test.file} does not exist`;
    if (!readFileSync(file, 'utf8').includes(test.name))
      return `${test.file} has no test named ${JSON.stringify(test.name)}`;
  }
  return undefined;
}

const escapeRegExp = (text: string): string => text.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');

/** The files (tracked, and new ones not ignored) of the working tree, copied into `dir`; node_modules linked. */
function makeScratch(): string {
  const dir = mkdtempSync(join(tmpdir(), 'ecr-mutations-'));
  const listed = spawnSync('git', ['ls-files', '-z', '--cached', '--others', '--exclude-standard'], {
    cwd: REPO_ROOT,
    encoding: 'utf8',
  });
  if (listed.status !== 0) throw new Error(`git ls-files failed: ${listed.stderr}`);
  for (const file of listed.stdout.split('\0').filter(Boolean)) {
    const from = join(REPO_ROOT, file);
    if (!existsSync(from)) continue; // deleted in the working tree
    mkdirSync(dirname(join(dir, file)), { recursive: true });
    cpSync(from, join(dir, file), { verbatimSymlinks: true });
  }
  symlinkSync(join(REPO_ROOT, 'node_modules'), join(dir, 'node_modules'));
  return dir;
}

/** Renders dist/ in the scratch copy as `npm run synth` does; the e2e suite reads the scripts from there. */
function synth(root: string): string | undefined {
  const out = spawnSync(join(root, 'node_modules', '.bin', 'tsx'), [join(root, 'src', 'main.ts')], {
    cwd: root,
    encoding: 'utf8',
  });
  return out.status === 0 ? undefined : `synth failed: ${out.stderr}${out.stdout}`;
}

interface TestRun {
  readonly passed: number;
  readonly failed: number;
  readonly failedTitles: readonly string[];
  readonly problem: string | undefined;
}

interface VitestJson {
  testResults?: { assertionResults?: { status: string; fullName: string }[] }[];
}

/** Runs the named tests in `root` with vitest's JSON report; counts what ran. */
function runTests(root: string, mutation: ShellMutation, logFile: string): TestRun {
  const files = [...new Set(mutation.tests.map((test) => test.file))];
  const pattern = mutation.tests.map((test) => `(${escapeRegExp(test.name)})`).join('|');
  const jsonFile = `${logFile}.json`;
  rmSync(jsonFile, { force: true });
  const out = spawnSync(
    join(root, 'node_modules', '.bin', 'vitest'),
    [
      ...['run', '-c', 'vitest.e2e.config.ts', ...files, '-t', pattern],
      ...['--reporter=default', '--reporter=json', `--outputFile.json=${jsonFile}`],
    ],
    { cwd: root, encoding: 'utf8', env: { ...process.env, E2E_REQUIRED: '1' }, timeout: RUN_TIMEOUT_MS },
  );
  writeFileSync(logFile, `${out.stdout}\n${out.stderr}`);
  if (!existsSync(jsonFile)) {
    const why = out.error ? out.error.message : `vitest exited ${out.status ?? 'by signal'} without a report`;
    return { passed: 0, failed: 0, failedTitles: [], problem: `${why} (log: ${logFile})` };
  }
  const report = JSON.parse(readFileSync(jsonFile, 'utf8')) as VitestJson;
  const results = (report.testResults ?? []).flatMap((file) => file.assertionResults ?? []);
  const failed = results.filter((result) => result.status === 'failed');
  return {
    passed: results.filter((result) => result.status === 'passed').length,
    failed: failed.length,
    failedTitles: failed.map((result) => result.fullName),
    problem:
      out.status !== 0 && failed.length === 0
        ? `vitest exited ${out.status} with no failed test (log: ${logFile})`
        : undefined,
  };
}

function runOne(root: string, pristineDist: string, mutation: ShellMutation, opts: Options): Result {
  const started = performance.now();
  const done = (outcome: Outcome, detail: string): Result => ({
    id: mutation.id,
    outcome,
    seconds: Math.round((performance.now() - started) / 1000),
    detail,
  });
  const file = join(root, mutation.file);
  if (!existsSync(file)) return done('pattern-missing', `${mutation.file} does not exist`);
  const original = readFileSync(file, 'utf8');
  const mutated = mutate(original, mutation);
  if ('problem' in mutated) return done('pattern-missing', mutated.problem);
  const missing = missingTests(root, mutation);
  if (missing !== undefined) return done('test-missing', missing);
  if (opts.check) return done('applies', 'the line and the tests are there (--check: not run)');

  const logFile = join(REPORT_DIR, `${mutation.id}.log`);
  if (opts.baseline) {
    const base = runTests(root, mutation, `${logFile}.baseline`);
    if (base.failed > 0 || base.problem !== undefined || base.passed === 0) {
      return done('error', `unmutated, the tests do not pass: ${base.problem ?? base.failedTitles.join('; ')}`);
    }
  }
  const ships = mutation.file.startsWith('src/scripts/');
  writeFileSync(file, mutated.text);
  try {
    if (ships) {
      const failed = synth(root);
      if (failed !== undefined) return done('error', failed);
    }
    const tests = runTests(root, mutation, logFile);
    if (tests.failed > 0) return done('killed', `failed: ${tests.failedTitles.join('; ')}`);
    if (tests.problem !== undefined) return done('error', tests.problem);
    if (tests.passed === 0) return done('no-tests', `the filter selected no test (log: ${logFile})`);
    return done('survived', `${tests.passed} test(s) passed with the mutation (log: ${logFile})`);
  } finally {
    writeFileSync(file, original);
    if (ships) {
      rmSync(join(root, 'dist'), { recursive: true, force: true });
      cpSync(pristineDist, join(root, 'dist'), { recursive: true });
    }
  }
}

function main(): number {
  const opts = parseArgs(process.argv.slice(2));
  const ids = new Set(SHELL_MUTATIONS.map((mutation) => mutation.id));
  if (ids.size !== SHELL_MUTATIONS.length) throw new Error('two mutations share an id');
  for (const id of opts.only ?? []) {
    if (!ids.has(id)) throw new Error(`--only: no mutation "${id}"; ids: ${[...ids].join(', ')}`);
  }
  const selected = SHELL_MUTATIONS.filter((mutation) => opts.only?.includes(mutation.id) ?? true);
  mkdirSync(REPORT_DIR, { recursive: true });
  // --check reads the working tree itself: nothing is written there.
  const root = opts.check ? REPO_ROOT : makeScratch();
  const pristineDist = opts.check ? '' : join(mkdtempSync(join(tmpdir(), 'ecr-mutations-dist-')), 'dist');
  if (!opts.check) {
    // dist/ as the scratch copy's own sources render it, so only the mutation differs.
    const failed = synth(root);
    if (failed !== undefined) throw new Error(failed);
    cpSync(join(root, 'dist'), pristineDist, { recursive: true });
    console.log(`[mutations] scratch copy: ${root}`);
  }
  const started = performance.now();
  const results: Result[] = [];
  for (const mutation of selected) {
    const result = runOne(root, pristineDist, mutation, opts);
    results.push(result);
    console.log(`[mutations] ${result.outcome.padEnd(15)} ${mutation.id} (${result.seconds} s): ${result.detail}`);
  }
  const seconds = Math.round((performance.now() - started) / 1000);
  if (!opts.check) {
    rmSync(root, { recursive: true, force: true });
    rmSync(dirname(pristineDist), { recursive: true, force: true });
  }
  const count = (outcome: Outcome): number => results.filter((result) => result.outcome === outcome).length;
  const killed = count('killed');
  const good: Outcome = opts.check ? 'applies' : 'killed';
  const summary = opts.check
    ? `${count('applies')} of ${results.length} mutations apply and name existing tests`
    : `${killed} of ${results.length} mutations killed in ${seconds} s`;
  const problems = results.filter((result) => result.outcome !== good);
  console.log(`[mutations] ${summary}`);
  for (const problem of problems) console.log(`[mutations]   ${problem.outcome}: ${problem.id}: ${problem.detail}`);
  if (!opts.check) {
    writeFileSync(
      join(REPORT_DIR, 'shell.json'),
      `${JSON.stringify({ finishedAt: new Date().toISOString(), seconds, killed, total: results.length, results }, null, 2)}\n`,
    );
  }
  return problems.length === 0 ? 0 : 1;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  process.exitCode = main();
}
