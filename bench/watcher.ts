// npm run bench:watcher - what the namespace watcher (--watch-namespaces) costs and how fast it
// covers new namespaces, on a real API server with moto: the rendered Deployment's command under
// busybox ash as its ServiceAccount with only the bundle's RBAC. Measures the process tree's CPU
// while idle, its memory, and the time until 1 and then 200 namespaces created at once all have
// the Secret. Writes bench/watcher-results.json and docs/benchmarks-watcher.md.
import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseAllDocuments } from 'yaml';
import { run } from '../test/e2e/harness/process.js';
import { freshScriptEnv, prepareTools, startBenchCluster, type BenchCluster } from './environment.js';
import { sessionMembers, smapsRollupKiB, statusKiB } from './measure.js';
import { startMotoServer } from './moto.js';

const REPO_ROOT = fileURLToPath(new URL('..', import.meta.url));
const NAMESPACE = 'ecr-updater';
const SERVICE_ACCOUNT = 'ecr-credential-updater';
const SECRET = 'ecr-registry-credentials';
const IDLE_SECONDS = 60;
const CLOCK_TICKS = 100;

interface KubeObject {
  kind: string;
  data?: Record<string, string>;
  spec?: { template?: { spec?: { containers?: { command: string[]; env: { name: string; value?: string }[] }[] } } };
}

function log(message: string): void {
  console.log(`[bench:watcher] ${message}`);
}

/** CPU seconds (user + system) of every live process of the session, from /proc/PID/stat. */
function sessionCpuSeconds(sid: number): number {
  let ticks = 0;
  for (const { pid } of sessionMembers(sid)) {
    let stat: string;
    try {
      stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    } catch {
      continue; // exited since the listing
    }
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    // utime stime cutime cstime are fields 14-17; after the name, they are 11-14 (0-based).
    ticks += [11, 12, 13, 14].reduce((sum, i) => sum + Number(fields[i] ?? 0), 0);
  }
  return ticks / CLOCK_TICKS;
}

function sessionMemoryMiB(sid: number): { rss: number; pss: number } {
  const members = sessionMembers(sid);
  const kib = (read: (pid: number) => number) => members.reduce((sum, { pid }) => sum + read(pid), 0);
  return {
    rss: kib((pid) => statusKiB(pid, 'VmRSS')) / 1024,
    pss: kib((pid) => smapsRollupKiB(pid, 'Pss')) / 1024,
  };
}

async function secondsUntilCovered(cluster: BenchCluster, names: readonly string[], started: number): Promise<number> {
  const left = new Set(names);
  while (left.size > 0) {
    if (performance.now() - started > 300_000) throw new Error(`${left.size} namespaces uncovered after 300 s`);
    const { stdout } = await cluster.admin([
      ...['get', 'secrets', '-A', '--field-selector', `metadata.name=${SECRET}`],
      ...['-o', 'jsonpath={range .items[*]}{.metadata.namespace}{"\\n"}{end}'],
    ]);
    for (const ns of stdout.split('\n')) left.delete(ns);
    if (left.size > 0) await new Promise((resolve) => setTimeout(resolve, 100));
  }
  return (performance.now() - started) / 1000;
}

async function main(): Promise<void> {
  const workDir = mkdtempSync(join(tmpdir(), 'bench-watcher-'));
  const tools = await prepareTools(REPO_ROOT, workDir, undefined);
  const distDir = join(workDir, 'dist');
  const synth = await run(join(REPO_ROOT, 'node_modules', '.bin', 'tsx'), [
    ...[join(REPO_ROOT, 'src', 'main.ts'), '--out-dir', distDir, '--watch-namespaces'],
  ]);
  if (synth.code !== 0) throw new Error(`synth failed: ${synth.stderr}`);
  const objects = [
    '00-namespace.yaml',
    '10-service-account.yaml',
    '20-rbac.yaml',
    '40-refresh-script.yaml',
    '70-namespace-watcher.yaml',
  ].flatMap((file) =>
    parseAllDocuments(readFileSync(join(distDir, file), 'utf8')).map((doc) => doc.toJS() as KubeObject),
  );
  const cluster = await startBenchCluster(tools, join(workDir, 'cluster'));
  const moto = await startMotoServer(tools.python);
  try {
    const applied = objects.filter((o) =>
      ['Namespace', 'ServiceAccount', 'ClusterRole', 'ClusterRoleBinding'].includes(o.kind),
    );
    await cluster.admin(['apply', '-f', '-'], applied.map((o) => JSON.stringify(o)).join('\n---\n'));
    const scriptDir = join(workDir, 'scripts');
    mkdirSync(scriptDir);
    const configMap = objects.find((o) => o.kind === 'ConfigMap');
    for (const [name, text] of Object.entries(configMap?.data ?? {})) writeFileSync(join(scriptDir, name), text);
    const container = objects.find((o) => o.kind === 'Deployment')?.spec?.template?.spec?.containers?.[0];
    if (!container) throw new Error('no watcher Deployment in the bundle');
    const plain = Object.fromEntries(
      container.env
        .filter((e) => e.value !== undefined && !['HOME', 'TMPDIR', 'ECR_HEARTBEAT_FILE'].includes(e.name))
        .map((e) => [e.name, e.value ?? '']),
    );
    // As a default install runs it: the keys and AWS_ACCOUNT_ID as bootstrap-iam.sh writes them.
    const env = freshScriptEnv(tools, workDir, {
      ...plain,
      AWS_ACCESS_KEY_ID: 'AKIAIOSFODNN7EXAMPLE',
      AWS_SECRET_ACCESS_KEY: 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY',
      AWS_REGION: 'eu-west-1',
      AWS_ACCOUNT_ID: '123456789012',
      AWS_ENDPOINT_URL: moto.endpoint,
      ECR_HEARTBEAT_FILE: join(workDir, 'heartbeat'),
      KUBECONFIG: await cluster.serviceAccountKubeconfig(NAMESPACE, SERVICE_ACCOUNT),
    });
    const watcher = spawn(tools.busybox, ['ash', join(scriptDir, 'refresh-ecr-credentials.sh'), 'watch'], {
      env,
      detached: true,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    watcher.stdout.on('data', (chunk: Buffer) => (output += chunk.toString('utf8')));
    watcher.stderr.on('data', (chunk: Buffer) => (output += chunk.toString('utf8')));
    const sid = watcher.pid ?? 0;
    while (!output.includes('event=watch listed=')) {
      if (watcher.exitCode !== null) throw new Error(`watcher exited:\n${output}`);
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    log(`watching; idle for ${IDLE_SECONDS} s`);
    const cpuBefore = sessionCpuSeconds(sid);
    let peak = { rss: 0, pss: 0 };
    const idleEnd = performance.now() + IDLE_SECONDS * 1000;
    while (performance.now() < idleEnd) {
      const now = sessionMemoryMiB(sid);
      if (now.rss > peak.rss) peak = now;
      await new Promise((resolve) => setTimeout(resolve, 1_000));
    }
    const idleCpuSeconds = sessionCpuSeconds(sid) - cpuBefore;
    const idle = {
      seconds: IDLE_SECONDS,
      cpuSeconds: idleCpuSeconds,
      millicores: (idleCpuSeconds / IDLE_SECONDS) * 1000,
    };
    log(
      `idle: ${idle.cpuSeconds.toFixed(2)} CPU s in ${IDLE_SECONDS} s (${idle.millicores.toFixed(1)}m), RSS ${peak.rss.toFixed(1)} MiB, PSS ${peak.pss.toFixed(1)} MiB`,
    );

    const timeToSecret: { namespaces: number; seconds: number }[] = [];
    for (const [count, prefix] of [
      [1, 'bench-one'],
      [200, 'bench-burst'],
    ] as const) {
      const names = Array.from({ length: count }, (_, i) => `${prefix}-${i + 1}`);
      const started = performance.now();
      await cluster.admin(
        ['create', '-f', '-'],
        names
          .map((name) => JSON.stringify({ apiVersion: 'v1', kind: 'Namespace', metadata: { name } }))
          .join('\n---\n'),
      );
      const seconds = await secondsUntilCovered(cluster, names, started);
      timeToSecret.push({ namespaces: count, seconds });
      log(`${count} new namespace(s): all covered after ${seconds.toFixed(2)} s`);
    }
    process.kill(-sid, 'SIGTERM');

    const versions = {
      kubectl:
        (await run(tools.scriptKubectl, ['version', '--client', '-o', 'json'])).stdout.match(
          /"gitVersion": "([^"]+)"/,
        )?.[1] ?? '?',
      busybox: (await run(tools.busybox, ['--help'])).stdout.split('\n')[0] ?? '?',
    };
    const results = {
      measuredAt: new Date().toISOString(),
      idle: { ...idle, peakRssMiB: peak.rss, peakPssMiB: peak.pss },
      timeToSecret,
      versions,
    };
    writeFileSync(join(REPO_ROOT, 'bench', 'watcher-results.json'), `${JSON.stringify(results, null, 2)}\n`);
    writeFileSync(join(REPO_ROOT, 'docs', 'benchmarks-watcher.md'), report(results));
    log('wrote bench/watcher-results.json and docs/benchmarks-watcher.md');
  } finally {
    await moto.stop();
    await cluster.stop();
    rmSync(tools.tmpfsDir, { recursive: true, force: true });
  }
}

function report(r: {
  measuredAt: string;
  idle: { seconds: number; cpuSeconds: number; millicores: number; peakRssMiB: number; peakPssMiB: number };
  timeToSecret: { namespaces: number; seconds: number }[];
  versions: { kubectl: string; busybox: string };
}): string {
  return [
    '# Namespace watcher benchmark',
    '',
    `Measured ${r.measuredAt} by \`npm run bench:watcher\` (bench/watcher.ts) on 2 vCPUs, not under a CPU limit:`,
    'the rendered watcher command under busybox ash as its ServiceAccount, a real kube-apiserver and',
    `etcd (no controllers), moto for ECR; kubectl ${r.versions.kubectl}, ${r.versions.busybox}.`,
    '',
    '| measure | value |',
    '|---|---:|',
    `| CPU while idle (${r.idle.seconds} s, whole process tree) | ${r.idle.cpuSeconds.toFixed(2)} s = ${r.idle.millicores.toFixed(1)}m |`,
    `| peak memory while idle, RSS sum / PSS sum | ${r.idle.peakRssMiB.toFixed(1)} / ${r.idle.peakPssMiB.toFixed(1)} MiB |`,
    ...r.timeToSecret.map(
      (t) => `| ${t.namespaces} new namespace(s): all have the Secret after | ${t.seconds.toFixed(2)} s |`,
    ),
    '',
    'Time to secret runs from the create request to the moment the last Secret is listed (polled',
    'every 100 ms), and includes the batch wait (1 s), one token call and the writes.',
    '',
  ].join('\n');
}

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
