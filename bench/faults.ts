// npm run bench:faults - the refresh script under the CronJob's CPU and memory limits (a cgroup, as
// bench/cgroup.ts sets up), in two situations the main benchmark does not make:
//   apf               the updater's ServiceAccount held to a tiny share by API Priority and
//                     Fairness (limitResponse Reject): how long until every namespace is
//                     accounted for, how many requests were rejected (the retries curl took),
//                     how many namespaces were left failed; then a run without the limit.
//   service-accounts  the first run with --patch-service-accounts default (every account read and
//                     patched), then a second one (every account only read).
// The script, its env, RBAC and limits come from a bundle rendered with --patch-service-accounts
// default. Each size gets a fresh control plane (kube-apiserver + etcd, no controllers: the
// `default` ServiceAccounts are created here). Writes bench/faults-results.json and
// docs/benchmarks-faults.md unless --no-write.
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import yargs from 'yargs';
import { accountingErrors, parseLogfmt } from '../test/e2e/harness/results.js';
import { run } from '../test/e2e/harness/process.js';
import { cpuMillicores, createLimitCgroup, memoryBytes } from './cgroup.js';
import { containerEnv, readDistBundle, SCRIPT_KEY, type DistBundle } from './dist-bundle.js';
import { freshScriptEnv, prepareTools, startBenchCluster, type BenchCluster, type Tools } from './environment.js';
import { measure, type Measurement } from './measure.js';
import { startMotoServer } from './moto.js';

const REPO_ROOT = fileURLToPath(new URL('..', import.meta.url));
const RESULTS_FILE = join(REPO_ROOT, 'bench', 'faults-results.json');
const DOCS_FILE = join(REPO_ROOT, 'docs', 'benchmarks-faults.md');
const SCENARIOS = ['apf', 'service-accounts'] as const;
type Scenario = (typeof SCENARIOS)[number];
const PRIORITY_LEVEL = 'bench-tiny';
const RUN_TIMEOUT_MS = 20 * 60_000;

function log(message: string): void {
  console.log(`[bench:faults] ${message}`);
}

interface RunResult {
  readonly seconds: number;
  readonly exit_code: number;
  readonly cpu_s: number;
  readonly cgroup_peak_mib: number | null;
  readonly throttled_s: number | null;
  /** The summary line's counts. */
  readonly summary: Readonly<Record<string, string | undefined>>;
  /** Requests of the updater that API Priority and Fairness rejected with 429 during the run. */
  readonly rejected?: number;
}

interface SizeResult {
  readonly n: number;
  readonly apf?: { readonly limited: RunResult; readonly lifted: RunResult };
  readonly service_accounts?: { readonly first: RunResult; readonly second: RunResult };
}

async function main(argv: readonly string[]): Promise<void> {
  const parsed = await yargs([...argv])
    .scriptName('bench:faults')
    .options({
      scenarios: { type: 'string', default: SCENARIOS.join(','), describe: 'Which to run' },
      sizes: {
        type: 'string',
        default: '1000,5000',
        describe: 'Comma-separated namespace counts (service-accounts)',
      },
      'apf-sizes': {
        type: 'string',
        default: '500',
        describe:
          'Comma-separated namespace counts for apf: under rejection a run spends minutes in curl retries, so it is measured at fewer sizes',
      },
      write: {
        type: 'boolean',
        default: true,
        describe: 'Write bench/faults-results.json and docs/ (--no-write: print only)',
      },
    })
    .strictOptions()
    .version(false)
    .parseAsync();
  const scenarios = parsed.scenarios.split(',').map((name) => {
    if (!(SCENARIOS as readonly string[]).includes(name)) {
      throw new Error(`--scenarios: unknown "${name}"; choose from ${SCENARIOS.join(', ')}`);
    }
    return name as Scenario;
  });
  const counts = (flag: string, list: string) =>
    list.split(',').map((text) => {
      if (!/^[1-9]\d*$/.test(text.trim()))
        throw new Error(`--${flag} "${text}" must be positive integers, e.g. 1000,5000`);
      return Number(text);
    });
  const accountSizes = scenarios.includes('service-accounts') ? counts('sizes', parsed.sizes) : [];
  const apfSizes = scenarios.includes('apf') ? counts('apf-sizes', parsed['apf-sizes']) : [];
  const sizes = [...new Set([...accountSizes, ...apfSizes])].sort((a, b) => a - b);

  const workDir = mkdtempSync(join(tmpdir(), 'bench-faults-'));
  const tools = await prepareTools(REPO_ROOT, workDir, undefined);
  try {
    const distDir = join(workDir, 'dist');
    const synth = await run(join(REPO_ROOT, 'node_modules', '.bin', 'tsx'), [
      ...[join(REPO_ROOT, 'src', 'main.ts'), '--out-dir', distDir, '--patch-service-accounts', 'default'],
    ]);
    if (synth.code !== 0) throw new Error(`synth failed: ${synth.stderr}`);
    const dist = readDistBundle(distDir);
    const scriptDir = join(workDir, 'scripts');
    mkdirSync(scriptDir);
    for (const [name, text] of Object.entries(dist.scripts)) writeFileSync(join(scriptDir, name), text);
    const moto = await startMotoServer(tools.python);
    const results: SizeResult[] = [];
    try {
      for (const n of sizes) {
        const cluster = await startBenchCluster(tools, join(workDir, `n${n}`));
        try {
          await cluster.admin(
            ['apply', '-f', '-'],
            JSON.stringify({ apiVersion: 'v1', kind: 'List', items: dist.accessObjects }),
          );
          await createNamespaces(cluster, n);
          const runner = new Runner(tools, dist, cluster, join(scriptDir, SCRIPT_KEY), workDir, moto.endpoint);
          // The accounts first: any run of this bundle patches them, and the first run is the one measured.
          let size: SizeResult = { n };
          if (accountSizes.includes(n)) {
            size = { ...size, service_accounts: await serviceAccountScenario(runner, n) };
          }
          if (apfSizes.includes(n)) size = { ...size, apf: await apfScenario(runner, cluster, dist, n) };
          results.push(size);
        } finally {
          await cluster.stop();
        }
      }
    } finally {
      await moto.stop();
    }
    const output = {
      measured_at: new Date().toISOString(),
      command: `npm run bench:faults${argv.length > 0 ? ` -- ${argv.join(' ')}` : ''}`,
      cronjob_limits: dist.limits,
      sizes: results,
    };
    console.log(JSON.stringify(output, null, 2));
    if (parsed.write) {
      writeFileSync(RESULTS_FILE, `${JSON.stringify(output, null, 2)}\n`);
      writeFileSync(DOCS_FILE, report(output));
      log(`wrote ${RESULTS_FILE} and ${DOCS_FILE}`);
    }
  } finally {
    rmSync(tools.tmpfsDir, { recursive: true, force: true });
    rmSync(workDir, { recursive: true, force: true });
  }
}

/** bench-00001 ... bench-N, each with its `default` ServiceAccount (no controller makes them here). */
async function createNamespaces(cluster: BenchCluster, n: number): Promise<void> {
  const started = performance.now();
  for (let first = 1; first <= n; first += 500) {
    const items: object[] = [];
    for (let i = first; i < first + 500 && i <= n; i++) {
      const name = `bench-${String(i).padStart(5, '0')}`;
      items.push({ apiVersion: 'v1', kind: 'Namespace', metadata: { name } });
      items.push({ apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name: 'default', namespace: name } });
    }
    await cluster.admin(
      ['apply', '--server-side', '-o', 'name', '-f', '-'],
      JSON.stringify({ apiVersion: 'v1', kind: 'List', items }),
    );
  }
  log(
    `n=${n}: created ${n} namespaces and their default ServiceAccounts in ${((performance.now() - started) / 1000).toFixed(1)} s`,
  );
}

class Runner {
  private runs = 0;

  constructor(
    private readonly tools: Tools,
    private readonly dist: DistBundle,
    private readonly cluster: BenchCluster,
    private readonly script: string,
    private readonly workDir: string,
    private readonly motoEndpoint: string,
  ) {}

  /** One run of the CronJob's command with its env, inside a cgroup with the CronJob's limits. */
  async run(extra: Record<string, string>): Promise<{ result: RunResult; measurement: Measurement }> {
    this.runs += 1;
    const { namespace, name } = this.dist.serviceAccount;
    const kubeconfig = await this.cluster.serviceAccountKubeconfig(namespace, name);
    const env = containerEnv(
      this.dist.env,
      {
        AWS_ACCESS_KEY_ID: 'AKIABENCHMARKEXAMPLE',
        AWS_SECRET_ACCESS_KEY: 'benchmark-secret-key',
        AWS_REGION: 'eu-west-1',
        // A new account id per run: every run changes every Secret's data.
        AWS_ACCOUNT_ID: String(100_000_000_000 + this.runs),
      },
      {
        ...freshScriptEnv(this.tools, this.workDir, {}),
        KUBECONFIG: kubeconfig,
        AWS_ENDPOINT_URL: this.motoEndpoint,
        ...extra,
      },
    );
    const { cpu, memory } = this.dist.limits;
    if (cpu === undefined || memory === undefined) throw new Error('the CronJob container has no CPU or memory limit');
    const cgroup = createLimitCgroup(`ecr-bench-faults-${process.pid}`, {
      cpuMillicores: cpuMillicores(cpu),
      memoryBytes: memoryBytes(memory),
    });
    let measurement: Measurement;
    try {
      measurement = await measure(this.tools.busybox, this.tools.busybox, ['ash', this.script], {
        env,
        timeoutMs: RUN_TIMEOUT_MS,
        cgroup,
      });
    } finally {
      cgroup.remove();
    }
    const errors = accountingErrors(measurement.stdout);
    if (errors.length > 0) throw new Error(`the run broke the one-result-per-namespace promise: ${errors.join('; ')}`);
    const summary = parseLogfmt(measurement.stdout).find((record) => record.event === 'summary');
    if (summary === undefined)
      throw new Error(
        `no summary (exit ${measurement.exitCode}):\n${measurement.stdout.slice(-3_000)}\n${measurement.stderr.slice(-2_000)}`,
      );
    return {
      measurement,
      result: {
        seconds: Math.round(measurement.seconds * 100) / 100,
        exit_code: measurement.exitCode,
        cpu_s: Math.round(measurement.cpuSeconds * 100) / 100,
        cgroup_peak_mib: measurement.cgroup?.peakMemoryMiB ?? null,
        throttled_s: measurement.cgroup?.throttledSeconds ?? null,
        summary,
      },
    };
  }
}

async function rejectedRequests(cluster: BenchCluster): Promise<number> {
  const metrics = (await cluster.admin(['get', '--raw', '/metrics'])).stdout;
  let sum = 0;
  const pattern = new RegExp(
    `^apiserver_flowcontrol_rejected_requests_total\\{[^}]*priority_level="${PRIORITY_LEVEL}"[^}]*\\} (\\d+)`,
    'gm',
  );
  for (const match of metrics.matchAll(pattern)) sum += Number(match[1]);
  return sum;
}

async function apfScenario(
  runner: Runner,
  cluster: BenchCluster,
  dist: DistBundle,
  n: number,
): Promise<{ limited: RunResult; lifted: RunResult }> {
  const { namespace, name } = dist.serviceAccount;
  const objects = [
    {
      apiVersion: 'flowcontrol.apiserver.k8s.io/v1',
      kind: 'PriorityLevelConfiguration',
      metadata: { name: PRIORITY_LEVEL },
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
      metadata: { name: PRIORITY_LEVEL },
      spec: {
        priorityLevelConfiguration: { name: PRIORITY_LEVEL },
        matchingPrecedence: 500,
        distinguisherMethod: { type: 'ByUser' },
        rules: [
          {
            subjects: [{ kind: 'ServiceAccount', serviceAccount: { name, namespace } }],
            resourceRules: [
              { verbs: ['*'], apiGroups: ['*'], resources: ['*'], namespaces: ['*'], clusterScope: true },
            ],
          },
        ],
      },
    },
  ];
  await cluster.admin(['apply', '-f', '-'], JSON.stringify({ apiVersion: 'v1', kind: 'List', items: objects }));
  await new Promise((resolve) => setTimeout(resolve, 2_000));
  const before = await rejectedRequests(cluster);
  // No pause before exit 6: the time measured is the time until every namespace is accounted for.
  // The Secrets only, as a refresh without --patch-service-accounts makes them.
  const { result } = await runner.run({ ECR_TRANSIENT_PAUSE_SECONDS: '0', ECR_PATCH_SERVICE_ACCOUNTS: '' });
  const limited = { ...result, rejected: (await rejectedRequests(cluster)) - before };
  log(
    `n=${n} apf: ${limited.seconds} s until all ${limited.summary.selected} accounted for (updated ${limited.summary.updated}, failed ${limited.summary.failed}), ${limited.rejected} requests rejected, exit ${limited.exit_code}, ${limited.cpu_s} CPU s`,
  );
  await cluster.admin(['delete', 'flowschema,prioritylevelconfiguration', PRIORITY_LEVEL]);
  const lifted = (await runner.run({ ECR_TRANSIENT_PAUSE_SECONDS: '0', ECR_PATCH_SERVICE_ACCOUNTS: '' })).result;
  log(`n=${n} apf lifted: ${lifted.seconds} s, updated ${lifted.summary.updated}, exit ${lifted.exit_code}`);
  return { limited, lifted };
}

async function serviceAccountScenario(runner: Runner, n: number): Promise<{ first: RunResult; second: RunResult }> {
  const first = (await runner.run({})).result;
  log(
    `n=${n} service accounts, first run: ${first.seconds} s, ${first.cpu_s} CPU s, patched ${first.summary.accounts_patched}, exit ${first.exit_code}, cgroup peak ${first.cgroup_peak_mib} MiB`,
  );
  const second = (await runner.run({})).result;
  log(
    `n=${n} service accounts, second run: ${second.seconds} s, ${second.cpu_s} CPU s, unchanged ${second.summary.accounts_unchanged}, exit ${second.exit_code}`,
  );
  return { first, second };
}

function report(output: {
  measured_at: string;
  command: string;
  cronjob_limits: DistBundle['limits'];
  sizes: SizeResult[];
}): string {
  const limits = `${output.cronjob_limits.cpu ?? '?'} CPU, ${output.cronjob_limits.memory ?? '?'} memory`;
  const lines = [
    '# Benchmark: refresh under faults',
    '',
    `Measured ${output.measured_at} by \`${output.command}\` (bench/faults.ts) on 2 vCPUs: the script of`,
    `a bundle rendered with \`--patch-service-accounts default\`, under busybox ash in a cgroup with the`,
    `CronJob's limits (${limits}), as its ServiceAccount with only the bundle's RBAC, against a real`,
    'kube-apiserver and etcd (a fresh one per size) and moto for ECR.',
    '',
  ];
  const apf = output.sizes.filter((size) => size.apf !== undefined);
  if (apf.length > 0) {
    lines.push(
      '## API Priority and Fairness rejection',
      '',
      "The updater's ServiceAccount matched by a FlowSchema to a PriorityLevelConfiguration with one",
      'nominal share, no borrowing and `limitResponse: Reject` (429 at once for what does not fit).',
      '"Rejected" counts the 429s the API server sent (`apiserver_flowcontrol_rejected_requests_total`):',
      'each was either retried by curl or, after the fourth retry, left its namespace failed.',
      '',
      '| namespaces | until every namespace is accounted for | updated | failed (429) | requests rejected | exit | CPU s | then, limit lifted |',
      '|---:|---:|---:|---:|---:|---:|---:|---|',
      ...apf.map(({ n, apf: r }) =>
        r === undefined
          ? ''
          : `| ${n.toLocaleString('en-US')} | ${r.limited.seconds} s | ${r.limited.summary.updated} | ${r.limited.summary.failed} | ${r.limited.rejected} | ${r.limited.exit_code} | ${r.limited.cpu_s} | ${r.lifted.seconds} s, ${r.lifted.summary.updated} updated, exit ${r.lifted.exit_code} |`,
      ),
      '',
    );
  }
  const accounts = output.sizes.filter((size) => size.service_accounts !== undefined);
  if (accounts.length > 0) {
    lines.push(
      '## `--patch-service-accounts default`',
      '',
      'First run: every Secret written and every `default` ServiceAccount read and patched. Second',
      'run: every Secret written again, every account only read (`unchanged`).',
      '',
      '| namespaces | run | seconds | CPU s | throttled s | memory cgroup peak | accounts | exit |',
      '|---:|---|---:|---:|---:|---:|---|---:|',
      ...accounts.flatMap(({ n, service_accounts: r }) =>
        r === undefined
          ? []
          : (['first', 'second'] as const).map((which) => {
              const x = r[which];
              return `| ${n.toLocaleString('en-US')} | ${which} | ${x.seconds} | ${x.cpu_s} | ${x.throttled_s ?? '?'} | ${x.cgroup_peak_mib ?? '?'} MiB | patched ${x.summary.accounts_patched}, unchanged ${x.summary.accounts_unchanged}, failed ${x.summary.accounts_failed} | ${x.exit_code} |`;
            }),
      ),
      '',
    );
  }
  return lines.join('\n');
}

main(process.argv.slice(2)).catch((error: unknown) => {
  console.error(error instanceof Error ? error.message : error);
  process.exitCode = 1;
});
