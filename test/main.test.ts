import { execFile } from 'node:child_process';
import { cpSync, mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, test } from 'vitest';

const run = promisify(execFile);
const TSX = join(import.meta.dirname, '..', 'node_modules', '.bin', 'tsx');
const MAIN = join(import.meta.dirname, '..', 'src', 'main.ts');

async function synth(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await run(TSX, [MAIN, ...args], { encoding: 'utf8' });
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
});
