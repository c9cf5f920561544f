// The refresh script as the CronJob runs it: the copy in dist's ConfigMap, under busybox ash with
// only kubectl, the aws CLI and jq beside busybox, against the harness's real kube-apiserver and
// moto, authenticated as a ServiceAccount bound to dist's ClusterRole and nothing else.
//
// Namespaces are the test's own (a prefix per test), so the tests do not see each other's; the
// default "every namespace" run goes first because later tests leave namespaces behind on purpose
// (a terminating one, foreign Secrets).
import { spawn } from 'node:child_process';
import {
  chmodSync,
  existsSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  realpathSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import {
  DIST_DIR,
  accountingErrors,
  bundleObject,
  cluster,
  createServingCert,
  e2eAvailable,
  loadBundle,
  parseLogfmt,
  runBusyboxScript,
  runWithArgvAudit,
  scriptEnv,
  startApiFront,
  startMoto,
  SCRIPT_KEY,
  writeKubeconfig,
  writeScriptFiles,
  type ApiFront,
  type FrontAnswer,
  type BundleObject,
  type LogRecord,
  type Moto,
} from './harness/index.js';
import { requireContext } from './harness/available.js';
import { run as runProcess } from './harness/process.js';
import { parseMetrics } from '../../bench/api-requests.js';

const SRC_SCRIPTS = fileURLToPath(new URL('../../src/scripts/', import.meta.url));
/** The bundle whose ConfigMap and ClusterRole are tested; E2E_BUNDLE_DIR points at a fresh synth. */
const BUNDLE_DIR = process.env.E2E_BUNDLE_DIR ?? DIST_DIR;
const SECRET = 'ecr-registry-credentials';
const REGION = 'eu-west-1';
/** moto's account for any credentials. */
const ACCOUNT = '123456789012';
const OWN_HOST = `${ACCOUNT}.dkr.ecr.${REGION}.amazonaws.com`;
/** What moto's GetAuthorizationToken returns, as the Secret must carry it: base64("AWS:<password>"). */
/** The secret access key every run gets (AWS's documentation example). */
const AWS_SECRET_KEY = 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY';
const MOTO_TOKEN = Buffer.from(`AWS:${ACCOUNT}-auth-token`).toString('base64');
const FIELD_MANAGER = 'ecr-k8s-credentials';

const SA_NAMESPACE = 'refresh-script-e2e';
const SA_NAME = 'ecr-credential-updater';

/** Exit codes documented at the top of the script. */
const EXIT = { ok: 0, unexpected: 1, config: 2, aws: 3, kubernetes: 4, partial: 5, transient: 6 } as const;

interface Run {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
  readonly records: readonly LogRecord[];
  /** result and reason of each namespace line, by namespace. */
  readonly namespaces: ReadonlyMap<string, { result: string; reason: string | undefined }>;
  readonly summary: LogRecord | undefined;
}

interface SecretObject {
  type: string;
  metadata: {
    resourceVersion: string;
    labels?: Record<string, string>;
    annotations?: Record<string, string>;
    managedFields?: { manager: string; operation: string; fieldsV1?: Record<string, unknown> }[];
  };
  data: Record<string, string>;
}

interface DockerConfig {
  auths: Record<string, { auth?: string; username?: string; password?: string }>;
}

const decode = (b64: string): string => Buffer.from(b64, 'base64').toString('utf8');

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

describe.skipIf(!e2eAvailable.ok)('src/scripts/refresh-ecr-credentials.sh (from the bundle ConfigMap)', () => {
  let moto: Moto;
  let script: string;
  let saKubeconfig: string;
  let workDir: string;

  const kubectl = (args: string[], input?: string) => cluster().kubectl(args, { input });

  async function createNamespaces(names: readonly string[], labels: Record<string, string> = {}): Promise<void> {
    const docs = names.map((name) =>
      JSON.stringify({ apiVersion: 'v1', kind: 'Namespace', metadata: { name, labels } }),
    );
    await kubectl(['create', '-f', '-'], docs.join('\n---\n'));
  }

  /**
   * kube-controller-manager empties a deleted namespace and removes it within seconds; an object
   * with a finalizer nobody clears keeps it Terminating, as a stuck finalizer does on real clusters.
   */
  async function holdTerminating(namespace: string): Promise<void> {
    const configMap = {
      apiVersion: 'v1',
      kind: 'ConfigMap',
      metadata: { name: 'keeps-it-terminating', namespace, finalizers: ['e2e.ecr-k8s-credentials/hold'] },
    };
    await kubectl(['create', '-f', '-'], JSON.stringify(configMap));
  }

  const range = (prefix: string, count: number): string[] =>
    Array.from({ length: count }, (_, i) => `${prefix}-${i + 1}`);

  async function readSecret(namespace: string): Promise<SecretObject | null> {
    const out = await kubectl([
      ...['-n', namespace, 'get', 'secret', SECRET],
      ...['-o', 'json', '--ignore-not-found', '--show-managed-fields'],
    ]);
    return out.stdout.trim() === '' ? null : (JSON.parse(out.stdout) as SecretObject);
  }

  /** The Secret exactly as stored: any write, even of the same data, changes resourceVersion. */
  async function rawSecret(namespace: string): Promise<string> {
    return (await kubectl(['-n', namespace, 'get', 'secret', SECRET, '-o', 'json', '--show-managed-fields'])).stdout;
  }

  function dockerConfig(secret: SecretObject): DockerConfig {
    return JSON.parse(decode(secret.data['.dockerconfigjson'] ?? '')) as DockerConfig;
  }

  function env(extra: Record<string, string> = {}, awsEndpoint = moto.endpoint): NodeJS.ProcessEnv {
    return scriptEnv({
      KUBECONFIG: saKubeconfig,
      AWS_ENDPOINT_URL: awsEndpoint,
      AWS_ACCESS_KEY_ID: 'AKIAIOSFODNN7EXAMPLE',
      AWS_SECRET_ACCESS_KEY: AWS_SECRET_KEY,
      AWS_REGION: REGION,
      AWS_RETRY_MODE: 'standard',
      AWS_MAX_ATTEMPTS: '5',
      AWS_EC2_METADATA_DISABLED: 'true',
      AWS_CONFIG_FILE: '/nonexistent',
      AWS_SHARED_CREDENTIALS_FILE: '/nonexistent',
      ECR_SECRET_NAME: SECRET,
      // Runs that end with only transient failures (exit 6) would wait 30 s before exiting.
      ECR_TRANSIENT_PAUSE_SECONDS: '0',
      ...extra,
    });
  }

  /**
   * The run's log, read. Every run is checked for the promise: each selected namespace has exactly
   * one result line and the summary adds up (accountingErrors), whatever else the test checks.
   */
  function summarize(out: { code: number; stdout: string; stderr: string }): Run {
    const errors = accountingErrors(out.stdout);
    expect(errors.length === 0 ? errors : [...errors, out.stdout]).toEqual([]);
    const records = parseLogfmt(out.stdout);
    const namespaces = new Map<string, { result: string; reason: string | undefined }>();
    for (const record of records) {
      if (record.event === 'namespace' && record.namespace !== undefined) {
        namespaces.set(record.namespace, { result: record.result ?? '', reason: record.reason });
      }
    }
    return { ...out, records, namespaces, summary: records.find((record) => record.event === 'summary') };
  }

  async function refresh(extra: Record<string, string> = {}, awsEndpoint?: string): Promise<Run> {
    const out = await runBusyboxScript(script, env(extra, awsEndpoint), { timeoutMs: 240_000 });
    return summarize(out);
  }

  /**
   * A run with jq replaced by a shell shim (it reads the namespace list, so the shim can change
   * the cluster right after the list is taken); `body` gets the real jq and the real kubectl.
   */
  async function refreshThroughJqShim(
    extra: Record<string, string>,
    body: (realJq: string, realKubectl: string) => string[],
  ): Promise<Run> {
    const shimDir = mkdtempSync(join(workDir, 'shim-'));
    const base = env(extra);
    const [busybox, tools] = (base.PATH ?? '').split(':');
    const lines = body(join(tools ?? '', 'jq'), join(tools ?? '', 'kubectl'));
    writeFileSync(join(shimDir, 'jq'), ['#!/bin/sh', ...lines, ''].join('\n'));
    chmodSync(join(shimDir, 'jq'), 0o755);
    return summarize(await runBusyboxScript(script, { ...base, PATH: `${busybox}:${shimDir}:${tools}` }));
  }

  /** The exit code; when it is not `expected`, the code with the run's whole log, to explain the failure. */
  const exitOf = (run: Run, expected: number): number | string =>
    run.code === expected ? run.code : `exit ${run.code}\n${run.stdout}\n${run.stderr}`;

  const resultsFor = (run: Run, names: readonly string[]) => names.map((name) => run.namespaces.get(name)?.result);

  beforeAll(async () => {
    workDir = mkdtempSync(join(tmpdir(), 'refresh-e2e-'));
    const objects: BundleObject[] = loadBundle(BUNDLE_DIR);
    script = writeScriptFiles(objects, join(workDir, 'scripts'));

    // dist's ClusterRole as it is, bound to a ServiceAccount of this suite's own.
    const role = bundleObject(objects, 'ClusterRole');
    await kubectl(['apply', '-f', '-'], JSON.stringify(role));
    await kubectl(
      ['apply', '-f', '-'],
      [
        { apiVersion: 'v1', kind: 'Namespace', metadata: { name: SA_NAMESPACE } },
        { apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name: SA_NAME, namespace: SA_NAMESPACE } },
        {
          apiVersion: 'rbac.authorization.k8s.io/v1',
          kind: 'ClusterRoleBinding',
          metadata: { name: SA_NAMESPACE },
          roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: role.metadata.name },
          subjects: [{ kind: 'ServiceAccount', name: SA_NAME, namespace: SA_NAMESPACE }],
        },
      ]
        .map((doc) => JSON.stringify(doc))
        .join('\n---\n'),
    );
    saKubeconfig = await cluster().serviceAccountKubeconfig(SA_NAMESPACE, SA_NAME);
    moto = await startMoto();
  });

  afterAll(async () => {
    await moto.stop();
  });

  test('the bundle ships the script from src and a ClusterRole with only list namespaces + create/patch one Secret', async () => {
    const scriptDir = dirname(script);
    const shipped = readdirSync(scriptDir).sort();
    expect(shipped).toContain(SCRIPT_KEY);
    expect(shipped).toEqual(
      readdirSync(SRC_SCRIPTS)
        .filter((name) => name.endsWith('.sh'))
        .sort(),
    );
    for (const name of shipped) {
      expect(readFileSync(join(scriptDir, name), 'utf8')).toBe(readFileSync(join(SRC_SCRIPTS, name), 'utf8'));
    }
    const role = bundleObject(loadBundle(BUNDLE_DIR), 'ClusterRole');
    expect(role.rules).toEqual([
      { apiGroups: [''], resources: ['namespaces'], verbs: ['list'] },
      { apiGroups: [''], resources: ['secrets'], resourceNames: [SECRET], verbs: ['create', 'patch'] },
    ]);
    // The ServiceAccount really cannot read Secrets: the script must manage without.
    const canGet = await cluster().kubectl(['auth', 'can-i', 'get', 'secrets', '-n', 'default'], {
      kubeconfig: saKubeconfig,
      allowFail: true,
    });
    expect(canGet.stdout.trim()).toBe('no');
  });

  test('writes a valid pull secret into every namespace, and a second run refreshes it', async () => {
    const names = range('all', 30);
    await createNamespaces(names);

    const first = await refresh();
    expect(exitOf(first, EXIT.ok)).toBe(EXIT.ok);
    expect(resultsFor(first, names)).toEqual(names.map(() => 'updated'));
    // Every Active namespace of the cluster, not only this test's.
    const listed = (
      await kubectl([
        'get',
        'namespaces',
        '-o',
        'jsonpath={range .items[*]}{.metadata.name} {.status.phase}{"\\n"}{end}',
      ])
    ).stdout
      .split('\n')
      .filter((line) => line.endsWith(' Active'))
      .map((line) => line.split(' ')[0] ?? '');
    expect(listed.map((name) => [name, first.namespaces.get(name)?.result])).toEqual(
      listed.map((name) => [name, 'updated']),
    );
    expect(first.summary).toMatchObject({ failed: '0', conflict: '0', exit_code: '0' });
    expect(Number(first.summary?.updated)).toBe(listed.length);

    const before = new Map<string, SecretObject>();
    for (const name of names) {
      const secret = await readSecret(name);
      expect(secret).not.toBeNull();
      if (secret === null) return;
      before.set(name, secret);
      expect(secret.type).toBe('kubernetes.io/dockerconfigjson');
      // auth is ECR's authorizationToken byte for byte; kubelet needs nothing else.
      expect(dockerConfig(secret)).toEqual({ auths: { [OWN_HOST]: { auth: MOTO_TOKEN } } });
      expect(decode(dockerConfig(secret).auths[OWN_HOST]?.auth ?? '')).toBe(`AWS:${ACCOUNT}-auth-token`);
      expect(secret.metadata.labels).toMatchObject({ 'app.kubernetes.io/managed-by': FIELD_MANAGER });
      expect(secret.metadata.annotations).toMatchObject({
        // moto's expiresAt is a fixed date in 2015.
        'ecr-k8s-credentials/expires-at': '2015-01-01T00:00:00Z',
        'ecr-k8s-credentials/registries': OWN_HOST,
      });
      expect(secret.metadata.annotations?.['ecr-k8s-credentials/refreshed-at']).toMatch(
        /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/,
      );
      expect(secret.metadata.managedFields?.map((field) => [field.manager, field.operation])).toEqual([
        [FIELD_MANAGER, 'Apply'],
      ]);
    }

    await sleep(1_100); // refreshed-at has one-second resolution
    const second = await refresh();
    expect(exitOf(second, EXIT.ok)).toBe(EXIT.ok);
    expect(resultsFor(second, names)).toEqual(names.map(() => 'updated'));
    for (const name of names) {
      const secret = await readSecret(name);
      const old = before.get(name);
      expect(secret?.metadata.resourceVersion).not.toBe(old?.metadata.resourceVersion);
      expect(secret?.metadata.annotations?.['ecr-k8s-credentials/refreshed-at']).not.toBe(
        old?.metadata.annotations?.['ecr-k8s-credentials/refreshed-at'],
      );
    }
  });

  test('ECR_TARGET_NAMESPACES takes names and globs, and reports a named namespace that does not exist', async () => {
    await createNamespaces(['inc-a', 'inc-b-1', 'inc-b-2', 'inc-c']);
    const run = await refresh({ ECR_TARGET_NAMESPACES: 'inc-a inc-b-? inc-missing' });
    expect(exitOf(run, EXIT.ok)).toBe(EXIT.ok);
    expect(resultsFor(run, ['inc-a', 'inc-b-1', 'inc-b-2'])).toEqual(['updated', 'updated', 'updated']);
    expect(run.namespaces.get('inc-missing')).toEqual({ result: 'skipped', reason: 'namespace not found' });
    expect(run.namespaces.has('inc-c')).toBe(false);
    expect(run.namespaces.has('default')).toBe(false);
    expect(await readSecret('inc-c')).toBeNull();
    expect(run.summary).toMatchObject({ updated: '3', skipped: '1', selected: '4' });
  });

  test('ECR_EXCLUDE_NAMESPACES globs are skipped and logged', async () => {
    await createNamespaces(['exc-keep', 'exc-skip-1', 'exc-skip-2', 'exc-x']);
    const run = await refresh({ ECR_TARGET_NAMESPACES: 'exc-*', ECR_EXCLUDE_NAMESPACES: 'exc-skip-* exc-x' });
    expect(exitOf(run, EXIT.ok)).toBe(EXIT.ok);
    expect(run.namespaces.get('exc-keep')?.result).toBe('updated');
    for (const name of ['exc-skip-1', 'exc-skip-2', 'exc-x']) {
      expect(run.namespaces.get(name)).toEqual({ result: 'skipped', reason: 'excluded by ECR_EXCLUDE_NAMESPACES' });
      expect(await readSecret(name)).toBeNull();
    }
  });

  test('ECR_NAMESPACE_SELECTOR limits the namespaces by label', async () => {
    await createNamespaces(['sel-a1', 'sel-a2'], { 'refresh-e2e/team': 'a' });
    await createNamespaces(['sel-b1'], { 'refresh-e2e/team': 'b' });
    const run = await refresh({ ECR_NAMESPACE_SELECTOR: 'refresh-e2e/team=a' });
    expect(exitOf(run, EXIT.ok)).toBe(EXIT.ok);
    expect([...run.namespaces.keys()].sort()).toEqual(['sel-a1', 'sel-a2']);
    expect(await readSecret('sel-b1')).toBeNull();
    expect(dockerConfig((await readSecret('sel-a2'))!).auths[OWN_HOST]?.auth).toBe(MOTO_TOKEN);
  });

  test.each([
    ['AWS_REGION missing', { AWS_REGION: '' }, /AWS_REGION "" is not an AWS region/],
    [
      'a registry that is not an ECR host',
      { ECR_REGISTRIES: 'https://210987654321.dkr.ecr.us-east-1.amazonaws.com' },
      /ECR_REGISTRIES entry "https:\/\/210987654321.dkr.ecr.us-east-1.amazonaws.com" is not an ECR registry host/,
    ],
    [
      'a China region host under .com',
      { ECR_REGISTRIES: '210987654321.dkr.ecr.cn-north-1.amazonaws.com' },
      /is not an ECR registry host/,
    ],
    [
      'ECR_ADOPT_EXISTING not a boolean',
      { ECR_ADOPT_EXISTING: 'yes' },
      /ECR_ADOPT_EXISTING "yes" must be true or false/,
    ],
    [
      "AWS_ACCOUNT_ID left as the Secret template's placeholder",
      { AWS_ACCOUNT_ID: 'REPLACE_ME' },
      /AWS_ACCOUNT_ID "REPLACE_ME" must be 12 digits, or empty to ask AWS STS/,
    ],
    [
      'a malformed label selector',
      { ECR_NAMESPACE_SELECTOR: 'team in (a' },
      /ECR_NAMESPACE_SELECTOR "team in \(a" was rejected/,
    ],
  ])('configuration error (%s) exits 2 and writes nothing', async (_name, extra, message) => {
    await createNamespaces([`cfg-${Date.now().toString(36)}`]);
    const names = (await kubectl(['get', 'ns', '-o', 'jsonpath={.items[*].metadata.name}'])).stdout.split(' ');
    const fresh = names.filter((name) => name.startsWith('cfg-'));
    const run = await refresh({ ECR_TARGET_NAMESPACES: 'cfg-*', ...extra });
    expect(exitOf(run, EXIT.config)).toBe(EXIT.config);
    const fatal = run.records.find((record) => record.event === 'fatal');
    expect(fatal?.reason).toMatch(message);
    expect(run.namespaces.size).toBe(0);
    for (const name of fresh) expect(await readSecret(name)).toBeNull();
  });

  test('in a pod: the ServiceAccount token and CA from their mount, the API server from KUBERNETES_SERVICE_HOST/PORT, and no kubectl', async () => {
    await createNamespaces(['inpod-1', 'inpod-2']);
    const workspace = mkdtempSync(join(workDir, 'inpod-'));
    const token = (JSON.parse(readFileSync(saKubeconfig, 'utf8')) as { users: { user: { token: string } }[] }).users[0]!
      .user.token;
    writeFileSync(join(workspace, 'token'), token);
    // A kubectl that leaves a mark: a run in a pod needs none.
    const marker = join(workspace, 'kubectl-ran');
    writeFileSync(join(workspace, 'kubectl'), `#!/bin/sh\necho "$*" >>"${marker}"\nexit 1\n`, { mode: 0o755 });
    const base = env({ ECR_TARGET_NAMESPACES: 'inpod-*', AWS_ACCOUNT_ID: ACCOUNT });
    delete base.KUBECONFIG;
    const [busyboxDir, toolsDir] = (base.PATH ?? '').split(':');
    const server = new URL(cluster().server);
    // A mount namespace of the run's own, with a tmpfs on /run: the ServiceAccount's files go where
    // the kubelet mounts them (/var/run is /run), and nothing outside changes.
    const mountAndRun = [
      'set -e',
      'mount -t tmpfs tmpfs /run',
      'dir=/var/run/secrets/kubernetes.io/serviceaccount',
      'mkdir -p "$dir"',
      `cp "${join(workspace, 'token')}" "$dir/token"`,
      `cp "${cluster().caFile}" "$dir/ca.crt"`,
      `exec "${requireContext().tools.busybox}" ash "${script}"`,
    ].join('\n');
    const out = await runProcess(
      'unshare',
      [
        '--user',
        '--map-root-user',
        '--mount',
        '--propagation',
        'private',
        requireContext().tools.busybox,
        'sh',
        '-c',
        mountAndRun,
      ],
      {
        env: {
          ...base,
          PATH: `${busyboxDir}:${workspace}:${toolsDir}`,
          KUBERNETES_SERVICE_HOST: server.hostname,
          KUBERNETES_SERVICE_PORT: server.port,
        },
        timeoutMs: 120_000,
      },
    );
    const run = summarize(out);
    expect(exitOf(run, EXIT.ok)).toBe(EXIT.ok);
    expect(resultsFor(run, ['inpod-1', 'inpod-2'])).toEqual(['updated', 'updated']);
    expect(dockerConfig((await readSecret('inpod-2'))!).auths[OWN_HOST]?.auth).toBe(MOTO_TOKEN);
    expect(existsSync(marker) ? readFileSync(marker, 'utf8') : '').toBe('');
  });

  test('a kubeconfig with a client certificate instead of a token works too', async () => {
    await createNamespaces(['cert-1', 'cert-2']);
    const run = await refresh({ ECR_TARGET_NAMESPACES: 'cert-*', KUBECONFIG: cluster().adminKubeconfig });
    expect(exitOf(run, EXIT.ok)).toBe(EXIT.ok);
    expect(resultsFor(run, ['cert-1', 'cert-2'])).toEqual(['updated', 'updated']);
    expect(dockerConfig((await readSecret('cert-2'))!).auths[OWN_HOST]?.auth).toBe(MOTO_TOKEN);
  });

  test('an image without curl stops the run before any call, naming the tool', async () => {
    const base = env({ ECR_TARGET_NAMESPACES: 'nocurl-*' });
    const [busyboxDir, toolsDir] = (base.PATH ?? '').split(':');
    const withoutCurl = mkdtempSync(join(workDir, 'no-curl-'));
    for (const tool of ['kubectl', 'aws', 'jq'])
      symlinkSync(realpathSync(join(toolsDir ?? '', tool)), join(withoutCurl, tool));
    const run = summarize(await runBusyboxScript(script, { ...base, PATH: `${busyboxDir}:${withoutCurl}` }));
    expect(exitOf(run, EXIT.unexpected)).toBe(EXIT.unexpected);
    expect(run.records.find((record) => record.event === 'fatal')?.reason).toMatch(
      /^curl is not on PATH .*; this script expects the alpine\/k8s image$/,
    );
  });

  test('a kubeconfig whose user needs an exec plugin is a configuration error that names the fix', async () => {
    await createNamespaces(['plugin-1']);
    const config = JSON.parse(readFileSync(saKubeconfig, 'utf8')) as { users: { user: Record<string, unknown> }[] };
    for (const entry of config.users) {
      entry.user = {
        exec: { apiVersion: 'client.authentication.k8s.io/v1', command: 'aws', args: ['eks', 'get-token'] },
      };
    }
    const withPlugin = join(workDir, 'exec-plugin.kubeconfig');
    writeFileSync(withPlugin, JSON.stringify(config), { mode: 0o600 });
    const run = await refresh({ ECR_TARGET_NAMESPACES: 'plugin-*', KUBECONFIG: withPlugin });
    expect(exitOf(run, EXIT.config)).toBe(EXIT.config);
    expect(run.records.find((record) => record.event === 'fatal')?.reason).toMatch(
      /gets its credentials from an exec plugin or auth-provider.*use a kubeconfig with a token, a token file or a client certificate/,
    );
    expect(run.namespaces.size).toBe(0);
    expect(await readSecret('plugin-1')).toBeNull();
  });

  test('namespaces that cannot be listed (refused credentials) exit 4 and write nothing', async () => {
    await createNamespaces(['nolist-1']);
    const config = JSON.parse(readFileSync(saKubeconfig, 'utf8')) as {
      users: { user: { token?: string } }[];
    };
    for (const entry of config.users) entry.user.token = 'not-a-valid-token';
    const refused = join(workDir, 'refused.kubeconfig');
    writeFileSync(refused, JSON.stringify(config), { mode: 0o600 });
    const run = await refresh({ ECR_TARGET_NAMESPACES: 'nolist-*', KUBECONFIG: refused });
    expect(exitOf(run, EXIT.kubernetes)).toBe(EXIT.kubernetes);
    expect(run.records.find((record) => record.event === 'fatal')?.reason).toMatch(
      /^cannot list namespaces: .*nothing was written$/,
    );
    expect(run.namespaces.size).toBe(0);
    expect(await readSecret('nolist-1')).toBeNull();
  });

  test('a Terminating namespace is skipped, the run still exits 0', async () => {
    await createNamespaces(['term-active', 'term-doomed']);
    await holdTerminating('term-doomed');
    await kubectl(['delete', 'namespace', 'term-doomed', '--wait=false']);
    const phase = await kubectl(['get', 'namespace', 'term-doomed', '-o', 'jsonpath={.status.phase}']);
    expect(phase.stdout).toBe('Terminating');

    const run = await refresh({ ECR_TARGET_NAMESPACES: 'term-*' });
    expect(exitOf(run, EXIT.ok)).toBe(EXIT.ok);
    expect(run.namespaces.get('term-doomed')).toEqual({ result: 'skipped', reason: 'namespace is terminating' });
    expect(run.namespaces.get('term-active')?.result).toBe('updated');
    expect(run.summary).toMatchObject({ updated: '1', skipped: '1', failed: '0' });
  });

  test('a namespace that starts terminating or disappears during the run is skipped, not failed', async () => {
    await createNamespaces(['mid-1', 'mid-2', 'mid-doomed', 'mid-vanishing', 'mid-3']);
    await holdTerminating('mid-doomed');
    // Right after the namespace list is read (jq turning the API server's Table into lines):
    // delete mid-doomed (held Terminating), delete mid-vanishing and wait until
    // kube-controller-manager has removed it for real, and add a namespace that never existed.
    const run = await refreshThroughJqShim({ ECR_TARGET_NAMESPACES: 'mid-*' }, (real, realKubectl) => [
      'case "$*" in *".rows[]"*)',
      `  "${real}" "$@" || exit $?`,
      '  echo "mid-gone Active"',
      `  KUBECONFIG="${cluster().adminKubeconfig}" "${realKubectl}" delete namespace mid-doomed --wait=false >/dev/null 2>&1`,
      `  KUBECONFIG="${cluster().adminKubeconfig}" "${realKubectl}" delete namespace mid-vanishing --timeout=120s >/dev/null 2>&1`,
      '  exit 0 ;;',
      'esac',
      `exec "${real}" "$@"`,
    ]);
    expect(exitOf(run, EXIT.ok)).toBe(EXIT.ok);
    const vanished = await kubectl(['get', 'namespace', 'mid-vanishing', '--ignore-not-found', '-o', 'name']);
    expect(vanished.stdout).toBe('');
    expect(run.namespaces.get('mid-vanishing')).toEqual({ result: 'skipped', reason: 'namespace no longer exists' });
    expect(run.namespaces.get('mid-doomed')).toEqual({ result: 'skipped', reason: 'namespace is terminating' });
    expect(run.namespaces.get('mid-gone')).toEqual({ result: 'skipped', reason: 'namespace no longer exists' });
    expect(resultsFor(run, ['mid-1', 'mid-2', 'mid-3'])).toEqual(['updated', 'updated', 'updated']);
  });

  test("each namespace's result comes from its own response: a conflict and a vanished namespace in one batch", async () => {
    await createNamespaces(['blind-1', 'blind-2', 'blind-foreign', 'blind-3']);
    await kubectl([
      ...['-n', 'blind-foreign', 'create', 'secret', 'generic', SECRET, '--from-literal=owner=someone-else'],
    ]);
    const before = await rawSecret('blind-foreign');
    // A listed namespace that does not exist, between the others.
    const run = await refreshThroughJqShim({ ECR_TARGET_NAMESPACES: 'blind-*' }, (real) => [
      'case "$*" in *".rows[]"*)',
      `  "${real}" "$@" || exit $?`,
      '  echo "blind-gone Active"',
      '  exit 0 ;;',
      'esac',
      `exec "${real}" "$@"`,
    ]);
    expect(exitOf(run, EXIT.partial)).toBe(EXIT.partial);
    expect(run.namespaces.get('blind-foreign')?.result).toBe('conflict');
    expect(run.namespaces.get('blind-foreign')?.reason).toContain('conflict with "kubectl-create"');
    expect(run.namespaces.get('blind-gone')).toEqual({ result: 'skipped', reason: 'namespace no longer exists' });
    expect(resultsFor(run, ['blind-1', 'blind-2', 'blind-3'])).toEqual(['updated', 'updated', 'updated']);
    expect(await rawSecret('blind-foreign')).toBe(before);
  });

  test('a same-named Secret of another field manager is left byte-identical and reported; ECR_ADOPT_EXISTING=true takes it over', async () => {
    const names = range('foreign', 12);
    await createNamespaces(names);
    // Two foreign Secrets in the middle of one batch, made the way the original module did:
    // `kubectl create secret docker-registry --dry-run=client -o yaml | kubectl apply -f -`
    // (client-side apply, with its last-applied-configuration annotation).
    const foreign = ['foreign-4', 'foreign-9'];
    for (const name of foreign) {
      const manifest = await kubectl([
        ...['-n', name, 'create', 'secret', 'docker-registry', SECRET, `--docker-server=${OWN_HOST}`],
        ...['--docker-username=AWS', '--docker-password=old-password', '--dry-run=client', '-o', 'yaml'],
      ]);
      await kubectl(['apply', '-f', '-'], manifest.stdout);
    }
    const before = await Promise.all(foreign.map(rawSecret));
    for (const secret of before) expect(secret).toContain('kubectl.kubernetes.io/last-applied-configuration');

    const run = await refresh({ ECR_TARGET_NAMESPACES: 'foreign-*' });
    expect(exitOf(run, EXIT.partial)).toBe(EXIT.partial);
    for (const name of foreign) {
      expect(run.namespaces.get(name)?.result).toBe('conflict');
      expect(run.namespaces.get(name)?.reason).toContain('conflict with "kubectl-client-side-apply"');
      expect(run.namespaces.get(name)?.reason).toContain('--adopt-existing-secrets');
      expect(run.namespaces.get(name)?.reason).toContain('ECR_ADOPT_EXISTING=true');
    }
    expect(await Promise.all(foreign.map(rawSecret))).toEqual(before);
    const others = names.filter((name) => !foreign.includes(name));
    expect(resultsFor(run, others)).toEqual(others.map(() => 'updated'));
    expect(run.summary).toMatchObject({ updated: '10', conflict: '2', exit_code: String(EXIT.partial) });
    expect(run.records.find((record) => record.event === 'summary')?.level).toBe('error');

    const adopted = await refresh({ ECR_TARGET_NAMESPACES: 'foreign-*', ECR_ADOPT_EXISTING: 'true' });
    expect(exitOf(adopted, EXIT.ok)).toBe(EXIT.ok);
    expect(resultsFor(adopted, names)).toEqual(names.map(() => 'updated'));
    for (const name of foreign) {
      const secret = await readSecret(name);
      expect(dockerConfig(secret!).auths[OWN_HOST]).toEqual({ auth: MOTO_TOKEN });
      const owner = secret?.metadata.managedFields?.find((field) =>
        Object.keys((field.fieldsV1?.['f:data'] as Record<string, unknown> | undefined) ?? {}).includes(
          'f:.dockerconfigjson',
        ),
      );
      expect(owner?.manager).toBe(FIELD_MANAGER);
    }
  });

  test('ECR throttling is retried until a token comes', async () => {
    // More throttled answers than the AWS_MAX_ATTEMPTS (5) of one round: the script's next round
    // has to step in.
    const throttled = await startMoto({ throttleEcr: 6 });
    try {
      await createNamespaces(['throttle-1']);
      const run = await refresh({ ECR_TARGET_NAMESPACES: 'throttle-*', AWS_ACCOUNT_ID: ACCOUNT }, throttled.endpoint);
      expect(exitOf(run, EXIT.ok)).toBe(EXIT.ok);
      expect(await throttled.stats()).toMatchObject({ throttled: 6, getAuthorizationToken: 7 });
      const retry = run.records.find((record) => record.event === 'token' && record.level === 'warn');
      expect(retry?.reason).toMatch(/ThrottlingException/);
      expect(dockerConfig((await readSecret('throttle-1'))!).auths[OWN_HOST]?.auth).toBe(MOTO_TOKEN);
    } finally {
      await throttled.stop();
    }
  });

  test('curl signs the token request (SigV4) as AWS checks it: a right key gets a token, a wrong secret is refused', async () => {
    // moto with authentication on after the three setup calls: it recomputes each request's
    // signature from the key's secret and checks the user's IAM policy.
    const checking = await startMoto({ initialNoAuthActionCount: 3 });
    try {
      const admin = (args: string[]) =>
        runProcess(
          join(requireContext().tools.scriptToolsDir, 'aws'),
          [...args, '--region', REGION, '--output', 'json'],
          {
            env: {
              PATH: process.env.PATH ?? '/usr/bin:/bin',
              HOME: workDir,
              AWS_ENDPOINT_URL: checking.endpoint,
              AWS_ACCESS_KEY_ID: 'AKIAIOSFODNN7EXAMPLE',
              AWS_SECRET_ACCESS_KEY: 'setup',
            },
          },
        );
      expect((await admin(['iam', 'create-user', '--user-name', 'puller'])).code).toBe(0);
      const policy = {
        Version: '2012-10-17',
        Statement: [{ Effect: 'Allow', Action: 'ecr:GetAuthorizationToken', Resource: '*' }],
      };
      const put = ['iam', 'put-user-policy', '--user-name', 'puller', '--policy-name', 'pull'];
      expect((await admin([...put, '--policy-document', JSON.stringify(policy)])).code).toBe(0);
      const created = await admin(['iam', 'create-access-key', '--user-name', 'puller']);
      const key = (JSON.parse(created.stdout) as { AccessKey: { AccessKeyId: string; SecretAccessKey: string } })
        .AccessKey;
      await createNamespaces(['signed-1']);

      const signed = await refresh(
        {
          ECR_TARGET_NAMESPACES: 'signed-*',
          AWS_ACCOUNT_ID: ACCOUNT,
          AWS_ACCESS_KEY_ID: key.AccessKeyId,
          AWS_SECRET_ACCESS_KEY: key.SecretAccessKey,
        },
        checking.endpoint,
      );
      expect(exitOf(signed, EXIT.ok)).toBe(EXIT.ok);
      expect(signed.namespaces.get('signed-1')?.result).toBe('updated');
      const before = await rawSecret('signed-1');

      const wrong = await refresh(
        {
          ECR_TARGET_NAMESPACES: 'signed-*',
          AWS_ACCOUNT_ID: ACCOUNT,
          AWS_ACCESS_KEY_ID: key.AccessKeyId,
          AWS_SECRET_ACCESS_KEY: 'not-the-secret',
        },
        checking.endpoint,
      );
      expect(exitOf(wrong, EXIT.aws)).toBe(EXIT.aws);
      expect(wrong.records.find((record) => record.event === 'token')?.reason).toMatch(
        /^GetAuthorizationToken: HTTP 403 SignatureDoesNotMatch: /,
      );
      expect(wrong.stdout + wrong.stderr).not.toContain('not-the-secret');
      expect(await rawSecret('signed-1')).toBe(before);
      // Refused once: a wrong signature does not get better by asking again.
      expect((await checking.stats()).getAuthorizationToken).toBe(2);
    } finally {
      await checking.stop();
    }
  });

  test('an AWS failure leaves every existing Secret byte-identical and exits 3', async () => {
    const names = range('awsfail', 3);
    await createNamespaces(names);
    const good = await refresh({ ECR_TARGET_NAMESPACES: 'awsfail-*' });
    expect(exitOf(good, EXIT.ok)).toBe(EXIT.ok);
    const before = await Promise.all(names.map(rawSecret));

    const failing = await startMoto({ failEcr: true });
    try {
      const run = await refresh({ ECR_TARGET_NAMESPACES: 'awsfail-*', AWS_ACCOUNT_ID: ACCOUNT }, failing.endpoint);
      expect(exitOf(run, EXIT.aws)).toBe(EXIT.aws);
      expect(run.namespaces.size).toBe(0);
      expect(run.records.find((record) => record.event === 'fatal')?.reason).toMatch(/nothing was written/);
      expect(run.records.find((record) => record.event === 'token')?.reason).toMatch(/AccessDeniedException/);
      // Not retried: access denied does not get better by asking again.
      expect((await failing.stats()).getAuthorizationToken).toBe(1);
      expect(await Promise.all(names.map(rawSecret))).toEqual(before);
    } finally {
      await failing.stop();
    }
  });

  test.each([
    ['deny', undefined, 'HTTP 422'],
    ['forbid', 'Forbidden', 'HTTP 403'],
  ])(
    'a namespace whose writes are denied (%s, reason %s) fails alone; the others are written and the run exits 5',
    async (prefix, reason, status) => {
      const names = [`${prefix}-1`, `${prefix}-2`, `${prefix}-blocked`, `${prefix}-3`, `${prefix}-4`];
      await createNamespaces(names);
      // RBAC cannot deny one namespace of a ClusterRole; an admission policy can.
      await kubectl(
        ['apply', '-f', '-'],
        [
          {
            apiVersion: 'admissionregistration.k8s.io/v1',
            kind: 'ValidatingAdmissionPolicy',
            metadata: { name: `refresh-e2e-${prefix}-secrets` },
            spec: {
              failurePolicy: 'Fail',
              matchConstraints: {
                resourceRules: [
                  { apiGroups: [''], apiVersions: ['v1'], operations: ['CREATE', 'UPDATE'], resources: ['secrets'] },
                ],
              },
              validations: [
                {
                  expression: 'false',
                  message: `secrets are frozen in ${prefix}-blocked`,
                  ...(reason ? { reason } : {}),
                },
              ],
            },
          },
          {
            apiVersion: 'admissionregistration.k8s.io/v1',
            kind: 'ValidatingAdmissionPolicyBinding',
            metadata: { name: `refresh-e2e-${prefix}-secrets` },
            spec: {
              policyName: `refresh-e2e-${prefix}-secrets`,
              validationActions: ['Deny'],
              matchResources: {
                namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': `${prefix}-blocked` } },
              },
            },
          },
        ]
          .map((doc) => JSON.stringify(doc))
          .join('\n---\n'),
      );
      try {
        // The policy takes a moment to reach the admission plugin.
        let run: Run | undefined;
        for (let attempt = 0; attempt < 20; attempt++) {
          run = await refresh({ ECR_TARGET_NAMESPACES: `${prefix}-*` });
          if (run.namespaces.get(`${prefix}-blocked`)?.result !== 'updated') break;
          await sleep(500);
        }
        expect(run).toBeDefined();
        if (run === undefined) return;
        expect(exitOf(run, EXIT.partial)).toBe(EXIT.partial);
        expect(run.namespaces.get(`${prefix}-blocked`)?.result).toBe('failed');
        expect(run.namespaces.get(`${prefix}-blocked`)?.reason).toContain(`secrets are frozen in ${prefix}-blocked`);
        expect(run.namespaces.get(`${prefix}-blocked`)?.reason).toContain(status);
        const others = names.filter((name) => name !== `${prefix}-blocked`);
        expect(resultsFor(run, others)).toEqual(others.map(() => 'updated'));
        expect(run.summary).toMatchObject({ failed: '1', updated: '4' });
      } finally {
        await kubectl([
          'delete',
          'validatingadmissionpolicybinding,validatingadmissionpolicy',
          `refresh-e2e-${prefix}-secrets`,
        ]);
      }
    },
  );

  /** Runs the script against the API server through a front that answers what `answer` says. */
  async function refreshThroughFront(
    extra: Record<string, string>,
    answer: (front: ApiFront, method: string, path: string) => FrontAnswer,
    during?: (front: ApiFront) => Promise<void>,
  ): Promise<{ run: Run; front: ApiFront; seconds: number }> {
    const pki = await createServingCert(mkdtempSync(join(workDir, 'front-pki-')), 'localhost');
    const front: ApiFront = await startApiFront({
      upstream: cluster().server,
      upstreamCaFile: cluster().caFile,
      certFile: pki.certFile,
      keyFile: pki.keyFile,
      answer: (method, path) => answer(front, method, path),
    });
    try {
      const { stdout: token } = await kubectl(['create', 'token', SA_NAME, '-n', SA_NAMESPACE, '--duration=1h']);
      const kubeconfig = join(mkdtempSync(join(workDir, 'front-')), 'kubeconfig');
      // Reached by address, its certificate checked against tls-server-name.
      writeKubeconfig(kubeconfig, {
        server: front.server,
        tlsServerName: 'localhost',
        caFile: pki.caFile,
        user: { token: token.trim() },
      });
      const started = performance.now();
      const [run] = await Promise.all([refresh({ ...extra, KUBECONFIG: kubeconfig }), during?.(front)]);
      return { run, front, seconds: (performance.now() - started) / 1000 };
    } finally {
      await front.stop();
    }
  }

  const patchesTo = (front: ApiFront, namespace: string): number =>
    front.log.filter((line) => line.startsWith(`PATCH /api/v1/namespaces/${namespace}/secrets/`)).length;

  test('a throttled write (429, Retry-After) is retried and lands; one that keeps failing (503) is retried a bounded number of times, then failed alone; a 400 is not retried', async () => {
    const names = range('flaky', 6);
    await createNamespaces(names);
    let throttled = 0;
    const { run, front } = await refreshThroughFront({ ECR_TARGET_NAMESPACES: 'flaky-*' }, (_front, method, path) => {
      if (method !== 'PATCH') return undefined;
      if (path.startsWith('/api/v1/namespaces/flaky-2/') && throttled < 2) {
        throttled += 1;
        return { status: 429, headers: { 'retry-after': '1' } };
      }
      if (path.startsWith('/api/v1/namespaces/flaky-4/')) return { status: 503 };
      if (path.startsWith('/api/v1/namespaces/flaky-5/')) return { status: 400, echo: true };
      return undefined;
    });
    expect(exitOf(run, EXIT.partial)).toBe(EXIT.partial);
    expect(run.namespaces.get('flaky-4')).toEqual({ result: 'failed', reason: 'HTTP 503: front answered 503' });
    // An answer that quotes the Secret back: failed, not retried, and its data never logged.
    expect(run.namespaces.get('flaky-5')?.result).toBe('failed');
    expect(run.namespaces.get('flaky-5')?.reason).toMatch(/^HTTP 400: front answered 400: .*\[REDACTED\]/);
    expect(patchesTo(front, 'flaky-5')).toBe(1);
    const written = (await readSecret('flaky-1'))?.data['.dockerconfigjson'] ?? '';
    expect(written).not.toBe('');
    for (const secret of [written, MOTO_TOKEN, `${ACCOUNT}-auth-token`]) expect(run.stdout).not.toContain(secret);
    const others = names.filter((name) => name !== 'flaky-4' && name !== 'flaky-5');
    expect(resultsFor(run, others)).toEqual(others.map(() => 'updated'));
    expect(run.summary).toMatchObject({ updated: '4', failed: '2', exit_code: String(EXIT.partial) });
    // Two throttled answers, then the write; the first try and four retries for the 503s; every
    // other namespace written with one request.
    expect(patchesTo(front, 'flaky-2')).toBe(3);
    expect(patchesTo(front, 'flaky-4')).toBe(5);
    for (const name of others.filter((name) => name !== 'flaky-2')) expect(patchesTo(front, name)).toBe(1);
    expect(dockerConfig((await readSecret('flaky-2'))!).auths[OWN_HOST]?.auth).toBe(MOTO_TOKEN);
    expect(await readSecret('flaky-4')).toBeNull();
  });

  test('the API server going away in the middle of the writes: every namespace is reported, in bounded time', async () => {
    const names = range('away', 20);
    await createNamespaces(names);
    let patches = 0;
    const { run, front, seconds } = await refreshThroughFront(
      { ECR_TARGET_NAMESPACES: 'away-*', ECR_APPLY_BATCH_SIZE: '10', ECR_APPLY_PARALLELISM: '1' },
      (self, method) => {
        if (method === 'PATCH') {
          patches += 1;
          // Every connection dropped and refused for 3 s, then the same port answers again.
          if (patches === 5) self.goAway(3_000);
        }
        return undefined;
      },
    );
    expect(exitOf(run, EXIT.ok)).toBe(EXIT.ok);
    expect(resultsFor(run, names)).toEqual(names.map(() => 'updated'));
    expect(front.log.filter((line) => line.startsWith('PATCH ')).length).toBeGreaterThan(names.length);
    // Retries wait 1, 2, 4, 8 s at most, for all requests at once: not one wait per namespace.
    expect(seconds).toBeLessThan(45);
  });

  /** A proxy's error page, as nginx sends it. */
  const HTML_502 =
    '<html>\r\n<head><title>502 Bad Gateway</title></head>\r\n<body>\r\n<center><h1>502 Bad Gateway</h1></center>\r\n<hr><center>nginx</center>\r\n</body>\r\n</html>\r\n';

  test('a proxy answering some namespaces with an HTML 502 and resetting others: each of them failed with its reason, the rest written, exit 6 after the pause', async () => {
    const names = range('html', 12);
    await createNamespaces(names);
    const pages = ['html-3', 'html-7'];
    const resets = ['html-5', 'html-9'];
    const { run, front } = await refreshThroughFront(
      { ECR_TARGET_NAMESPACES: 'html-*', ECR_APPLY_BATCH_SIZE: '4', ECR_TRANSIENT_PAUSE_SECONDS: '2' },
      (_front, method, path) => {
        if (method !== 'PATCH') return undefined;
        const namespace = path.split('/')[4] ?? '';
        if (pages.includes(namespace)) return { status: 502, body: HTML_502 };
        if (resets.includes(namespace)) return { reset: true };
        return undefined;
      },
    );
    expect(exitOf(run, EXIT.transient)).toBe(EXIT.transient);
    for (const name of pages) {
      expect(run.namespaces.get(name)).toEqual({ result: 'failed', reason: 'HTTP 502: 502 Bad Gateway' });
      // The first try and curl's four retries.
      expect(patchesTo(front, name)).toBe(5);
    }
    for (const name of resets) {
      expect(run.namespaces.get(name)?.result).toBe('failed');
      expect(run.namespaces.get(name)?.reason).toMatch(/^no answer from the API server \(curl exit \d+: .+\)$/);
      expect(patchesTo(front, name)).toBe(5);
    }
    const others = names.filter((name) => !pages.includes(name) && !resets.includes(name));
    expect(resultsFor(run, others)).toEqual(others.map(() => 'updated'));
    expect(run.summary).toMatchObject({ updated: '8', failed: '4', exit_code: String(EXIT.transient) });
    // The pause comes after the summary, before the exit.
    const events = run.records.map((record) => record.event);
    expect(events.at(-1)).toBe('retry');
    expect(run.records.at(-1)).toMatchObject({ level: 'info', pause_s: '2' });
    expect(events.indexOf('summary')).toBeLessThan(events.length - 1);
  });

  /** PIDs of this run's curl processes that send the batches: found by the run's own TMPDIR. */
  function batchCurls(tmp: string): { pid: number; parent: number }[] {
    const found: { pid: number; parent: number }[] = [];
    for (const entry of readdirSync('/proc')) {
      if (!/^\d+$/.test(entry)) continue;
      try {
        const environ = readFileSync(`/proc/${entry}/environ`, 'utf8').split('\0');
        const cmdline = readFileSync(`/proc/${entry}/cmdline`, 'utf8');
        if (!environ.includes(`TMPDIR=${tmp}`) || !cmdline.startsWith('curl\0-q\0--config\0-')) continue;
        const status = readFileSync(`/proc/${entry}/status`, 'utf8');
        found.push({ pid: Number(entry), parent: Number(/^PPid:\s+(\d+)/m.exec(status)?.[1]) });
      } catch {
        // gone meanwhile, or another user's
      }
    }
    return found;
  }

  /** Waits until `front` holds a stalled PATCH of `namespace` and has seen `patches` PATCHes in all. */
  async function untilStalled(front: ApiFront, namespace: string, patches: number): Promise<void> {
    for (let i = 0; i < 300; i++) {
      const seen = front.log.filter((line) => line.startsWith('PATCH ')).length;
      if (patchesTo(front, namespace) > 0 && seen >= patches) return;
      await sleep(100);
    }
    throw new Error(`no stalled PATCH of ${namespace} within 30 s`);
  }

  test('curl killed while a request hangs: the namespaces it never reported are failed "no result from curl", none is lost, exit 6', async () => {
    const names = [...range('nocurl', 5), 'nocurl-hang'];
    await createNamespaces(names);
    const tmp = mkdtempSync(join(workDir, 'nocurl-tmp-'));
    let killed = 0;
    const { run } = await refreshThroughFront(
      { ECR_TARGET_NAMESPACES: 'nocurl-*', ECR_APPLY_PARALLELISM: '1', TMPDIR: tmp },
      (_front, method, path) =>
        method === 'PATCH' && path.startsWith('/api/v1/namespaces/nocurl-hang/') ? { stall: true } : undefined,
      async (front) => {
        await untilStalled(front, 'nocurl-hang', names.length);
        await sleep(500);
        // As the OOM killer would: curl goes, the script goes on.
        for (const curl of batchCurls(tmp)) {
          process.kill(curl.pid, 'SIGKILL');
          killed += 1;
        }
      },
    );
    expect(killed).toBe(1);
    expect(exitOf(run, EXIT.transient)).toBe(EXIT.transient);
    expect(run.namespaces.get('nocurl-hang')?.result).toBe('failed');
    expect(run.namespaces.get('nocurl-hang')?.reason).toMatch(/^no result from curl: /);
    // What curl reported before it died is kept; what it did not is failed the same way.
    const notUpdated = names.filter((name) => run.namespaces.get(name)?.result !== 'updated');
    expect(notUpdated.map((name) => /^no result from curl: /.test(run.namespaces.get(name)?.reason ?? ''))).toEqual(
      notUpdated.map(() => true),
    );
    expect(run.summary?.lost_workers).toBe('0');
  });

  test('a writer process killed mid-batch: its unreported namespaces are logged failed naming its exit, the counts add up, exit 1', async () => {
    const names = [...range('lostw', 5), 'lostw-hang'];
    await createNamespaces(names);
    const tmp = mkdtempSync(join(workDir, 'lostw-tmp-'));
    let killed = 0;
    const { run } = await refreshThroughFront(
      { ECR_TARGET_NAMESPACES: 'lostw-*', ECR_APPLY_PARALLELISM: '1', TMPDIR: tmp },
      (_front, method, path) =>
        method === 'PATCH' && path.startsWith('/api/v1/namespaces/lostw-hang/') ? { stall: true } : undefined,
      async (front) => {
        await untilStalled(front, 'lostw-hang', names.length);
        // The worker (curl's parent, a subshell of the script) first, then its curl.
        for (const curl of batchCurls(tmp)) {
          process.kill(curl.parent, 'SIGKILL');
          process.kill(curl.pid, 'SIGKILL');
          killed += 1;
        }
      },
    );
    expect(killed).toBe(1);
    expect(exitOf(run, EXIT.unexpected)).toBe(EXIT.unexpected);
    for (const name of names) {
      expect(run.namespaces.get(name)?.result).toBe('failed');
      expect(run.namespaces.get(name)?.reason).toMatch(
        /^no result reported: the process writing it ended early \(writer process 0 exit 137\)/,
      );
    }
    expect(run.summary).toMatchObject({ selected: '6', updated: '0', failed: '6', lost_workers: '1' });
  });

  test('a Terminating namespace is skipped without a request: no PATCH reaches the API server for it', async () => {
    await createNamespaces(['termf-active', 'termf-doomed']);
    await holdTerminating('termf-doomed');
    await kubectl(['delete', 'namespace', 'termf-doomed', '--wait=false']);
    const { run, front } = await refreshThroughFront({ ECR_TARGET_NAMESPACES: 'termf-*' }, () => undefined);
    expect(exitOf(run, EXIT.ok)).toBe(EXIT.ok);
    expect(run.namespaces.get('termf-doomed')).toEqual({ result: 'skipped', reason: 'namespace is terminating' });
    expect(patchesTo(front, 'termf-doomed')).toBe(0);
    expect(patchesTo(front, 'termf-active')).toBe(1);
  });

  /** refreshed-at of the Secret in each namespace that has one (one LIST, as the admin). */
  async function refreshedAt(): Promise<Map<string, string>> {
    const list = JSON.parse(
      (await kubectl(['get', 'secrets', '-A', '--field-selector', `metadata.name=${SECRET}`, '-o', 'json'])).stdout,
    ) as { items: { metadata: { namespace: string; annotations?: Record<string, string> } }[] };
    return new Map(
      list.items.map((item) => [
        item.metadata.namespace,
        item.metadata.annotations?.['ecr-k8s-credentials/refreshed-at'] ?? '',
      ]),
    );
  }

  test('overload by the real kube-apiserver (API Priority and Fairness rejects the updater): every namespace has one result line, the 429s are its own plain text, a second run without the limit finishes the rest', async () => {
    const names = range('apf', 520);
    for (let i = 0; i < names.length; i += 260) await createNamespaces(names.slice(i, i + 260));
    const account = 'ecr-apf-updater';
    const role = bundleObject(loadBundle(BUNDLE_DIR), 'ClusterRole');
    // A priority level of its own for this account: about 3 seats of the server's 600, no
    // borrowing, no queue: what does not fit is rejected with 429 at once.
    const limits = [
      { apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name: account, namespace: SA_NAMESPACE } },
      {
        apiVersion: 'rbac.authorization.k8s.io/v1',
        kind: 'ClusterRoleBinding',
        metadata: { name: account },
        roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: role.metadata.name },
        subjects: [{ kind: 'ServiceAccount', name: account, namespace: SA_NAMESPACE }],
      },
      {
        apiVersion: 'flowcontrol.apiserver.k8s.io/v1',
        kind: 'PriorityLevelConfiguration',
        metadata: { name: 'refresh-e2e-tiny' },
        spec: {
          type: 'Limited',
          limited: {
            nominalConcurrencyShares: 1,
            lendablePercent: 0,
            borrowingLimitPercent: 0,
            limitResponse: { type: 'Reject' },
          },
        },
      },
      {
        apiVersion: 'flowcontrol.apiserver.k8s.io/v1',
        kind: 'FlowSchema',
        metadata: { name: 'refresh-e2e-tiny' },
        spec: {
          priorityLevelConfiguration: { name: 'refresh-e2e-tiny' },
          matchingPrecedence: 500,
          distinguisherMethod: { type: 'ByUser' },
          rules: [
            {
              subjects: [{ kind: 'ServiceAccount', serviceAccount: { name: account, namespace: SA_NAMESPACE } }],
              resourceRules: [
                { verbs: ['*'], apiGroups: ['*'], resources: ['*'], namespaces: ['*'], clusterScope: true },
              ],
            },
          ],
        },
      },
    ];
    await kubectl(['apply', '-f', '-'], limits.map((doc) => JSON.stringify(doc)).join('\n---\n'));
    const rejected = async (): Promise<number> => {
      const metrics = (await kubectl(['get', '--raw', '/metrics'])).stdout;
      let sum = 0;
      for (const match of metrics.matchAll(
        /^apiserver_flowcontrol_rejected_requests_total\{[^}]*priority_level="refresh-e2e-tiny"[^}]*\} (\d+)/gm,
      ))
        sum += Number(match[1]);
      return sum;
    };
    try {
      // The API server takes the new schema up within a moment; until then it is Dangling.
      for (let i = 0; i < 50; i++) {
        const dangling = await kubectl([
          ...['get', 'flowschema', 'refresh-e2e-tiny'],
          ...['-o', 'jsonpath={.status.conditions[?(@.type=="Dangling")].status}'],
        ]);
        if (dangling.stdout === 'False') break;
        await sleep(200);
      }
      const kubeconfig = await cluster().serviceAccountKubeconfig(SA_NAMESPACE, account);
      const rejectedBefore = await rejected();
      const first = await refresh({ ECR_TARGET_NAMESPACES: 'apf-*', AWS_ACCOUNT_ID: ACCOUNT, KUBECONFIG: kubeconfig });
      const rejectedDuring = (await rejected()) - rejectedBefore;
      expect(exitOf(first, EXIT.transient)).toBe(EXIT.transient);
      const failed = names.filter((name) => first.namespaces.get(name)?.result === 'failed');
      const updated = names.filter((name) => first.namespaces.get(name)?.result === 'updated');
      expect(failed.length).toBeGreaterThan(0);
      expect(updated.length + failed.length).toBe(names.length);
      // kube-apiserver's own answer, as it sends it (text/plain), for every failed namespace...
      expect(new Set(failed.map((name) => first.namespaces.get(name)?.reason))).toEqual(
        new Set(['HTTP 429: Too many requests, please try again later.']),
      );
      // ...and counted by its own rejection metric: every failed namespace was refused five
      // times (the first try and curl's four retries) by this priority level.
      expect(rejectedDuring).toBeGreaterThanOrEqual(5 * failed.length);
      const afterFirst = await refreshedAt();
      const firstStamp = afterFirst.get(updated[0] ?? '');
      expect(firstStamp).toMatch(/^\d{4}-/);
      for (const name of updated) expect(afterFirst.get(name)).toBe(firstStamp);
      for (const name of failed) expect(afterFirst.has(name)).toBe(false);
      console.log(
        `[refresh-script] API Priority and Fairness: ${updated.length} of ${names.length} written, ${failed.length} failed (429), ${rejectedDuring} requests rejected`,
      );

      await kubectl(['delete', 'flowschema,prioritylevelconfiguration', 'refresh-e2e-tiny']);
      await sleep(1_100); // refreshed-at has one-second resolution
      const second = await refresh({ ECR_TARGET_NAMESPACES: 'apf-*', AWS_ACCOUNT_ID: ACCOUNT, KUBECONFIG: kubeconfig });
      expect(exitOf(second, EXIT.ok)).toBe(EXIT.ok);
      expect(resultsFor(second, names)).toEqual(names.map(() => 'updated'));
      const afterSecond = await refreshedAt();
      const secondStamp = afterSecond.get(names[0] ?? '');
      expect(secondStamp! > firstStamp!).toBe(true);
      expect(names.filter((name) => afterSecond.get(name) !== secondStamp)).toEqual([]);
    } finally {
      await kubectl(['delete', 'flowschema,prioritylevelconfiguration', 'refresh-e2e-tiny', '--ignore-not-found']);
    }
  });

  test('registries in two regions land in one Secret, with one token call per region', async () => {
    await createNamespaces(['multi-1']);
    const usHost = '210987654321.dkr.ecr.us-east-1.amazonaws.com';
    const otherEuHost = '444455556666.dkr.ecr.eu-west-1.amazonaws.com';
    const calls = (await moto.stats()).getAuthorizationToken;
    const run = await refresh({
      ECR_TARGET_NAMESPACES: 'multi-*',
      // The own registry listed again must not appear twice.
      ECR_REGISTRIES: `${usHost} ${OWN_HOST} ${otherEuHost}`,
    });
    expect(exitOf(run, EXIT.ok)).toBe(EXIT.ok);
    expect((await moto.stats()).getAuthorizationToken - calls).toBe(2);
    const secret = await readSecret('multi-1');
    expect(dockerConfig(secret!)).toEqual({
      auths: { [OWN_HOST]: { auth: MOTO_TOKEN }, [otherEuHost]: { auth: MOTO_TOKEN }, [usHost]: { auth: MOTO_TOKEN } },
    });
    expect(secret?.metadata.annotations?.['ecr-k8s-credentials/registries']).toBe(
      `${OWN_HOST},${usHost},${otherEuHost}`,
    );
    const tokens = run.records.filter((record) => record.event === 'token');
    expect(tokens.map((record) => record.region)).toEqual([REGION, 'us-east-1']);
  });

  test('the token appears in no process argv or environment during a run, and in no log line', async () => {
    const names = range('argv', 30);
    await createNamespaces(names);
    const secretsToHide = [MOTO_TOKEN, `${ACCOUNT}-auth-token`];
    // The AWS secret key arrives in the environment (from the Secret) and must stay there: curl
    // signs the token request with it, from its config on stdin.
    const awsSecretKey = AWS_SECRET_KEY;
    const runEnv = env({ ECR_TARGET_NAMESPACES: 'argv-*', ECR_APPLY_BATCH_SIZE: '5' });
    // The applet directory holds symlinks to the busybox binary itself.
    const busybox = realpathSync(join((runEnv.PATH ?? '').split(':')[0] ?? '', 'sh'));
    const audited = await runWithArgvAudit(busybox, ['ash', script], { env: runEnv, environ: true });
    const { procSeen: seen, execs } = audited;
    const run = summarize(audited);
    expect(exitOf(run, EXIT.ok)).toBe(EXIT.ok);
    expect(resultsFor(run, names)).toEqual(names.map(() => 'updated'));
    // The Secret's own encoding of the token must not leak either.
    const written = (await readSecret('argv-1'))?.data['.dockerconfigjson'] ?? '';
    expect(written).not.toBe('');
    secretsToHide.push(written);

    // The watch was really on: it saw the curl processes and the aws CLI asking STS for the
    // account id (not given here). With a key in the environment the token request is no aws CLI
    // call: curl signs it itself.
    expect([...seen].some((line) => line.startsWith('cmdline: curl -q --config -'))).toBe(true);
    expect(execs.filter((line) => line.includes('"get-caller-identity"'))).toHaveLength(1);
    expect(execs.filter((line) => line.includes('"get-authorization-token"'))).toEqual([]);
    // The token request, one GET of the namespace list, then 30 namespaces in batches of 5: six
    // curl processes that write; each execve seen by strace; the keys went to them on stdin.
    const curls = execs.filter((line) => line.includes('"--config", "-"')).length;
    expect(curls).toBe(1 + 1 + 6);
    const apiToken = JSON.parse(readFileSync(saKubeconfig, 'utf8')) as { users: { user: { token?: string } }[] };
    for (const entry of apiToken.users) if (entry.user.token) secretsToHide.push(entry.user.token);
    for (const secret of secretsToHide) {
      expect([...seen].filter((line) => line.includes(secret))).toEqual([]);
      expect(execs.filter((line) => line.includes(secret))).toEqual([]);
      expect(run.stdout).not.toContain(secret);
      expect(run.stderr).not.toContain(secret);
    }
    expect([...seen].filter((line) => line.startsWith('cmdline:') && line.includes(awsSecretKey))).toEqual([]);
    expect(execs.filter((line) => line.includes(awsSecretKey))).toEqual([]);
    expect(run.stdout + run.stderr).not.toContain(awsSecretKey);
  });

  test('1,000 namespaces cost at most N + 20 API requests and finish in seconds', async () => {
    const names = range('scale', 1_000);
    for (let i = 0; i < names.length; i += 250) await createNamespaces(names.slice(i, i + 250));
    // Counted by API Priority and Fairness per flow: the script's ServiceAccount is the only one
    // in the service-accounts flow; kube-controller-manager (busy with the new namespaces) and
    // the admin's /metrics reads are classified elsewhere.
    const requests = async (): Promise<number> =>
      parseMetrics((await kubectl(['get', '--raw', '/metrics'])).stdout).serviceAccountRequests;
    const before = await requests();
    const started = performance.now();
    const run = await refresh({ ECR_TARGET_NAMESPACES: 'scale-*', AWS_ACCOUNT_ID: ACCOUNT });
    const seconds = (performance.now() - started) / 1000;
    const used = (await requests()) - before;
    expect(exitOf(run, EXIT.ok)).toBe(EXIT.ok);
    expect(run.summary?.updated).toBe('1000');
    expect(used).toBeLessThanOrEqual(1_000 + 20);
    expect(used).toBeGreaterThanOrEqual(1_000);
    console.log(`[refresh-script] 1,000 namespaces: ${seconds.toFixed(1)} s, ${used} API requests`);
    expect(seconds).toBeLessThan(120);
  });

  test('shellcheck finds nothing in the script and the parts it sources (POSIX sh)', async () => {
    const out = await new Promise<{ code: number; output: string }>((resolve, reject) => {
      const child = spawn('shellcheck', ['-x', '-s', 'sh', '-S', 'style', script], {
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      let output = '';
      child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString('utf8')));
      child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString('utf8')));
      child.on('error', reject);
      child.on('close', (code) => resolve({ code: code ?? 1, output }));
    });
    expect(out.output).toBe('');
    expect(out.code).toBe(0);
  });
});
