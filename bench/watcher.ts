// npm run bench:watcher - what the namespace watcher (--watch-namespaces) costs and how fast it
// covers new namespaces, on a real API server with moto: the rendered Deployment's command under
// busybox ash as its ServiceAccount with only the bundle's RBAC. Measures the process tree's CPU
// while idle, its memory, and each namespace's time from creation to Secret (p50, p95) for one
// namespace created at a time (20 times) and for 100 created at once. Writes
// bench/watcher-results.json and docs/benchmarks-watcher.md.
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseAllDocuments } from 'yaml';
import { run } from '../test/e2e/harness/process.js';
import { freshScriptEnv, prepareTools, startBenchCluster } from './environment.js';
import { sessionMembers, smapsRollupKiB, statusKiB } from './measure.js';
import { startMotoServer } from './moto.js';

const REPO_ROOT = fileURLToPath(new URL('..', import.meta.url));
const NAMESPACE = 'ecr-updater';
const SERVICE_ACCOUNT = 'ecr-credential-updater';
const SECRET = 'ecr-registry-credentials';
const IDLE_SECONDS = 60;
const CLOCK_TICKS = 100;
const SINGLE_ROUNDS = 20;
const BURST = 100;
/** ECR's tokens live 12 hours; moto's default expiresAt is a fixed date in 2015, never kept. */
const TOKEN_SECONDS = 12 * 3600;

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

/** When each object a `kubectl get --watch` prints (one name per line) was first seen. */
function watchArrivals(kubectl: string, kubeconfig: string, args: readonly string[]) {
  const seen = new Map<string, number>();
  const child: ChildProcess = spawn(kubectl, ['get', ...args, '--watch'], {
    env: { ...process.env, KUBECONFIG: kubeconfig },
    stdio: ['ignore', 'pipe', 'ignore'],
  });
  let partial = '';
  child.stdout?.on('data', (chunk: Buffer) => {
    const now = performance.now();
    const lines = (partial + chunk.toString('utf8')).split('\n');
    partial = lines.pop() ?? '';
    for (const line of lines) if (line !== '' && !seen.has(line)) seen.set(line, now);
  });
  return { seen, stop: () => child.kill('SIGTERM') };
}

async function untilSeen(seen: Map<string, number>, names: readonly string[]): Promise<void> {
  const deadline = performance.now() + 300_000;
  while (names.some((name) => !seen.has(name))) {
    if (performance.now() > deadline) throw new Error('namespaces uncovered after 300 s');
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

function percentile(values: readonly number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)] ?? NaN;
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
  const moto = await startMotoServer(tools.python, ['--ecr-token-seconds', String(TOKEN_SECONDS)]);
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

    // Creation and Secret as a client of the API server sees them: two watches, one clock.
    const namespaces = watchArrivals(tools.adminKubectl, cluster.adminKubeconfig, [
      ...['namespaces', '-o', 'jsonpath={.metadata.name}{"\\n"}'],
    ]);
    const secrets = watchArrivals(tools.adminKubectl, cluster.adminKubeconfig, [
      ...['secrets', '-A', '--field-selector', `metadata.name=${SECRET}`],
      ...['-o', 'jsonpath={.metadata.namespace}{"\\n"}'],
    ]);
    const create = (names: readonly string[]) =>
      cluster.admin(
        ['create', '-f', '-'],
        names
          .map((name) => JSON.stringify({ apiVersion: 'v1', kind: 'Namespace', metadata: { name } }))
          .join('\n---\n'),
      );
    const latencies = (names: readonly string[]) =>
      names.map((name) => ((secrets.seen.get(name) ?? NaN) - (namespaces.seen.get(name) ?? NaN)) / 1000);
    // The first batch asks ECR for the token; every later one keeps it.
    await create(['bench-warm']);
    await untilSeen(secrets.seen, ['bench-warm']);
    const singles = Array.from({ length: SINGLE_ROUNDS }, (_, i) => `bench-one-${i + 1}`);
    for (const name of singles) {
      await create([name]);
      await untilSeen(secrets.seen, [name]);
      await new Promise((resolve) => setTimeout(resolve, 500));
    }
    const burst = Array.from({ length: BURST }, (_, i) => `bench-burst-${i + 1}`);
    const burstStarted = performance.now();
    await create(burst);
    await untilSeen(secrets.seen, burst);
    const burstAllSeconds = (Math.max(...burst.map((name) => secrets.seen.get(name) ?? NaN)) - burstStarted) / 1000;
    namespaces.stop();
    secrets.stop();
    const timeToSecret = [
      { namespaces: 1, rounds: SINGLE_ROUNDS, values: latencies(singles) },
      { namespaces: BURST, rounds: 1, values: latencies(burst) },
    ].map(({ namespaces: count, rounds, values }) => ({
      namespaces: count,
      rounds,
      p50Seconds: percentile(values, 50),
      p95Seconds: percentile(values, 95),
      maxSeconds: Math.max(...values),
    }));
    for (const t of timeToSecret) {
      log(
        `${t.namespaces} new namespace(s) at once (${t.rounds}x): p50 ${t.p50Seconds.toFixed(2)} s, p95 ${t.p95Seconds.toFixed(2)} s, max ${t.maxSeconds.toFixed(2)} s`,
      );
    }
    log(`${BURST} at once: all covered ${burstAllSeconds.toFixed(2)} s after the create request`);
    const tokenCalls = output.match(/event=token /g)?.length ?? 0;
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
      burstAllSeconds,
      tokenCalls,
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
  timeToSecret: { namespaces: number; rounds: number; p50Seconds: number; p95Seconds: number; maxSeconds: number }[];
  burstAllSeconds: number;
  tokenCalls: number;
  versions: { kubectl: string; busybox: string };
}): string {
  return [
    '# Namespace watcher benchmark',
    '',
    `Measured ${r.measuredAt} by \`npm run bench:watcher\` (bench/watcher.ts) on 2 vCPUs, not under a CPU limit:`,
    'the rendered watcher command under busybox ash as its ServiceAccount, a real kube-apiserver and',
    `etcd (no controllers), moto for ECR (tokens expiring in 12 hours, as ECR's); kubectl ${r.versions.kubectl}, ${r.versions.busybox}.`,
    '',
    '| measure | value |',
    '|---|---:|',
    `| CPU while idle (${r.idle.seconds} s, whole process tree) | ${r.idle.cpuSeconds.toFixed(2)} s = ${r.idle.millicores.toFixed(1)}m |`,
    `| peak memory while idle, RSS sum / PSS sum | ${r.idle.peakRssMiB.toFixed(1)} / ${r.idle.peakPssMiB.toFixed(1)} MiB |`,
    ...r.timeToSecret.map(
      (t) =>
        `| ${t.namespaces} new namespace(s) at once${t.rounds > 1 ? `, ${t.rounds} times` : ''}: namespace to Secret, p50 / p95 / max | ${t.p50Seconds.toFixed(2)} / ${t.p95Seconds.toFixed(2)} / ${t.maxSeconds.toFixed(2)} s |`,
    ),
    `| ${r.timeToSecret.at(-1)?.namespaces ?? 0} at once: the last Secret after the create request | ${r.burstAllSeconds.toFixed(2)} s |`,
    `| GetAuthorizationToken calls in all (the first batch's; later batches keep the token) | ${r.tokenCalls} |`,
    '',
    "Namespace to Secret runs, per namespace, from the namespace's arrival to the moment its Secret",
    'arrives, both seen through a `kubectl get --watch` of the admin (one clock); it includes the',
    "batch's wait (0.2 s after the last new namespace, at most 1 s after the first) and the writes.",
    'One namespace is created at a time, after the previous one has its Secret; the 100 come in one',
    '`kubectl create` (one request each, one after another).',
    '',
  ].join('\n');
}

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
