// Checks the harness itself, so a broken harness shows up here and not as a puzzling failure in
// the suites built on it.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import {
  accountingErrors,
  busyboxPath,
  cluster,
  e2eAvailable,
  runBusyboxScript,
  runWithArgvAudit,
  scriptEnv,
  startMoto,
  type Moto,
} from './index.js';
import { requireContext } from './available.js';
import { run } from './process.js';

describe.skipIf(!e2eAvailable.ok)('control plane', () => {
  test('serves the pinned version with RBAC, PodSecurity and ValidatingAdmissionPolicy', async () => {
    const { kubectl } = cluster();
    const version = JSON.parse((await kubectl(['version', '-o', 'json'])).stdout) as {
      serverVersion: { gitVersion: string };
    };
    expect(version.serverVersion.gitVersion).toBe('v1.34.4');
    const apis = (await kubectl(['api-versions'])).stdout;
    expect(apis).toContain('rbac.authorization.k8s.io/v1');
    expect(apis).toContain('admissionregistration.k8s.io/v1');
  });

  test('the admin is in system:masters', async () => {
    const { stdout } = await cluster().kubectl(['auth', 'whoami', '-o', 'jsonpath={.status.userInfo.groups}']);
    expect(stdout).toContain('system:masters');
  });

  test('a ServiceAccount kubeconfig authenticates as that ServiceAccount and is bound by RBAC', async () => {
    const { kubectl, serviceAccountKubeconfig } = cluster();
    await kubectl(['create', 'namespace', 'harness-sa']);
    await kubectl(['create', 'serviceaccount', 'probe', '-n', 'harness-sa']);
    const kubeconfig = await serviceAccountKubeconfig('harness-sa', 'probe');
    const whoami = await kubectl(['auth', 'whoami', '-o', 'jsonpath={.status.userInfo.username}'], { kubeconfig });
    expect(whoami.stdout).toBe('system:serviceaccount:harness-sa:probe');
    const denied = await kubectl(['get', 'secrets', '-n', 'harness-sa'], { kubeconfig, allowFail: true });
    expect(denied.code).not.toBe(0);
    expect(denied.stderr).toContain('forbidden');
  });

  test('kube-controller-manager acts: a new namespace gets its default ServiceAccount, a deleted one goes away', async () => {
    const { kubectl } = cluster();
    await kubectl(['create', 'namespace', 'harness-controllers']);
    await kubectl(['wait', '--for=create', 'serviceaccount/default', '-n', 'harness-controllers', '--timeout=60s']);
    await kubectl(['delete', 'namespace', 'harness-controllers', '--wait=false']);
    await kubectl(['wait', '--for=delete', 'namespace/harness-controllers', '--timeout=120s']);
    const gone = await kubectl(['get', 'namespace', 'harness-controllers'], { allowFail: true });
    expect(gone.stderr).toContain('not found');
  });

  test('PodSecurity admission enforces namespace labels', async () => {
    const { kubectl } = cluster();
    await kubectl(['create', 'namespace', 'harness-pss']);
    await kubectl(['label', 'namespace', 'harness-pss', 'pod-security.kubernetes.io/enforce=restricted']);
    await kubectl(['wait', '--for=create', 'serviceaccount/default', '-n', 'harness-pss', '--timeout=60s']);
    const pod = JSON.stringify({
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { name: 'plain', namespace: 'harness-pss' },
      spec: { containers: [{ name: 'c', image: 'busybox' }] },
    });
    const result = await kubectl(['create', '--dry-run=server', '-f', '-'], { input: pod, allowFail: true });
    expect(result.code).not.toBe(0);
    expect(result.stderr).toContain('violates PodSecurity "restricted:latest"');
  });
});

describe.skipIf(!e2eAvailable.ok)('argv audit', () => {
  test('records the whole environment of every child, even one that lives a microsecond, apart from its argv', async () => {
    const busybox = requireContext().tools.busybox;
    const audited = await runWithArgvAudit(busybox, ['sh', '-c', 'LEAKED=one-process-only /bin/true; echo done'], {
      env: scriptEnv({}),
      environ: true,
    });
    expect({ code: audited.code, stdout: audited.stdout }).toEqual({ code: 0, stdout: 'done\n' });
    // The one process that got LEAKED in its environment is /bin/true, and its argv line holds no environment.
    const leaked = audited.environs.flatMap((environment, i) =>
      environment.includes('"LEAKED=one-process-only"') ? [audited.execs[i]] : [],
    );
    expect(leaked).toHaveLength(1);
    expect(leaked[0]).toMatch(/execve\("\/bin\/true", \["\/bin\/true"\]\) = 0$/);
  });
});

describe.skipIf(!e2eAvailable.ok)('script environment', () => {
  test('busybox applets come first and nothing of the machine leaks in', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'harness-script-'));
    const script = join(dir, 'probe.sh');
    writeFileSync(
      script,
      [
        'set -eu',
        'echo "sed=$(command -v sed)"',
        'echo "kubectl=$(command -v kubectl)"',
        'echo "aws=$(command -v aws)"',
        'echo "jq=$(command -v jq)"',
        'echo "bash=$(command -v bash || echo none)"',
        'echo "aws_env=$(env | grep -c "^AWS_" || true)"',
        'echo "home_files=$(ls -A "$HOME" | wc -l)"',
        // GNU grep has -P; busybox grep does not, as in alpine/k8s.
        'if echo x | grep -P x >/dev/null 2>&1; then echo grep_P=yes; else echo grep_P=no; fi',
        'echo "extra=$EXTRA"',
      ].join('\n'),
    );
    const result = await runBusyboxScript(script, scriptEnv({ EXTRA: 'passed' }));
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    expect(result.stdout).toContain(`sed=${busyboxPath()}/sed`);
    expect(result.stdout).toMatch(/^kubectl=\S+\/tools\/kubectl$/m);
    expect(result.stdout).toMatch(/^aws=\S+\/tools\/aws$/m);
    expect(result.stdout).toMatch(/^jq=\S+\/tools\/jq$/m);
    expect(result.stdout).toContain('bash=none');
    expect(result.stdout).toContain('aws_env=0');
    expect(result.stdout).toContain('home_files=0');
    expect(result.stdout).toContain('grep_P=no');
    expect(result.stdout).toContain('extra=passed');
    expect(result.pid).toBeGreaterThan(0);
  });
});

/** The ECR Public stub's counts when nothing asked it. */
const NO_ECR_PUBLIC = {
  ecrPublicGetAuthorizationToken: 0,
  ecrPublicSigned: 0,
  ecrPublicRejected: 0,
  ecrPublicLastRejection: '',
};

describe.skipIf(!e2eAvailable.ok)('moto', () => {
  const motos: Moto[] = [];
  let awsEnv: NodeJS.ProcessEnv;
  beforeAll(() => {
    awsEnv = scriptEnv({
      AWS_ACCESS_KEY_ID: 'AKIAIOSFODNN7EXAMPLE',
      AWS_SECRET_ACCESS_KEY: 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY',
      AWS_DEFAULT_REGION: 'eu-west-1',
      AWS_RETRY_MODE: 'standard',
      AWS_MAX_ATTEMPTS: '5',
    });
  });
  afterAll(async () => {
    await Promise.all(motos.map((moto) => moto.stop()));
  });
  async function moto(opts: Parameters<typeof startMoto>[0]): Promise<Moto> {
    const started = await startMoto(opts);
    motos.push(started);
    return started;
  }
  async function aws(endpoint: string, args: string[]): ReturnType<typeof run> {
    return run('aws', args, { env: { ...awsEnv, AWS_ENDPOINT_URL: endpoint } });
  }

  test('issues ECR tokens; each server has its own port', async () => {
    const [a, b] = await Promise.all([moto({}), moto({})]);
    expect(a.endpoint).not.toBe(b.endpoint);
    const result = await aws(a.endpoint, ['ecr', 'get-login-password']);
    expect(result.stdout.trim()).toBe('123456789012-auth-token');
    expect(await a.stats()).toEqual({
      getAuthorizationToken: 1,
      throttled: 0,
      failed: 0,
      requests: 1,
      ...NO_ECR_PUBLIC,
    });
  });

  test('throttled token calls are retried by the CLI', async () => {
    const m = await moto({ throttleEcr: 2 });
    const result = await aws(m.endpoint, ['ecr', 'get-login-password']);
    expect(result.code).toBe(0);
    expect(await m.stats()).toEqual({
      getAuthorizationToken: 3,
      throttled: 2,
      failed: 0,
      requests: 3,
      ...NO_ECR_PUBLIC,
    });
  });

  test('failEcr fails every token call', async () => {
    const m = await moto({ failEcr: true });
    const result = await aws(m.endpoint, ['ecr', 'get-login-password']);
    expect(result.code).not.toBe(0);
    expect(result.stderr).toContain('AccessDeniedException');
    expect(await m.stats()).toEqual({
      getAuthorizationToken: 1,
      throttled: 0,
      failed: 1,
      requests: 1,
      ...NO_ECR_PUBLIC,
    });
  });

  test('failEcrRegion fails only the token calls signed for that region', async () => {
    const m = await moto({ failEcrRegion: 'us-east-1' });
    const other = await aws(m.endpoint, ['ecr', 'get-login-password', '--region', 'eu-west-1']);
    expect(other.code).toBe(0);
    const failing = await aws(m.endpoint, ['ecr', 'get-login-password', '--region', 'us-east-1']);
    expect(failing.stderr).toContain('AccessDeniedException');
    expect(await m.stats()).toEqual({
      getAuthorizationToken: 2,
      throttled: 0,
      failed: 1,
      requests: 2,
      ...NO_ECR_PUBLIC,
    });
  });

  test("the ECR Public stub answers the aws CLI as botocore's model shapes it, after checking the signature; a wrong secret gets 403 SignatureDoesNotMatch", async () => {
    const m = await moto({});
    const ok = await aws(m.endpoint, ['ecr-public', 'get-authorization-token', '--region', 'us-east-1']);
    expect(ok.code).toBe(0);
    const data = (JSON.parse(ok.stdout) as { authorizationData: { authorizationToken: string; expiresAt: number } })
      .authorizationData;
    expect(Buffer.from(data.authorizationToken, 'base64').toString()).toBe('AWS:ecr-public-stub-password');
    expect(data.expiresAt * 1000 - Date.now()).toBeGreaterThan(11 * 3600 * 1000);
    const wrong = await run('aws', ['ecr-public', 'get-authorization-token', '--region', 'us-east-1'], {
      env: { ...awsEnv, AWS_ENDPOINT_URL: m.endpoint, AWS_SECRET_ACCESS_KEY: 'wrong' },
    });
    expect(wrong.stderr).toContain('(SignatureDoesNotMatch)');
    expect(await m.stats()).toMatchObject({
      ecrPublicGetAuthorizationToken: 2,
      ecrPublicSigned: 1,
      ecrPublicRejected: 1,
    });
  });

  test('initialNoAuthActionCount turns on credential checks after N calls', async () => {
    const m = await moto({ initialNoAuthActionCount: 1 });
    expect((await aws(m.endpoint, ['sts', 'get-caller-identity'])).code).toBe(0);
    const second = await aws(m.endpoint, ['sts', 'get-caller-identity']);
    expect(second.code).not.toBe(0);
    expect(second.stderr).toContain('InvalidClientTokenId');
  });
});

describe('accountingErrors (the one-result-per-namespace check every run gets)', () => {
  const line = (namespace: string, result: string) =>
    `level=info event=namespace namespace=${namespace} result=${result}`;
  const summary = (selected: number, updated: number, skipped: number, conflict: number, failed: number) =>
    `level=info event=summary namespaces=9 selected=${selected} updated=${updated} skipped=${skipped} conflict=${conflict} failed=${failed} exit_code=0`;

  test('a run where each namespace has one line and the counts add up passes', () => {
    const log = [line('a', 'updated'), line('b', 'skipped'), line('c', 'failed'), summary(3, 1, 1, 0, 1)];
    expect(accountingErrors(log.join('\n'))).toEqual([]);
  });

  test('a missing line, a second line, a count that does not add up and an unknown result are each caught', () => {
    expect(accountingErrors([line('a', 'updated'), summary(2, 2, 0, 0, 0)].join('\n'))).toEqual([
      '1 namespaces have a result line, selected=2',
      'summary updated=2, but 1 result=updated lines',
    ]);
    expect(accountingErrors([line('a', 'updated'), line('a', 'failed'), summary(1, 1, 0, 0, 0)].join('\n'))).toEqual([
      'namespace a: 2 result lines',
      'summary failed=0, but 1 result=failed lines',
    ]);
    expect(accountingErrors([line('a', 'updated'), summary(1, 1, 0, 0, 1)].join('\n'))).toEqual([
      'summary: updated=1 + skipped=0 + conflict=0 + failed=1 = 2, not selected=1',
      'summary failed=1, but 0 result=failed lines',
    ]);
    expect(accountingErrors([line('a', 'lost'), summary(1, 0, 0, 0, 0)].join('\n'))).toEqual([
      'namespace a: result "lost" is none of updated, skipped, conflict, failed',
      'summary: updated=0 + skipped=0 + conflict=0 + failed=0 = 0, not selected=1',
    ]);
    expect(accountingErrors(line('a', 'updated'))).toEqual(['1 namespace result line(s) but no summary line']);
  });
});
