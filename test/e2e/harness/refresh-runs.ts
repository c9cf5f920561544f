// Runs of the refresh script as the CronJob runs it (the copy in dist's ConfigMap, under busybox
// ash, authenticated as a ServiceAccount bound to dist's ClusterRole), and their logs read back:
// what test files need that check exit codes and the requests a run sends.
import { chmodSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { bundleObject, DIST_DIR, loadBundle, writeScriptFiles } from './bundle.js';
import { runBusyboxScript, scriptEnv } from './busybox.js';
import { cluster } from './cluster.js';
import { createServingCert } from './pki.js';
import { startApiFront, type ApiFront, type FrontAnswer } from './api-front.js';
import { writeKubeconfig } from './kubeconfig.js';
import { parseLogfmt, type LogRecord } from './results.js';

export const REFRESH_SECRET = 'ecr-registry-credentials';
export const REFRESH_REGION = 'eu-west-1';
/** moto's account for any credentials. */
export const MOTO_ACCOUNT = '123456789012';
/** The secret access key every run gets (AWS's documentation example). */
export const EXAMPLE_SECRET_KEY = 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY';

/** Exit codes documented at the top of refresh-ecr-credentials.sh. */
export const EXIT = { ok: 0, unexpected: 1, config: 2, aws: 3, kubernetes: 4, partial: 5, transient: 6 } as const;

export interface RefreshRun {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
  readonly records: readonly LogRecord[];
  /** Every `event=namespace` line, in order (a namespace reported twice appears twice). */
  readonly namespaceLines: readonly LogRecord[];
  /** result and reason of each namespace line, by namespace. */
  readonly namespaces: ReadonlyMap<string, { result: string; reason: string | undefined }>;
  readonly summary: LogRecord | undefined;
  readonly fatal: LogRecord | undefined;
}

export function summarizeRun(out: { code: number; stdout: string; stderr: string }): RefreshRun {
  const records = parseLogfmt(out.stdout);
  const namespaceLines = records.filter((record) => record.event === 'namespace' && record.namespace !== undefined);
  const namespaces = new Map<string, { result: string; reason: string | undefined }>();
  for (const record of namespaceLines) {
    namespaces.set(record.namespace ?? '', { result: record.result ?? '', reason: record.reason });
  }
  return {
    ...out,
    records,
    namespaceLines,
    namespaces,
    summary: records.find((record) => record.event === 'summary'),
    fatal: records.find((record) => record.event === 'fatal'),
  };
}

/** The exit code; when it is not `expected`, the code with the run's whole log, to explain the failure. */
export const exitOf = (run: RefreshRun, expected: number): number | string =>
  run.code === expected ? run.code : `exit ${run.code}\n${run.stdout}\n${run.stderr}`;

export interface RefreshSuite {
  /** The entry script, written from dist's ConfigMap. */
  readonly script: string;
  /** A kubeconfig of the suite's ServiceAccount, bound to dist's ClusterRole. */
  readonly kubeconfig: string;
  readonly workDir: string;
  /** The environment of a run against `awsEndpoint`; `extra` last. */
  env(awsEndpoint: string, extra?: Record<string, string>): NodeJS.ProcessEnv;
  /** A run with this environment. */
  run(env: NodeJS.ProcessEnv): Promise<RefreshRun>;
  /**
   * A run whose `curl` is a shell script made of `lines` (the real curl is "$REAL_CURL"), first
   * on PATH after busybox.
   */
  runWithCurl(env: NodeJS.ProcessEnv, lines: readonly string[]): Promise<RefreshRun>;
  /** A run that reaches the API server through a front answering what `answer` says. */
  runThroughFront(
    env: NodeJS.ProcessEnv,
    answer: (method: string, path: string) => FrontAnswer,
  ): Promise<{ run: RefreshRun; front: ApiFront }>;
  createNamespaces(names: readonly string[]): Promise<void>;
  /** The Secret exactly as stored ('' when there is none): any write changes its resourceVersion. */
  rawSecret(namespace: string): Promise<string>;
}

/**
 * Prepares the script and a ServiceAccount `name` in namespace `name` bound to dist's ClusterRole
 * (the binding also named `name`, so suites do not share it).
 */
export async function prepareRefreshSuite(name: string): Promise<RefreshSuite> {
  const kubectl = (args: string[], input?: string) => cluster().kubectl(args, { input });
  const workDir = mkdtempSync(join(tmpdir(), `${name}-`));
  const objects = loadBundle(process.env.E2E_BUNDLE_DIR ?? DIST_DIR);
  const script = writeScriptFiles(objects, join(workDir, 'scripts'));
  const role = bundleObject(objects, 'ClusterRole');
  await kubectl(['apply', '-f', '-'], JSON.stringify(role));
  await kubectl(
    ['apply', '-f', '-'],
    JSON.stringify({
      apiVersion: 'v1',
      kind: 'List',
      items: [
        { apiVersion: 'v1', kind: 'Namespace', metadata: { name } },
        { apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name, namespace: name } },
        {
          apiVersion: 'rbac.authorization.k8s.io/v1',
          kind: 'ClusterRoleBinding',
          metadata: { name },
          roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: role.metadata.name },
          subjects: [{ kind: 'ServiceAccount', name, namespace: name }],
        },
      ],
    }),
  );
  const kubeconfig = await cluster().serviceAccountKubeconfig(name, name);

  const env = (awsEndpoint: string, extra: Record<string, string> = {}): NodeJS.ProcessEnv =>
    scriptEnv({
      KUBECONFIG: kubeconfig,
      AWS_ENDPOINT_URL: awsEndpoint,
      AWS_ACCESS_KEY_ID: 'AKIAIOSFODNN7EXAMPLE',
      AWS_SECRET_ACCESS_KEY: EXAMPLE_SECRET_KEY,
      AWS_REGION: REFRESH_REGION,
      AWS_RETRY_MODE: 'standard',
      AWS_MAX_ATTEMPTS: '5',
      AWS_EC2_METADATA_DISABLED: 'true',
      AWS_CONFIG_FILE: '/nonexistent',
      AWS_SHARED_CREDENTIALS_FILE: '/nonexistent',
      ECR_SECRET_NAME: REFRESH_SECRET,
      // A run whose only failures may pass (exit 6) would wait 30 s before it exits.
      ECR_TRANSIENT_PAUSE_SECONDS: '0',
      ...extra,
    });
  const run = async (runEnv: NodeJS.ProcessEnv): Promise<RefreshRun> =>
    summarizeRun(await runBusyboxScript(script, runEnv, { timeoutMs: 240_000 }));

  return {
    script,
    kubeconfig,
    workDir,
    env,
    run,
    async runWithCurl(runEnv, lines) {
      const dir = mkdtempSync(join(workDir, 'curl-'));
      const [busybox, tools] = (runEnv.PATH ?? '').split(':');
      const file = join(dir, 'curl');
      writeFileSync(file, ['#!/bin/sh', `REAL_CURL='${join(tools ?? '', 'curl')}'`, ...lines, ''].join('\n'));
      chmodSync(file, 0o755);
      return run({ ...runEnv, PATH: `${busybox}:${dir}:${tools}` });
    },
    async runThroughFront(runEnv, answer) {
      const pki = await createServingCert(mkdtempSync(join(workDir, 'front-pki-')), 'localhost');
      const front = await startApiFront({
        upstream: cluster().server,
        upstreamCaFile: cluster().caFile,
        certFile: pki.certFile,
        keyFile: pki.keyFile,
        answer,
      });
      try {
        const { stdout: token } = await kubectl(['create', 'token', name, '-n', name, '--duration=1h']);
        const frontKubeconfig = join(mkdtempSync(join(workDir, 'front-')), 'kubeconfig');
        writeKubeconfig(frontKubeconfig, {
          server: front.server,
          tlsServerName: 'localhost',
          caFile: pki.caFile,
          user: { token: token.trim() },
        });
        return { run: await run({ ...runEnv, KUBECONFIG: frontKubeconfig }), front };
      } finally {
        await front.stop();
      }
    },
    async createNamespaces(names) {
      const docs = names.map((ns) => ({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: ns } }));
      await kubectl(['create', '-f', '-'], JSON.stringify({ apiVersion: 'v1', kind: 'List', items: docs }));
    },
    async rawSecret(namespace) {
      const args = ['-n', namespace, 'get', 'secret', REFRESH_SECRET, '--ignore-not-found'];
      return (await kubectl([...args, '-o', 'json', '--show-managed-fields'])).stdout;
    },
  };
}
