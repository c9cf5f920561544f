import { execFile } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, test } from 'vitest';

const execFileAsync = promisify(execFile);
const ROOT = join(import.meta.dirname, '..');
const VITEST = join(ROOT, 'node_modules', 'vitest', 'vitest.mjs');

/**
 * The e2e suite on a machine without its prerequisites: an empty cache directory (no built
 * control plane) and no Go on PATH to build one. Runs one small e2e file.
 */
async function e2eWithoutPrerequisites(extra: Record<string, string>): Promise<{ code: number; output: string }> {
  const env = {
    PATH: '/usr/bin:/bin',
    HOME: mkdtempSync(join(tmpdir(), 'e2e-skipped-home-')),
    ECR_K8S_CACHE_DIR: mkdtempSync(join(tmpdir(), 'e2e-skipped-cache-')),
    ...extra,
  };
  const args = [VITEST, 'run', '-c', 'vitest.e2e.config.ts', 'test/e2e/harness/harness.test.ts'];
  try {
    const { stdout, stderr } = await execFileAsync(process.execPath, args, { cwd: ROOT, env, encoding: 'utf8' });
    return { code: 0, output: stdout + stderr };
  } catch (error) {
    const failed = error as { code: number; stdout: string; stderr: string };
    return { code: failed.code, output: failed.stdout + failed.stderr };
  }
}

// Each case starts vitest in a child process; generous time for a loaded machine.
describe('npm run test:e2e without its prerequisites', { timeout: 120_000 }, () => {
  test('says loudly, first and last, that nothing end-to-end was tested and what to run', async () => {
    const { code, output } = await e2eWithoutPrerequisites({});
    expect(code).toBe(0);
    const loud = output.split('\n').filter((line) => line.includes('END-TO-END TESTS SKIPPED'));
    expect(loud).toHaveLength(2);
    expect(loud[0]).toContain('Go is not installed');
    expect(loud[0]).toContain('bash scripts/e2e-prereqs.sh');
    expect(loud[0]).toContain('E2E_REQUIRED=1');
  });

  test('fails with E2E_REQUIRED=1', async () => {
    const { code, output } = await e2eWithoutPrerequisites({ E2E_REQUIRED: '1' });
    expect(code).not.toBe(0);
    expect(output).toContain('E2E_REQUIRED=1 and an e2e prerequisite is missing');
  });
});
