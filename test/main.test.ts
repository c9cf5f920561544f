import { execFile } from 'node:child_process';
import { execFileSync } from 'node:child_process';
import {
  chmodSync,
  chownSync,
  cpSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, test } from 'vitest';
import { treeHash } from './helpers.js';

const run = promisify(execFile);
const TSX = join(import.meta.dirname, '..', 'node_modules', '.bin', 'tsx');
const MAIN = join(import.meta.dirname, '..', 'src', 'main.ts');

/** As root, file permissions stop nobody: the runs that need them refused run as nobody instead. */
const AS_ROOT = process.getuid?.() === 0;
const NOBODY = 65534;

interface SynthOptions {
  readonly cwd?: string;
  readonly unprivileged?: boolean;
}

async function synth(
  args: string[],
  options: SynthOptions = {},
): Promise<{ code: number; stdout: string; stderr: string }> {
  const user = options.unprivileged && AS_ROOT ? { uid: NOBODY, gid: NOBODY } : {};
  try {
    const { stdout, stderr } = await run(TSX, [MAIN, ...args], { encoding: 'utf8', cwd: options.cwd, ...user });
    return { code: 0, stdout, stderr };
  } catch (error) {
    const failed = error as { code: number; stdout: string; stderr: string };
    return { code: failed.code, stdout: failed.stdout, stderr: failed.stderr };
  }
}

function contents(dir: string): Record<string, string> {
  return Object.fromEntries(
    readdirSync(dir, { recursive: true, withFileTypes: true })
      .filter((entry) => entry.isFile())
      .map((entry) => [join(entry.parentPath, entry.name), readFileSync(join(entry.parentPath, entry.name), 'utf8')]),
  );
}

// Each case starts a real process (tsx + node); generous time for a loaded CI machine.
describe('npm run synth', { timeout: 60_000 }, () => {
  const base = mkdtempSync(join(tmpdir(), 'ecr-main-'));

  test('writes the bundle and says where', async () => {
    const outDir = join(base, 'ok');
    const result = await synth(['--out-dir', outDir]);
    expect(result).toMatchObject({ code: 0, stderr: '' });
    expect(result.stdout).toBe(`Wrote 9 files to ${outDir}/\n`);
    expect(readdirSync(outDir).sort()).toEqual([
      '.ecr-k8s-credentials-files',
      '00-namespace.yaml',
      '10-service-account.yaml',
      '20-rbac.yaml',
      '30-network-policy.yaml',
      '40-refresh-script.yaml',
      '50-cron-job.yaml',
      '60-initial-job.yaml',
      'Kustomization',
      'templates',
    ]);
  });

  test('--inject-pull-secret: the policy file, and the Kubernetes version it needs', async () => {
    const outDir = join(base, 'inject');
    const result = await synth(['--out-dir', outDir, '--inject-pull-secret']);
    expect(result).toMatchObject({ code: 0, stderr: '' });
    expect(result.stdout).toBe(
      `Wrote 10 files to ${outDir}/\n` +
        'note: 75-pull-secret-injection.yaml needs Kubernetes 1.36 or newer (MutatingAdmissionPolicy, ' +
        'admissionregistration.k8s.io/v1); on older clusters use --patch-service-accounts instead.\n',
    );
    expect(readdirSync(outDir)).toContain('75-pull-secret-injection.yaml');
  });

  test('bad input: message without stack trace, exit 1, out dir untouched', async () => {
    const outDir = join(base, 'kept');
    await synth(['--out-dir', outDir]);
    const before = contents(outDir);
    const result = await synth(['--out-dir', outDir, '--no-initial-job', '--schedule', '0 */13 * * *']);
    expect(result.code).toBe(1);
    expect(result.stderr).toBe(
      'error: --schedule "0 */13 * * *" leaves a 13h gap between runs; ECR tokens expire after 12h. Use an interval of at most 11h, e.g. "0 */6 * * *".\n',
    );
    expect(result.stdout).toBe('');
    expect(contents(outDir)).toEqual(before);
  });

  test('unknown flag: names it and suggests the right one', async () => {
    const result = await synth(['--out-dir', join(base, 'never'), '--exclude-namespace', 'kube-*']);
    expect(result.code).toBe(1);
    expect(result.stderr).toBe('error: Unknown flag --exclude-namespace. Did you mean --exclude-namespaces?\n');
    expect(() => readdirSync(join(base, 'never'))).toThrow();
  });

  test('--config file with flags overriding it', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'ecr-main-config-'));
    cpSync(join(import.meta.dirname, 'fixtures', 'config.yaml'), join(dir, 'config.yaml'));
    const outDir = join(dir, 'dist');
    const result = await synth([
      '--config',
      join(dir, 'config.yaml'),
      '--out-dir',
      outDir,
      '--image',
      'alpine/k8s:1.31.2',
    ]);
    expect(result.code).toBe(0);
    const cronJob = readFileSync(join(outDir, '50-cron-job.yaml'), 'utf8');
    expect(cronJob).toContain('schedule: 30 */4 * * *');
    expect(cronJob).toContain('image: alpine/k8s:1.31.2');
    expect(readdirSync(outDir)).not.toContain('30-network-policy.yaml');
  });

  test('--help lists every option with its default and exits 0', async () => {
    const result = await synth(['--help']);
    expect(result.code).toBe(0);
    for (const flag of ['--out-dir', '--schedule', '--registry', '--no-network-policy', '--config', '--memory-limit']) {
      expect(result.stdout.replace('--no-network-policy', '--network-policy')).toContain(flag.replace('--no-', '--'));
    }
    expect(result.stdout).toContain('[default: 0 */6 * * *]');
  });

  test('--version prints the version', async () => {
    const manifest = JSON.parse(readFileSync(join(import.meta.dirname, '..', 'package.json'), 'utf8')) as {
      version: string;
    };
    expect(await synth(['--version'])).toEqual({ code: 0, stdout: `${manifest.version}\n`, stderr: '' });
  });

  test('usage names npm run synth --, the way this repository starts it', async () => {
    expect((await synth(['--help'])).stdout).toMatch(/^Usage: npm run synth -- \[options\]\n/);
  });

  test('--fips=yes: exit 1, the flag named, out dir unchanged', async () => {
    const outDir = join(base, 'fips');
    await synth(['--out-dir', outDir]);
    const before = treeHash(outDir);
    const result = await synth(['--out-dir', outDir, '--fips=yes']);
    expect(result).toEqual({
      code: 1,
      stdout: '',
      stderr:
        'error: --fips "yes" is not true or false. Use --fips (or --fips=true) to turn it on, --no-fips (or --fips=false) to turn it off.\n',
    });
    expect(treeHash(outDir)).toBe(before);
  });

  test('--out-dir . in a clone of the repository: refused, dist/ intact', async () => {
    // A repository with this one's dist/, made with `git init` rather than cloned: the copy a
    // mutation-testing sandbox runs in has no .git to clone from.
    const clone = join(mkdtempSync(join(tmpdir(), 'ecr-main-clone-')), 'repo');
    execFileSync('git', ['init', '--quiet', clone]);
    cpSync(join(import.meta.dirname, '..', 'dist'), join(clone, 'dist'), { recursive: true });
    const before = treeHash(clone);
    const dist = treeHash(join(clone, 'dist'));
    const result = await synth(['--out-dir', '.'], { cwd: clone });
    expect(result).toEqual({
      code: 1,
      stdout: '',
      stderr:
        'error: --out-dir "." is the root of a repository (it holds .git); the bundle needs a directory of its own. Use a new directory below it, e.g. "ecr-k8s-credentials".\n',
    });
    expect(treeHash(join(clone, 'dist'))).toBe(dist);
    expect(treeHash(clone)).toBe(before);
  });
});

/** A directory the test's user can write to; with AS_ROOT, owned by nobody, who runs there. */
function writableBase(): string {
  const dir = mkdtempSync(join(tmpdir(), 'ecr-main-fs-'));
  chmodSync(dir, 0o755);
  if (AS_ROOT) chownSync(dir, NOBODY, NOBODY);
  return dir;
}

/** Makes `dir` unwritable for the run: read-only mode, or (as root) owned by root, run as nobody. */
function lockDir(dir: string): void {
  if (AS_ROOT) chownSync(dir, 0, 0);
  chmodSync(dir, AS_ROOT ? 0o755 : 0o555);
}

describe(
  'file-system problems: one line naming the path and cause, exit 1, nothing written',
  { timeout: 60_000 },
  () => {
    test('an out dir that is a file', async () => {
      const base = writableBase();
      writeFileSync(join(base, 'dist'), 'a file');
      const before = treeHash(base);
      expect(await synth(['--out-dir', join(base, 'dist')])).toEqual({
        code: 1,
        stdout: '',
        stderr: `error: --out-dir "${join(base, 'dist')}" is a file, not a directory. Choose a directory; it is created if missing.\n`,
      });
      expect(treeHash(base)).toBe(before);
    });

    test('an out dir that is a dangling symbolic link', async () => {
      const base = writableBase();
      execFileSync('ln', ['-s', 'missing', join(base, 'dist')]);
      const before = treeHash(base);
      expect(await synth(['--out-dir', join(base, 'dist')])).toEqual({
        code: 1,
        stdout: '',
        stderr: `error: --out-dir "${join(base, 'dist')}" is a symbolic link to "missing", which does not exist. Create that directory, or remove the link.\n`,
      });
      expect(treeHash(base)).toBe(before);
    });

    test('an out dir whose parent is not writable', async () => {
      const base = writableBase();
      const parent = join(base, 'locked');
      mkdirSync(parent);
      lockDir(parent);
      const before = treeHash(base);
      expect(await synth(['--out-dir', join(parent, 'dist')], { unprivileged: true })).toEqual({
        code: 1,
        stdout: '',
        stderr: `error: --out-dir "${join(parent, 'dist')}" cannot be written: "${parent}" is not writable for this user. Choose a directory you can write to.\n`,
      });
      expect(treeHash(base)).toBe(before);
    });

    test('a failure part-way through replacing a bundle puts the old one back', async () => {
      const base = writableBase();
      const outDir = join(base, 'dist');
      expect((await synth(['--out-dir', outDir, '--region', 'us-east-1'])).code).toBe(0);
      // The out dir is writable, its templates/ is not: the last file cannot be moved in.
      if (AS_ROOT) execFileSync('chown', ['-R', `${NOBODY}:${NOBODY}`, outDir]);
      lockDir(join(outDir, 'templates'));
      const before = treeHash(outDir);
      const result = await synth(['--out-dir', outDir, '--region', 'eu-west-1', '--no-initial-job'], {
        unprivileged: true,
      });
      expect(result).toEqual({
        code: 1,
        stdout: '',
        stderr: `error: cannot move into place "${join(outDir, 'templates', 'aws-credentials-secret.yaml.template')}": permission denied (EACCES).\n`,
      });
      expect(treeHash(outDir)).toBe(before);
      expect(readdirSync(base)).toEqual(['dist']);
    });

    test('--config naming a directory', async () => {
      const base = writableBase();
      const before = treeHash(base);
      expect(await synth(['--config', base, '--out-dir', join(base, 'dist')])).toEqual({
        code: 1,
        stdout: '',
        stderr: `error: --config "${base}" cannot be read: it is a directory. Give the path of a JSON or YAML file.\n`,
      });
      expect(treeHash(base)).toBe(before);
    });
  },
);
