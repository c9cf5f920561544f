// docs/benchmarks.md, rendered from the results so that the page always matches results.json.
import type { ChartOutcome } from './chart.js';
import type { BenchResults, ContenderResult, RunRecord, SizeResult } from './results.js';

type Key = 'ours' | 'original' | 'floor';
const KEYS: readonly Key[] = ['ours', 'original', 'floor'];
const LABELS: Record<Key, string> = { ours: 'our script', original: 'original loop', floor: 'floor' };

function fmt(value: number | null | undefined, suffix = ''): string {
  return value === null || value === undefined ? '–' : `${value.toLocaleString('en-US')}${suffix}`;
}

function sig(value: number, digits = 2): string {
  return Number(value.toPrecision(digits)).toLocaleString('en-US');
}

function measured(size: SizeResult, key: Key): ContenderResult | undefined {
  const result = size[key];
  return result === null || result.extrapolated === true ? undefined : result;
}

/** The run of a contender with the highest RSS peak. */
function peakRun(result: ContenderResult): RunRecord | undefined {
  return [...result.runs].sort((a, b) => b.peak_rss_mib - a.peak_rss_mib)[0];
}

function resultsTable(results: BenchResults): string {
  const lines = [
    '| namespaces | contender | median s | min – max s | runs | API requests / run | peak RSS MiB | peak PSS MiB | CPU s | API server + etcd CPU s |',
    '| ---: | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |',
  ];
  for (const size of results.sizes) {
    for (const key of KEYS) {
      const r = size[key];
      if (r === null) continue;
      const guessed = r.extrapolated === true;
      lines.push(
        `| ${fmt(size.n)} | ${LABELS[key]}${guessed ? ' (**extrapolated**)' : ''} | **${fmt(r.median_s)}** | ` +
          `${r.min_s === null ? '–' : `${fmt(r.min_s)} – ${fmt(r.max_s)}`} | ${guessed ? 0 : r.runs.length} | ` +
          `${fmt(r.requests)} | ${fmt(r.peak_rss_mib)} | ${fmt(r.peak_pss_mib)} | ${fmt(r.cpu_s)} | ` +
          `${fmt(r.control_plane_cpu_s)} |`,
      );
    }
  }
  return lines.join('\n');
}

/** Our script held to the CronJob's own CPU and memory limits: the headline. */
function limitedTable(results: BenchResults): string[] {
  const rows = results.sizes.flatMap((size) => {
    const r = size.ours_limited;
    if (r === undefined) return [];
    const throttled = r.runs.map((run) => run.throttled_s ?? 0);
    return [
      `| ${fmt(size.n)} | **${fmt(r.median_s)}** | ${fmt(r.min_s)} – ${fmt(r.max_s)} | ${r.runs.length} | ` +
        `${fmt(r.cpu_s)} | ${fmt(Math.max(...throttled))} | **${fmt(r.cgroup_peak_mib)}** | ${fmt(r.peak_rss_mib)} | ` +
        `${fmt(r.requests)} | ${fmt(size.ours.median_s)} |`,
    ];
  });
  if (rows.length === 0) return [];
  const { cpu, memory } = results.settings.cronjob_limits;
  return [
    `## Under the CronJob's limits (${cpu ?? '?'} CPU, ${memory ?? '?'} memory)`,
    '',
    "Our script as the CronJob runs it, in a cgroup with the container's own limits: a CFS quota of",
    `${cpu ?? '?'} per 100 ms period (what the kubelet sets for a CPU limit) and a memory limit of ${memory ?? '?'}`,
    '(bench/cgroup.ts; cgroup v1 cpu + memory hierarchies, or v2 cpu.max + memory.max). "memory',
    'cgroup peak" is the cgroup\'s own high-water mark (`memory.max_usage_in_bytes`, v2 `memory.peak`):',
    'what the memory limit is checked against, page cache charged to the run included. "throttled s"',
    "is the most any run had of the cgroup's `throttled_time`: time the quota held runnable threads back,",
    'summed over both cores, so it can exceed the wall time. The cgroup is charged for the pages the',
    'run allocates and the files it reads first; binaries already in the page cache from earlier runs',
    '(curl, jq, kubectl) stay charged to whoever read them first, so a fresh pod, which reads them',
    'itself, is charged somewhat more than this peak.',
    '',
    '| namespaces | median s | min – max s | runs | CPU s | throttled s | memory cgroup peak MiB | peak RSS MiB | API requests / run | unlimited median s |',
    '| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |',
    ...rows,
    '',
  ];
}

function ratiosTable(results: BenchResults): string {
  const lines = [
    '| namespaces | original / ours | ours / floor (wall) | ours / floor (client CPU) | our first run (creates every Secret) |',
    '| ---: | ---: | ---: | ---: | ---: |',
  ];
  for (const size of results.sizes) {
    const guessed = size.original?.extrapolated === true ? ' (extrapolated)' : '';
    lines.push(
      `| ${fmt(size.n)} | ${fmt(size.ratios.original_over_ours)}x${guessed} | ${fmt(size.ratios.ours_over_floor)}x | ` +
        `${fmt(size.ratios.ours_over_floor_cpu, 'x')} | ` +
        `${fmt(size.ours_create.seconds)} s, ${fmt(size.ours_create.requests)} requests |`,
    );
  }
  return lines.join('\n');
}

/** How busy the rest of the machine was during the timed runs, in cores. */
function backgroundLoad(results: BenchResults): string {
  let other = 0;
  let seconds = 0;
  for (const size of results.sizes) {
    for (const key of KEYS) {
      for (const run of size[key]?.runs ?? []) {
        other += run.other_cpu_s;
        seconds += run.seconds;
      }
    }
  }
  return seconds === 0 ? 'unknown' : (other / seconds).toFixed(2);
}

function requestBreakdown(results: BenchResults): string[] {
  return results.sizes.flatMap((size) =>
    KEYS.flatMap((key) => {
      const run = measured(size, key)?.runs[0];
      if (run === undefined) return [];
      const verbs = Object.entries(run.requests_by_verb)
        .map(([verb, count]) => `${verb} ${fmt(count)}`)
        .join(', ');
      return [`| ${fmt(size.n)} | ${LABELS[key]} | ${verbs} | ${fmt(run.requests_other)} |`];
    }),
  );
}

/** Observations computed from the numbers, so that they stay true when the numbers change. */
function readingTheNumbers(results: BenchResults): string[] {
  const lines: string[] = [];
  const largest = results.sizes.at(-1);
  const limits = results.settings.cronjob_limits;
  const cpuLimit = limits.cpu?.endsWith('m') === true ? Number(limits.cpu.slice(0, -1)) / 1000 : Number(limits.cpu);

  for (const size of results.sizes) {
    const ours = measured(size, 'ours');
    const floor = measured(size, 'floor');
    if (ours === undefined || floor === undefined) continue;
    lines.push(
      `- n=${fmt(size.n)}: our script takes ${fmt(size.ratios.ours_over_floor)}x the floor's time ` +
        `(${fmt(ours.median_s)} s against ${fmt(floor.median_s)} s) and makes ${fmt(ours.requests - size.namespaces)} ` +
        `requests beyond one per namespace (the floor: ${fmt(floor.requests - size.namespaces)}).`,
    );
  }
  const settings = largest?.ours_settings;
  if (settings !== undefined) {
    const source =
      Object.keys(results.settings.script_env).length === 0 ? 'its defaults' : 'settings from --script-env';
    lines.push(
      `- Our script ran with ${source} (\`${settings}\`). Where it beats the floor, that is its parallel`,
      "  curl processes against the floor's one kubectl; where it trails at small sizes, that is the",
      '  fixed cost of the token request and the namespace list, which the floor does not pay.',
    );
  }

  const originals = results.sizes.flatMap((size) => {
    const original = measured(size, 'original');
    return original === undefined ? [] : [{ size, original }];
  });
  const lastOriginal = originals.at(-1);
  if (lastOriginal !== undefined) {
    const { size, original } = lastOriginal;
    const run = original.runs[0];
    lines.push(
      `- The original loop costs ${sig(original.median_s / size.namespaces)} s, ` +
        `${sig((original.cpu_s ?? 0) / size.namespaces)} CPU s and ${sig(original.requests / size.namespaces)} ` +
        `API requests per namespace (n=${fmt(size.n)}): two kubectl processes each time, a GET and a PATCH, ` +
        `and ${fmt(run?.requests_other)} discovery/OpenAPI requests in all, one per \`kubectl apply\` process.`,
    );
  }

  if (largest !== undefined) {
    const ours = measured(largest, 'ours');
    const peak = ours === undefined ? undefined : peakRun(ours);
    if (ours !== undefined && peak !== undefined) {
      lines.push(
        `- Memory at n=${fmt(largest.n)}: our script peaks at ${fmt(ours.peak_rss_mib)} MiB RSS / ` +
          `${fmt(ours.peak_pss_mib)} MiB PSS; at its peak it is ${peak.peak_breakdown} (RSS MiB per process). ` +
          'A kubectl 1.30 process is some 40-50 MiB before it holds any object; the one in our run is ' +
          "`kubectl config view`, reading the kubeconfig that stands in for the pod's ServiceAccount " +
          'token, which a run in a pod does not start.',
      );
    }
    const limited = largest.ours_limited;
    if (ours?.cpu_s != null && Number.isFinite(cpuLimit) && cpuLimit > 0) {
      const deadline = limits.deadline_s;
      // Where the run under the limit was measured, its own CPU time (often lower than unthrottled).
      const cpu = limited?.cpu_s ?? ours.cpu_s;
      lines.push(
        `- Under the CronJob's ${limits.cpu ?? '?'} CPU limit a run cannot take less than its CPU time ` +
          `divided by ${cpuLimit}: for our script at n=${fmt(largest.n)} ` +
          (limited?.cpu_s == null
            ? `(${fmt(cpu)} CPU s without the limit)`
            : `(${fmt(cpu)} CPU s under the limit, ${fmt(ours.cpu_s)} without; it took ${fmt(limited.median_s)} s)`) +
          ` that is ~${sig(cpu / cpuLimit)} s` +
          (deadline === undefined ? '.' : ` (the Job's deadline is ${fmt(deadline)} s).`) +
          (lastOriginal?.original.cpu_s == null
            ? ''
            : ` The original loop at n=${fmt(lastOriginal.size.n)} would need at least ` +
              `~${sig(lastOriginal.original.cpu_s / cpuLimit / 60)} minutes.`),
      );
    }
  }
  return lines;
}

export function renderMarkdown(results: BenchResults, chart: ChartOutcome): string {
  const targets = results.targets.map(
    (t) => `- ${t.target}: **${t.value}**, ${t.met === true ? 'met' : t.met === false ? '**missed**' : 'not judged'}.`,
  );
  const notes = results.sizes.flatMap((size) =>
    KEYS.flatMap((key) => {
      const note = size[key]?.note;
      return note === undefined ? [] : [`- n=${fmt(size.n)}, ${LABELS[key]}: ${note}.`];
    }),
  );
  const validated = results.sizes.flatMap((size) => {
    const v = size.floor_validated;
    return v === undefined
      ? []
      : [`${fmt(v.median_s)} s and ${fmt(v.cpu_s)} CPU s at n=${fmt(size.n)} (${fmt(size.floor.median_s)} s without)`];
  });
  const { settings } = results;
  return [
    '# Benchmarks',
    '',
    'How long one refresh takes, how many API requests it makes and how much memory it needs, for',
    'our script (as `dist/` ships it), the loop of the article this project started from, and the',
    'floor: the same Secrets written by a single `kubectl apply --server-side`. All three run side',
    'by side on the same real kube-apiserver.',
    '',
    `Generated by \`${settings.command}\` at commit ${settings.commit} on ${settings.generated_at.slice(0, 10)}, ` +
      `in ${Math.round(settings.duration_s / 60)} min; every number is in [bench/results.json](../bench/results.json). ` +
      `\`npm run synth\` takes ${fmt(results.synth_median_s)} s (median of ${settings.synth_runs}).`,
    '',
    ...limitedTable(results),
    '## Results (no limits)',
    '',
    'Steady state: every timed run updates Secrets that already exist, as a CronJob run every few',
    `hours does. Median of ${settings.runs} runs each, the contenders in alternation. "CPU s" is the`,
    'run\'s own processes; "API server + etcd" is what the control plane spent serving it.',
    '',
    resultsTable(results),
    '',
    ratiosTable(results),
    '',
    ...(notes.length > 0 ? ['Notes:', '', ...notes, ''] : []),
    chart.ok ? '![Wall time against namespace count, log-log](benchmarks.png)' : `(chart not drawn: ${chart.why})`,
    '',
    '## Targets',
    '',
    ...targets,
    '',
    '## Reading the numbers',
    '',
    ...readingTheNumbers(results),
    '',
    'API requests of the first timed run, by verb (`APPLY` is a server-side apply PATCH):',
    '',
    '| namespaces | contender | secrets and namespaces | discovery, OpenAPI, other |',
    '| ---: | --- | --- | ---: |',
    ...requestBreakdown(results),
    '',
    '## What is measured, and how',
    '',
    "- **Cluster**: the e2e harness's real etcd + kube-apiserver (`test/e2e/harness/`), started",
    '  fresh for each namespace count, on loopback. AWS is moto (`AWS_ENDPOINT_URL`). Each size',
    '  creates N namespaces `bench-00001` ...; every contender writes one Secret into every namespace',
    '  of the cluster, which also has its own few (`default`, `kube-system`, ..., `ecr-updater`).',
    '- **Our script** is read from the `ecr-credential-refresh-script` ConfigMap in `dist/` and run',
    '  under `busybox ash` with busybox applets first on PATH, then curl, kubectl, aws and jq, with',
    "  the CronJob container's environment (its Secret's keys filled in, `AWS_ACCOUNT_ID` among them",
    '  as `scripts/bootstrap-iam.sh` writes it, a fresh empty HOME on disk and TMPDIR on tmpfs per',
    "  run as the pod's emptyDirs give it), as the updater ServiceAccount with `dist/`'s RBAC,",
    '  through a kubeconfig holding a fresh TokenRequest token. Its first run on each cluster creates',
    '  every Secret; that run is reported apart and is not in the medians.',
    '- **The original loop** is [bench/original-refresh.sh](../bench/original-refresh.sh): the',
    "  article's CronJob script without its `apk add` (alpine/k8s has the aws CLI already), run the",
    "  same way as its own ServiceAccount with the article's ClusterRole (secrets get/create/patch/",
    '  update, namespaces get/list). One token, then per namespace `kubectl create secret',
    '  docker-registry ... --dry-run=client -o yaml | kubectl apply -f -`: two kubectl processes',
    '  per namespace, and the token on the argv of one of them, readable by every user of the node',
    '  in `/proc/PID/cmdline`, as in the article. Its Secrets are seeded before its timed runs, so',
    '  that those are updates too. Where one run takes more than 10 minutes it is not repeated;',
    '  where it is not run at all (`--original-max-n`), its time and requests are extrapolated on a',
    '  straight line through the two largest measured sizes and marked as such.',
    '- **The floor** is the same Secrets as our script writes them (its last Secret, copied into',
    "  every namespace with the run's new data), rendered beforehand and applied by one",
    '  `kubectl apply --server-side --validate=false -f -` as the updater ServiceAccount: no token',
    '  fetch, no namespace list, one process. `--validate=false` because with the kubectl that',
    '  alpine/k8s ships (1.30), client-side validation costs more per object than the write itself,',
    '  and a floor that pays it is no floor' +
      (validated.length === 0
        ? '.'
        : `: the same apply with the default \`--validate=strict\` took ${validated.join('; ')} (one run each).`),
    '- **Every run changes every Secret.** moto hands out the same token each time, where AWS hands',
    '  out a new one; each run therefore gets its own `AWS_ACCOUNT_ID`, which changes the registry',
    "  host in every Secret's `.dockerconfigjson`, and after each run the bench checks that every",
    "  namespace holds that run's host. No run is a no-op that the API server or client-side apply",
    '  could skip.',
    '- **Wall time**: from spawning the run to its exit.',
    "- **API requests**: from the API server's `/metrics`, read before and after each run. API",
    '  Priority and Fairness sorts every request, discovery and OpenAPI included, by who sent it;',
    '  the runner is the only ServiceAccount on the cluster, so the change of the',
    '  `apiserver_flowcontrol_dispatched_requests_total{flow_schema="service-accounts"}` counter is',
    "  exactly its requests (the API server's own traffic and the bench's admin calls are in the",
    '  `exempt` flow). `apiserver_request_total` gives the split by verb.',
    '- **Memory**: each run is started in a session of its own; every 50 ms the bench sums VmRSS',
    '  and Pss over every process of that session from `/proc` (a session, not parent links, so',
    '  that an orphaned child still counts). Peak RSS is the highest such sum of any run. RSS counts',
    '  the pages processes share (the kubectl binary, mostly) once per process and so overstates',
    "  what a container's memory cgroup charges; PSS splits shared pages between their users and is",
    "  the closer measure of the container's footprint. A process that lives less than 50 ms can be",
    '  missed.',
    '- **CPU s**: user + system time of the whole process tree (`busybox time`, i.e. getrusage of',
    '  every waited-for process). "API server + etcd" is their CPU time over the run, from `/proc`.',
    '- **Not modelled**: network latency to a remote API server (loopback answers in a millisecond',
    '  or two), and admission webhooks or audit logging a real cluster may add per request. The',
    "  pod's limits are modelled only in the limited run above, by a cgroup on this machine's cores.",
    '',
    '## Machine',
    '',
    results.machine,
    '',
    `During the timed runs the rest of the machine kept ${backgroundLoad(results)} cores busy on average (the`,
    "bench's own memory sampler, moto, and whatever else ran there); the min – max spread shows what",
    'that did to the times.',
    '',
    '| component | version |',
    '| --- | --- |',
    ...Object.entries(results.versions).map(([name, version]) => `| ${name} | ${version} |`),
    '',
    '## Reproduce',
    '',
    '```sh',
    'bash scripts/e2e-prereqs.sh   # once: busybox, jq, the moto/aws CLI venv, kube-apiserver and etcd',
    `npm run bench                 # every size, ~${Math.max(1, Math.round(settings.duration_s / 60))} min here; --sizes 100,1000 to choose`,
    'npm run bench -- --help       # every option, e.g. --script-env ECR_APPLY_PARALLELISM=1',
    'npm run bench -- --report-only   # redraw this page and the chart from bench/results.json',
    '```',
    '',
    'The chart is drawn by `bench/chart.py` with the matplotlib pinned in `bench/requirements.txt`,',
    'installed on first use into `${ECR_K8S_CACHE_DIR:-~/.cache/ecr-k8s-credentials}/bench-venv`.',
    'The scripts get a kubectl 1.30, the version in alpine/k8s:1.30.7, when the machine has one',
    "(`kubectl.1.30` on PATH or in the Google Cloud SDK), otherwise the e2e harness's; `--kubectl`",
    'picks another. The version matters: kubectl 1.34 validates cheaply, 1.30 to 1.33 do not (see',
    'the floor above).',
    '',
  ].join('\n');
}
