import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { describe, expect, test } from 'vitest';
import { runCommand } from '../src/command.js';
import { OPTIONS, OPTION_NAMES, type RawOptions } from '../src/options.js';
import { BAD_OPTIONS } from './bad-options.js';
import { treeHash } from './helpers.js';

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

/** The command in this process, as `npm run synth --` names itself. */
async function command(argv: readonly string[], name = 'npm run synth --'): Promise<Run> {
  let stdout = '';
  let stderr = '';
  const code = await runCommand(
    argv,
    { out: (text) => (stdout += `${text}\n`), err: (text) => (stderr += `${text}\n`) },
    name,
  );
  return { code, stdout, stderr };
}

/** An out dir holding a bundle the command wrote, to show a refused run leaves it as it was. */
async function bundleDir(): Promise<string> {
  const dir = join(mkdtempSync(join(tmpdir(), 'ecr-command-')), 'dist');
  expect((await command(['--out-dir', dir])).code).toBe(0);
  return dir;
}

/** Runs a bad command line: exit 1, only `message` on stderr, the out dir byte-identical. */
async function refused(argv: readonly string[], outDir: string): Promise<string> {
  const before = treeHash(outDir);
  const result = await command([...argv, '--out-dir', outDir]);
  expect(result.code).toBe(1);
  expect(result.stdout).toBe('');
  expect(treeHash(outDir)).toBe(before);
  return result.stderr;
}

/** The command line that gives `options`: lists repeat the flag, booleans say true or false. */
function argvOf(options: RawOptions): string[] {
  return OPTION_NAMES.flatMap((name) => {
    const value = options[name];
    const flag = `--${OPTIONS[name].flag}`;
    if (value === undefined) return [];
    // A value that starts with "-" would read as flags after a space, for yargs as for any parser.
    const pair = (item: string) => (item.startsWith('-') ? [`${flag}=${item}`] : [flag, item]);
    if (Array.isArray(value)) return value.flatMap(pair);
    if (typeof value === 'boolean') return [`${flag}=${String(value)}`];
    return pair(String(value));
  });
}

/** The config file that gives `options`, its keys the flag names. */
function configFileOf(options: RawOptions): string {
  const entries = OPTION_NAMES.filter((name) => options[name] !== undefined).map((name) => [
    OPTIONS[name].flag,
    options[name],
  ]);
  const path = join(mkdtempSync(join(tmpdir(), 'ecr-command-config-')), 'ecr.yaml');
  writeFileSync(path, stringify(Object.fromEntries(entries)));
  return path;
}

const ruleRows = BAD_OPTIONS.filter(([, options]) => !('outDir' in options));

describe('every validation rule, given as flags', () => {
  test.each(ruleRows)('%s: exit 1, the message, out dir unchanged', async (_name, options, message) => {
    const dir = await bundleDir();
    expect(await refused(argvOf(options), dir)).toBe(`error: ${message}\n`);
  });
});

describe('every validation rule, given in a config file', () => {
  test.each(ruleRows)('%s: exit 1, naming the key in the file, out dir unchanged', async (_name, options) => {
    const dir = await bundleDir();
    const path = configFileOf(options);
    const stderr = await refused(['--config', path], dir);
    const keys = OPTION_NAMES.filter((name) => options[name] !== undefined).map((name) => OPTIONS[name].flag);
    expect(stderr).toMatch(/^error: /);
    expect(stderr.split('\n')).toHaveLength(2);
    expect(keys.some((key) => stderr.startsWith(`error: "${key}" in ${path}`))).toBe(true);
  });
});

describe('booleans take true or false only', () => {
  test.each([
    ['--fips=yes', 'fips', 'yes'],
    ['--fips=1', 'fips', '1'],
    ['--watch-namespaces=maybe', 'watch-namespaces', 'maybe'],
    ['--prometheus-rule=nope', 'prometheus-rule', 'nope'],
    ['--ecr-public=yes', 'ecr-public', 'yes'],
    ['--network-policy=', 'network-policy', ''],
  ])('%s is refused naming the flag, the value and the fix', async (arg, flag, value) => {
    const dir = await bundleDir();
    expect(await refused([arg], dir)).toBe(
      `error: --${flag} "${value}" is not true or false. Use --${flag} (or --${flag}=true) to turn it on, --no-${flag} (or --${flag}=false) to turn it off.\n`,
    );
  });

  test.each([
    ['fips: yes', 'fips', '"yes"'],
    ['fips: 1', 'fips', '1'],
    ['watch-namespaces: maybe', 'watch-namespaces', '"maybe"'],
    ['prometheus-rule: nope', 'prometheus-rule', '"nope"'],
    ['ecr-public: "true"', 'ecr-public', '"true"'],
  ])('in a config file, %s is refused naming the key and the value', async (line, key, shown) => {
    const dir = await bundleDir();
    const path = join(mkdtempSync(join(tmpdir(), 'ecr-command-config-')), 'ecr.yaml');
    writeFileSync(path, `${line}\n`);
    expect(await refused(['--config', path], dir)).toBe(
      `error: --config "${path}": "${key}" is ${shown}; it must be true or false.\n`,
    );
  });

  test('--fips yes (space form) is refused too, not read as --fips and a stray word', async () => {
    const dir = await bundleDir();
    expect(await refused(['--fips', 'yes'], dir)).toContain('error: --fips "yes" is not true or false.');
  });

  test('--no-initial-job=false is refused: the negation takes no value', async () => {
    const dir = await bundleDir();
    expect(await refused(['--no-initial-job=false'], dir)).toBe(
      'error: --no-initial-job takes no value, got "false". Use --initial-job (or --initial-job=true) to turn it on, --no-initial-job (or --initial-job=false) to turn it off.\n',
    );
  });

  test('--network-policy with --no-network-policy is refused', async () => {
    const dir = await bundleDir();
    expect(await refused(['--network-policy', '--no-network-policy'], dir)).toMatch(
      /^error: --network-policy and --no-network-policy are both given\./,
    );
  });

  test.each([
    [['--fips'], true],
    [['--fips=true'], true],
    [['--fips', 'true'], true],
    [['--fips=false'], false],
    [['--fips', 'false'], false],
    [['--no-fips'], false],
  ])('%j is accepted as %s', async (argv, fips) => {
    const dir = join(mkdtempSync(join(tmpdir(), 'ecr-command-')), 'dist');
    const result = await command([...argv, '--out-dir', dir]);
    expect(result).toMatchObject({ code: 0, stderr: '' });
    expect(readFileSync(join(dir, '50-cron-job.yaml'), 'utf8').includes('AWS_USE_FIPS_ENDPOINT')).toBe(fips);
  });
});

describe('--ecr-public', () => {
  test.each([
    ['the flag', ['--ecr-public']],
    ['the config-file key', ['--config', 'CONFIG']],
  ])('given as %s, it sets ECR_PUBLIC=true in the CronJob', async (_how, argv) => {
    const config = join(mkdtempSync(join(tmpdir(), 'ecr-command-config-')), 'ecr.yaml');
    writeFileSync(config, 'ecr-public: true\n');
    const dir = join(mkdtempSync(join(tmpdir(), 'ecr-command-')), 'dist');
    const result = await command([...argv.map((arg) => (arg === 'CONFIG' ? config : arg)), '--out-dir', dir]);
    expect(result).toMatchObject({ code: 0, stderr: '' });
    expect(readFileSync(join(dir, '50-cron-job.yaml'), 'utf8')).toMatch(/name: ECR_PUBLIC\n\s+value: "true"\n/);
  });
});

describe('--no-proxy', () => {
  test('takes its value in the space form, as help and README show it', async () => {
    const dir = join(mkdtempSync(join(tmpdir(), 'ecr-command-')), 'dist');
    const result = await command(['--https-proxy', 'http://p:3128', '--no-proxy', '.corp', '--out-dir', dir]);
    expect(result).toMatchObject({ code: 0, stderr: '' });
    expect(readFileSync(join(dir, '50-cron-job.yaml'), 'utf8')).toMatch(/name: NO_PROXY\n\s+value: \.corp\n/);
  });
});

describe('the command names itself as it was started', () => {
  test.each([['npm run synth --'], ['ecr-k8s-credentials']])('usage line and hints: %s', async (name) => {
    const help = await command(['--help'], name);
    expect(help.stdout).toMatch(new RegExp(`^Usage: ${name.replace(/[-]/g, '\\-')} \\[options\\]\\n`));
    const unknown = await command(['--zzzzzzzz'], name);
    expect(unknown).toEqual({
      code: 1,
      stdout: '',
      stderr: `error: Unknown flag --zzzzzzzz. Run "${name} --help" to list every option.\n`,
    });
  });

  test('--version prints the version of package.json', async () => {
    const manifest = JSON.parse(readFileSync(join(import.meta.dirname, '..', 'package.json'), 'utf8')) as {
      version: string;
    };
    expect(await command(['--version'])).toEqual({ code: 0, stdout: `${manifest.version}\n`, stderr: '' });
  });
});

describe('file-system problems: one line naming the path, exit 1, nothing written', () => {
  test('--config naming a directory', async () => {
    const dir = await bundleDir();
    const config = mkdtempSync(join(tmpdir(), 'ecr-command-config-dir-'));
    expect(await refused(['--config', config], dir)).toBe(
      `error: --config "${config}" cannot be read: it is a directory. Give the path of a JSON or YAML file.\n`,
    );
  });

  test('two bundles, clusters/prod/ecr and clusters/staging/ecr, then --out-dir clusters: refused, both intact', async () => {
    const clusters = join(mkdtempSync(join(tmpdir(), 'ecr-command-')), 'clusters');
    expect((await command(['--out-dir', join(clusters, 'prod', 'ecr')])).code).toBe(0);
    expect((await command(['--out-dir', join(clusters, 'staging', 'ecr'), '--namespace', 'ecr-staging'])).code).toBe(0);
    const prod = treeHash(join(clusters, 'prod', 'ecr'));
    const staging = treeHash(join(clusters, 'staging', 'ecr'));
    expect(await refused([], clusters)).toBe(
      `error: --out-dir "${clusters}" holds another bundle, in "${join(clusters, 'prod', 'ecr')}"; a bundle needs a directory of its own, never one above another. Choose a new or empty directory, e.g. "${join(clusters, 'ecr-k8s-credentials')}".\n`,
    );
    expect(treeHash(join(clusters, 'prod', 'ecr'))).toBe(prod);
    expect(treeHash(join(clusters, 'staging', 'ecr'))).toBe(staging);
  });

  test('an out dir from a config file is named by its key there', async () => {
    const base = mkdtempSync(join(tmpdir(), 'ecr-command-'));
    writeFileSync(join(base, 'notes.txt'), 'mine');
    const config = join(mkdtempSync(join(tmpdir(), 'ecr-command-config-')), 'ecr.yaml');
    writeFileSync(config, `out-dir: ${base}\n`);
    const before = treeHash(base);
    expect(await command(['--config', config])).toEqual({
      code: 1,
      stdout: '',
      stderr: `error: "out-dir" in ${config} "${base}" holds "${join(base, 'notes.txt')}", which ecr-k8s-credentials did not write; it writes only into a directory that holds nothing but its own files. Move it away, or choose a new or empty directory.\n`,
    });
    expect(treeHash(base)).toBe(before);
  });

  test('an out dir inside a directory of other files: refused with them named', async () => {
    const base = mkdtempSync(join(tmpdir(), 'ecr-command-'));
    mkdirSync(join(base, 'src'));
    writeFileSync(join(base, 'src', 'main.ts'), 'export {};\n');
    const before = treeHash(base);
    const result = await command(['--out-dir', join(base, 'src')]);
    expect(result.code).toBe(1);
    expect(result.stderr).toBe(
      `error: --out-dir "${join(base, 'src')}" holds "${join(base, 'src', 'main.ts')}", which ecr-k8s-credentials did not write; it writes only into a directory that holds nothing but its own files. Move it away, or choose a new or empty directory.\n`,
    );
    expect(treeHash(base)).toBe(before);
  });
});
