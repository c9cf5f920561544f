import { execFile } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { byIdentity, filesIn, objectsIn } from '../helpers.js';
import { apiReport } from './api-report.js';
import { installPackedPackage } from './install.js';

/**
 * The package as a user gets it: `npm pack`, the tarball installed into an empty project with
 * no network (dependencies from the npm cache `npm ci` filled), then the README's examples run
 * there against the installed copy only.
 */

const REPO = join(import.meta.dirname, '..', '..');
const TSC = join(REPO, 'node_modules', '.bin', 'tsc');
const TSX = join(REPO, 'node_modules', '.bin', 'tsx');
const execFileAsync = promisify(execFile);

interface Result {
  code: number;
  stdout: string;
  stderr: string;
}

async function run(command: string, args: readonly string[], cwd: string): Promise<Result> {
  try {
    const { stdout, stderr } = await execFileAsync(command, args, { cwd, encoding: 'utf8' });
    return { code: 0, stdout, stderr };
  } catch (error) {
    const failed = error as { code: number; stdout: string; stderr: string };
    return { code: failed.code, stdout: failed.stdout, stderr: failed.stderr };
  }
}

async function ok(command: string, args: readonly string[], cwd: string): Promise<string> {
  const result = await run(command, args, cwd);
  if (result.code !== 0)
    throw new Error(`${command} ${args.join(' ')} exited ${result.code}:\n${result.stdout}\n${result.stderr}`);
  return result.stdout;
}

/** The first fenced block of `language` in the README section under `heading`. */
function readmeBlock(heading: string, language: string): string {
  const readme = readFileSync(join(REPO, 'README.md'), 'utf8');
  const section = readme.split(/^## /m).find((part) => part.startsWith(`${heading}\n`));
  const block = section?.match(new RegExp('```' + language + '\\n([\\s\\S]*?)```'))?.[1];
  if (block === undefined) throw new Error(`README: no ${language} block under "## ${heading}"`);
  return block;
}

/** A directory of the test project holding `files`, with a tsconfig for ES modules. */
function projectDir(name: string, files: Record<string, string>): string {
  const dir = join(app, name);
  mkdirSync(dir);
  const tsconfig = {
    compilerOptions: { target: 'ES2022', module: 'NodeNext', moduleResolution: 'NodeNext', strict: true },
    files: Object.keys(files).filter((file) => file.endsWith('.ts')),
  };
  writeFileSync(join(dir, 'tsconfig.json'), JSON.stringify(tsconfig));
  for (const [file, text] of Object.entries(files)) writeFileSync(join(dir, file), text);
  return dir;
}

const work = mkdtempSync(join(tmpdir(), 'ecr-pack-'));
const app = join(work, 'app');
let tarball = '';

beforeAll(async () => {
  tarball = await installPackedPackage(work, app);
}, 240_000);

afterAll(() => rmSync(work, { recursive: true, force: true }));

describe('the packed package', () => {
  test('holds the compiled modules, declarations and refresh scripts, and no TypeScript sources', async () => {
    const files = (await ok('tar', ['-tzf', join(work, tarball)], work)).trim().split('\n');
    expect(files).toEqual(
      expect.arrayContaining([
        'package/lib/src/index.js',
        'package/lib/src/index.d.ts',
        'package/lib/src/main.js',
        'package/lib/imports/k8s.js',
        'package/lib/src/scripts/refresh-ecr-credentials.sh',
        'package/scripts/bootstrap-iam.sh',
        'package/scripts/bootstrap-iam/web-identity.sh',
        'package/LICENSE',
      ]),
    );
    const scripts = readdirSync(join(REPO, 'src', 'scripts')).filter((name) => name.endsWith('.sh'));
    for (const name of scripts) expect(files).toContain(`package/lib/src/scripts/${name}`);
    const parts = readdirSync(join(REPO, 'scripts', 'bootstrap-iam')).filter((name) => name.endsWith('.sh'));
    for (const name of parts) expect(files).toContain(`package/scripts/bootstrap-iam/${name}`);
    expect(files.filter((file) => /\.ts$/.test(file) && !file.endsWith('.d.ts'))).toEqual([]);
    expect(files.filter((file) => file.startsWith('package/test/') || file.startsWith('package/dist/'))).toEqual([]);
  });

  test('ships the Apache-2.0 license text that package.json names', async () => {
    const manifest = JSON.parse(await ok('tar', ['-xzOf', join(work, tarball), 'package/package.json'], work)) as {
      license: string;
    };
    expect(manifest.license).toBe('Apache-2.0');
    const license = await ok('tar', ['-xzOf', join(work, tarball), 'package/LICENSE'], work);
    expect(license).toBe(readFileSync(join(REPO, 'LICENSE'), 'utf8'));
    expect(license).toContain('Apache License\n                           Version 2.0, January 2004');
    expect(license).toContain('END OF TERMS AND CONDITIONS');
  });

  test('the command, run as the README shows, writes what npm run synth writes from the same config', async () => {
    writeFileSync(join(app, 'ecr.yaml'), readmeBlock('Use as a command', 'yaml'));
    const command = readmeBlock('Use as a command', 'sh')
      .split('\n')
      .find((line) => line.startsWith('npx ecr-k8s-credentials '))!;
    const result = await run('sh', ['-c', command], app);
    expect(result).toMatchObject({ code: 0, stdout: 'Wrote 9 files to clusters/prod/ecr/\n' });

    const expected = join(work, 'expected');
    await ok(TSX, [join(REPO, 'src', 'main.ts'), '--config', join(app, 'ecr.yaml'), '--out-dir', expected], REPO);
    const written = filesIn(join(app, 'clusters', 'prod', 'ecr'));
    expect(written).toEqual(filesIn(expected));
    expect(written['50-cron-job.yaml']).toContain('schedule: 0 */4 * * *');
  });

  test('the installed command names itself ecr-k8s-credentials and prints its version', async () => {
    const bin = join(app, 'node_modules', '.bin', 'ecr-k8s-credentials');
    const manifest = JSON.parse(readFileSync(join(REPO, 'package.json'), 'utf8')) as { version: string };
    expect((await run(bin, ['--help'], app)).stdout).toMatch(/^Usage: ecr-k8s-credentials \[options\]\n/);
    expect(await run(bin, ['--version'], app)).toEqual({ code: 0, stdout: `${manifest.version}\n`, stderr: '' });
    expect(await run(bin, ['--zzzzzzzz'], app)).toEqual({
      code: 1,
      stdout: '',
      stderr: 'error: Unknown flag --zzzzzzzz. Run "ecr-k8s-credentials --help" to list every option.\n',
    });
  });

  test('bad input: the same message and exit code as npm run synth, nothing written', async () => {
    const args = ['--out-dir', 'never', '--schedule', '0 */13 * * *'];
    const installed = await run(join(app, 'node_modules', '.bin', 'ecr-k8s-credentials'), args, app);
    const repo = await run(TSX, [join(REPO, 'src', 'main.ts'), ...args], work);
    expect(installed).toEqual(repo);
    expect(installed.code).toBe(1);
    expect(installed.stderr).toContain('--schedule "0 */13 * * *" leaves a 13h gap');
    expect(readdirSync(app)).not.toContain('never');
  });
});

describe('the construct from the installed package', () => {
  test("the README's TypeScript app compiles, runs and renders the command's objects", async () => {
    const dir = projectDir('construct', { 'main.ts': readmeBlock('Use as a cdk8s construct', 'ts') });
    await ok(TSC, ['-p', dir], dir);
    await ok('node', ['main.js'], dir);

    const bin = join(app, 'node_modules', '.bin', 'ecr-k8s-credentials');
    const flags = ['--schedule', '0 */4 * * *', '--namespace', 'platform-ecr', '--exclude-namespaces', 'kube-*'];
    const registry = ['--registry', '210987654321.dkr.ecr.eu-west-1.amazonaws.com'];
    await ok(bin, [...flags, ...registry, '--out-dir', 'by-command'], dir);
    const byCommand = filesIn(join(dir, 'by-command'));
    const applied = Object.entries(byCommand)
      .filter(([path]) => path.endsWith('.yaml'))
      .flatMap(([, text]) => objectsIn(text));

    const rendered = objectsIn(readFileSync(join(dir, 'dist', 'platform.k8s.yaml'), 'utf8'));
    expect(byIdentity(rendered)).toEqual(byIdentity(applied));
    expect(rendered.map((object) => object.kind)).toContain('CronJob');

    const template = objectsIn(readFileSync(join(dir, 'templates', 'aws-credentials.k8s.yaml'), 'utf8'));
    expect(template).toEqual(objectsIn(byCommand['templates/aws-credentials-secret.yaml.template']!));
  });

  test('a bad schedule: one ConfigError naming the prop, with the rule text of the command', async () => {
    const dir = projectDir('bad-schedule', {
      'main.mjs': `import { App, Chart } from 'cdk8s';
import { ConfigError, EcrCredentialRefresh } from 'ecr-k8s-credentials';
try {
  new EcrCredentialRefresh(new Chart(new App(), 'platform'), 'ecr', { schedule: '0 */13 * * *' });
} catch (error) {
  console.log(JSON.stringify({ isConfigError: error instanceof ConfigError, problems: error.problems }));
}
`,
    });
    expect(JSON.parse(await ok('node', ['main.mjs'], dir))).toEqual({
      isConfigError: true,
      problems: [
        'schedule "0 */13 * * *" leaves a 13h gap between runs; ECR tokens expire after 12h. Use an interval of at most 11h, e.g. "0 */6 * * *".',
      ],
    });
  });

  test('props are typed: tsc rejects a misspelt prop, a wrong type and an unknown choice', async () => {
    const dir = projectDir('typed', {
      'main.ts': `import { App, Chart } from 'cdk8s';
import { EcrCredentialRefresh } from 'ecr-k8s-credentials';
const chart = new Chart(new App(), 'platform');
new EcrCredentialRefresh(chart, 'a', { schedul: '0 */6 * * *' });
new EcrCredentialRefresh(chart, 'b', { networkPolicy: 'no' });
new EcrCredentialRefresh(chart, 'c', { gitops: 'argo' });
`,
    });
    const result = await run(TSC, ['-p', dir], dir);
    expect(result.code).not.toBe(0);
    expect(result.stdout).toContain("'schedul' does not exist in type 'EcrCredentialRefreshProps'");
    expect(result.stdout).toContain("Type 'string' is not assignable to type 'boolean | undefined'");
    expect(result.stdout).toContain(`Type '"argo"' is not assignable to type 'GitOpsTool | undefined'`);
  });
});

describe('the public API', () => {
  // A change here is a change for every user: review the diff, then `npm run test:pack -- -u`.
  test('is the reviewed one: entry points and declarations with their docs', async () => {
    await expect(apiReport(join(app, 'node_modules', 'ecr-k8s-credentials'))).toMatchFileSnapshot(
      '__snapshots__/public-api.d.ts.txt',
    );
  });

  test('the runtime exports are the declared values', async () => {
    const script = "import('ecr-k8s-credentials').then((m) => console.log(Object.keys(m).sort().join(' ')))";
    expect(await ok('node', ['-e', script], app)).toBe(
      'AwsCredentialsSecretTemplate ConfigError EcrCredentialRefresh readRefreshScripts\n',
    );
  });
});
