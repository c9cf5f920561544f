import { parseMetrics, requestsBetween, type RequestCount } from './api-requests.js';
import { cpuMillicores, createLimitCgroup, memoryBytes, type LimitCgroup } from './cgroup.js';
import { cpuSnapshot } from './cpu.js';
import { containerEnv, type DistBundle, type KubeObject } from './dist-bundle.js';
import { freshScriptEnv, type BenchCluster, type Tools } from './environment.js';
import { measure, type Measurement } from './measure.js';

/**
 * ours: the refresh script from dist/ as the CronJob runs it;
 * ours-limited: the same, held to the CronJob's CPU and memory limits by a cgroup (bench/cgroup.ts);
 * original: the article's loop (bench/original-refresh.sh) with the article's RBAC;
 * floor: the same Secrets, pre-rendered, written by one `kubectl apply --server-side`;
 * floor-validated: the floor with kubectl's default client-side validation (informational).
 */
export const CONTENDERS = ['ours', 'ours-limited', 'original', 'floor', 'floor-validated'] as const;
export type ContenderId = (typeof CONTENDERS)[number];

export interface RunOutcome {
  readonly measurement: Measurement;
  readonly requests: RequestCount;
  /** CPU time kube-apiserver and etcd spent during the run: the load it put on the control plane. */
  readonly controlPlaneCpuSeconds: number;
  /**
   * Busy CPU time of the rest of the machine during the run (the bench's own sampler, moto, and
   * whatever else runs here): large values mean the run shared the cores with something.
   */
  readonly otherCpuSeconds: number;
}

/** Everything the runs at one namespace count share. */
export interface SizeContext {
  readonly cluster: BenchCluster;
  readonly tools: Tools;
  readonly dist: DistBundle;
  /** The script from dist's ConfigMap, written to a file. */
  readonly scriptPath: string;
  readonly originalScriptPath: string;
  readonly workDir: string;
  readonly motoEndpoint: string;
  /** ECR's authorizationToken as moto answers it: base64 "AWS:<password>". */
  readonly authorizationToken: string;
  /** Every namespace of the cluster, the bench's and the system ones: what the scripts target. */
  readonly namespaces: readonly string[];
  /** Extra environment for our script (e.g. ECR_APPLY_BATCH_SIZE), on top of the CronJob's. */
  readonly scriptEnvOverrides: Readonly<Record<string, string>>;
  readonly timeoutMs: number;
}

export const REGION = 'eu-west-1';
const FIELD_MANAGER = 'ecr-k8s-credentials';
const ORIGINAL = { name: 'ecr-credential-updater-original', secretName: 'ecr-registry-credentials-original' };
// moto runs with authentication off: any key works, and none of this machine's leaks in.
const AWS_KEYS = { AWS_ACCESS_KEY_ID: 'AKIABENCHMARKEXAMPLE', AWS_SECRET_ACCESS_KEY: 'benchmark-secret-key' };

/**
 * The registry host of one run. moto hands out the same token every time, while a real refresh
 * gets a new one: a new account id per run changes every Secret's data the same way, so that no
 * run is a no-op that the API server (or client-side apply) could skip.
 */
export function registryHost(account: string): string {
  return `${account}.dkr.ecr.${REGION}.amazonaws.com`;
}

export function ourSecretName(dist: DistBundle): string {
  return dist.env.find((variable) => variable.name === 'ECR_SECRET_NAME')?.value ?? 'ecr-registry-credentials';
}

/** The original's ServiceAccount and the article's ClusterRole, beside ours in its namespace. */
export function originalAccessObjects(namespace: string): KubeObject[] {
  const { name } = ORIGINAL;
  return [
    { apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name, namespace } },
    {
      apiVersion: 'rbac.authorization.k8s.io/v1',
      kind: 'ClusterRole',
      metadata: { name },
      rules: [
        { apiGroups: [''], resources: ['secrets'], verbs: ['get', 'create', 'patch', 'update'] },
        { apiGroups: [''], resources: ['namespaces'], verbs: ['get', 'list'] },
      ],
    },
    {
      apiVersion: 'rbac.authorization.k8s.io/v1',
      kind: 'ClusterRoleBinding',
      metadata: { name },
      roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name },
      subjects: [{ kind: 'ServiceAccount', name, namespace }],
    },
  ];
}

/**
 * The original's Secrets as its first run leaves them (`kubectl create secret docker-registry`
 * output, applied client-side), so that its timed runs are all updates, like ours.
 */
export function originalSeedSecrets(ctx: SizeContext, account: string): string {
  const password = Buffer.from(ctx.authorizationToken, 'base64').toString('utf8').replace(/^AWS:/, '');
  const dockerConfig = {
    auths: {
      [registryHost(account)]: {
        username: 'AWS',
        password,
        auth: Buffer.from(`AWS:${password}`).toString('base64'),
      },
    },
  };
  const data = { '.dockerconfigjson': Buffer.from(JSON.stringify(dockerConfig)).toString('base64') };
  return ctx.namespaces
    .map((namespace) =>
      JSON.stringify({
        apiVersion: 'v1',
        kind: 'Secret',
        metadata: { name: ORIGINAL.secretName, namespace },
        type: 'kubernetes.io/dockerconfigjson',
        data,
      }),
    )
    .map((doc) => `---\n${doc}\n`)
    .join('');
}

async function scrapeMetrics(cluster: BenchCluster): Promise<ReturnType<typeof parseMetrics>> {
  return parseMetrics((await cluster.admin(['get', '--raw', '/metrics'])).stdout);
}

/** Runs one contender once, counts its requests and checks that it wrote every Secret. */
export async function runContender(
  id: ContenderId,
  ctx: SizeContext,
  account: string,
  floorTemplate: KubeObject | undefined,
): Promise<RunOutcome> {
  const { command, args, env, input, secretName } = await invocation(id, ctx, account, floorTemplate);
  const before = await scrapeMetrics(ctx.cluster);
  const controlPlanePids = [ctx.cluster.pids.kubeApiserver, ctx.cluster.pids.etcd];
  const cpuBefore = cpuSnapshot(controlPlanePids);
  const cgroup = id === 'ours-limited' ? limitCgroup(ctx) : undefined;
  let measurement: Measurement;
  try {
    measurement = await measure(ctx.tools.busybox, command, args, {
      env,
      input,
      timeoutMs: ctx.timeoutMs,
      ...(cgroup === undefined ? {} : { cgroup }),
    });
  } finally {
    cgroup?.remove();
  }
  const cpuAfter = cpuSnapshot(controlPlanePids);
  const after = await scrapeMetrics(ctx.cluster);
  const controlPlaneCpuSeconds = cpuAfter.controlPlane - cpuBefore.controlPlane;
  const otherCpuSeconds =
    cpuAfter.machineBusy - cpuBefore.machineBusy - controlPlaneCpuSeconds - measurement.cpuSeconds;
  if (measurement.exitCode !== 0) {
    throw new Error(
      `${id} exited ${measurement.exitCode}\n--- stderr ---\n${measurement.stderr.slice(-3_000)}\n` +
        `--- stdout ---\n${measurement.stdout.slice(-3_000)}`,
    );
  }
  checkOutput(id, measurement.stdout, ctx.namespaces.length);
  await checkSecrets(ctx, secretName, registryHost(account), id);
  return {
    measurement,
    requests: requestsBetween(before, after),
    controlPlaneCpuSeconds,
    otherCpuSeconds: Math.max(0, otherCpuSeconds),
  };
}

/** A fresh cgroup with the CronJob container's CPU and memory limits from dist/. */
function limitCgroup(ctx: SizeContext): LimitCgroup {
  const { cpu, memory } = ctx.dist.limits;
  if (cpu === undefined || memory === undefined) {
    throw new Error('ours-limited needs the CronJob container to have CPU and memory limits in dist/');
  }
  return createLimitCgroup(`ecr-bench-${process.pid}`, {
    cpuMillicores: cpuMillicores(cpu),
    memoryBytes: memoryBytes(memory),
  });
}

interface Invocation {
  readonly command: string;
  readonly args: readonly string[];
  readonly env: Record<string, string>;
  readonly input?: string;
  readonly secretName: string;
}

async function invocation(
  id: ContenderId,
  ctx: SizeContext,
  account: string,
  floorTemplate: KubeObject | undefined,
): Promise<Invocation> {
  const { tools, dist, cluster } = ctx;
  const { namespace, name } = dist.serviceAccount;
  switch (id) {
    case 'ours':
    case 'ours-limited': {
      const kubeconfig = await cluster.serviceAccountKubeconfig(namespace, name);
      const base = freshScriptEnv(tools, ctx.workDir, {});
      // The CronJob's env, its Secret's keys filled in; HOME and TMPDIR are the pod's emptyDirs,
      // KUBECONFIG stands in for the mounted ServiceAccount token.
      const env = containerEnv(
        dist.env,
        { ...AWS_KEYS, AWS_REGION: REGION, AWS_ACCOUNT_ID: account },
        { ...base, KUBECONFIG: kubeconfig, AWS_ENDPOINT_URL: ctx.motoEndpoint, ...ctx.scriptEnvOverrides },
      );
      return { command: tools.busybox, args: ['ash', ctx.scriptPath], env, secretName: ourSecretName(dist) };
    }
    case 'original': {
      const kubeconfig = await cluster.serviceAccountKubeconfig(namespace, ORIGINAL.name);
      const env = freshScriptEnv(tools, ctx.workDir, {
        ...AWS_KEYS,
        AWS_REGION: REGION,
        AWS_ACCOUNT_ID: account,
        AWS_ENDPOINT_URL: ctx.motoEndpoint,
        KUBECONFIG: kubeconfig,
        SECRET_NAME: ORIGINAL.secretName,
      });
      return { command: tools.busybox, args: ['ash', ctx.originalScriptPath], env, secretName: ORIGINAL.secretName };
    }
    case 'floor':
    case 'floor-validated': {
      if (floorTemplate === undefined) throw new Error('the floor needs a Secret our script wrote as its template');
      const kubeconfig = await cluster.serviceAccountKubeconfig(namespace, name);
      const env = freshScriptEnv(tools, ctx.workDir, { KUBECONFIG: kubeconfig });
      const args = ['apply', '--server-side', `--field-manager=${FIELD_MANAGER}`, '-f', '-'];
      if (id === 'floor') args.splice(2, 0, '--validate=false');
      return {
        command: `${tools.toolsDir}/kubectl`,
        args,
        env,
        input: floorSecrets(floorTemplate, ctx.namespaces, account),
        secretName: floorTemplate.metadata.name,
      };
    }
  }
}

/**
 * The floor's input: the Secret as our script last wrote it (labels, annotations, type), one per
 * namespace, with this run's registry host in place of the template's.
 */
function floorSecrets(template: KubeObject, namespaces: readonly string[], account: string): string {
  const templateHost = hostOf(template);
  const newHost = registryHost(account);
  const data: Record<string, string> = {};
  for (const [key, value] of Object.entries(template.data as Record<string, string>)) {
    const decoded = Buffer.from(value, 'base64').toString('utf8');
    data[key] = Buffer.from(decoded.replaceAll(templateHost, newHost)).toString('base64');
  }
  const { metadata } = template;
  const annotations = Object.fromEntries(
    Object.entries(metadata.annotations ?? {}).map(([key, value]) => [key, value.replaceAll(templateHost, newHost)]),
  );
  return namespaces
    .map((namespace) =>
      JSON.stringify({
        apiVersion: 'v1',
        kind: 'Secret',
        metadata: { name: metadata.name, namespace, labels: metadata.labels, annotations },
        type: template.type,
        data,
      }),
    )
    .map((doc) => `---\n${doc}\n`)
    .join('');
}

/** The one registry host in a Secret's .dockerconfigjson. */
function hostOf(secret: KubeObject): string {
  const encoded = (secret.data as Record<string, string> | undefined)?.['.dockerconfigjson'];
  if (encoded === undefined) throw new Error(`Secret ${secret.metadata.name} has no .dockerconfigjson`);
  const hosts = Object.keys((JSON.parse(Buffer.from(encoded, 'base64').toString('utf8')) as DockerConfig).auths);
  if (hosts.length !== 1 || hosts[0] === undefined) {
    throw new Error(`expected one registry in ${secret.metadata.name}, found ${hosts.join(', ')}`);
  }
  return hosts[0];
}

interface DockerConfig {
  auths: Record<string, unknown>;
}

/** The Secret our script wrote into `namespace`, trimmed to what an apply would send. */
export async function readSecretTemplate(cluster: BenchCluster, name: string, namespace: string): Promise<KubeObject> {
  const secret = JSON.parse((await cluster.admin(['get', 'secret', name, '-n', namespace, '-o', 'json'])).stdout) as {
    metadata: { name: string; labels?: Record<string, string>; annotations?: Record<string, string> };
    type: string;
    data: Record<string, string>;
  };
  return {
    apiVersion: 'v1',
    kind: 'Secret',
    metadata: {
      name: secret.metadata.name,
      labels: secret.metadata.labels,
      annotations: secret.metadata.annotations,
    },
    type: secret.type,
    data: secret.data,
  };
}

/** The run said it wrote every namespace. */
function checkOutput(id: ContenderId, stdout: string, expected: number): void {
  let written: number;
  if (id === 'ours' || id === 'ours-limited') {
    const summary = stdout.split('\n').find((line) => line.includes('event=summary')) ?? '';
    written = Number(/ updated=(\d+)/.exec(summary)?.[1] ?? -1);
  } else if (id === 'original') {
    written = stdout.split('\n').filter((line) => line.startsWith('Secret updated successfully in ')).length;
  } else {
    written = stdout.split('\n').filter((line) => line.startsWith('secret/')).length;
  }
  if (written !== expected) {
    throw new Error(`${id} reported ${written} Secrets written, expected ${expected}\n${stdout.slice(-2_000)}`);
  }
}

/** Every namespace now holds the Secret with this run's registry host: the run really wrote it. */
async function checkSecrets(ctx: SizeContext, name: string, host: string, id: ContenderId): Promise<void> {
  const { stdout } = await ctx.cluster.admin([
    'get',
    'secrets',
    '--all-namespaces',
    '--field-selector',
    `metadata.name=${name}`,
    '-o',
    'json',
  ]);
  const items = (JSON.parse(stdout) as { items: KubeObject[] }).items;
  const current = items.filter((secret) => hostOf(secret) === host).length;
  if (current !== ctx.namespaces.length) {
    throw new Error(`${id}: ${current} of ${ctx.namespaces.length} namespaces hold Secret ${name} for ${host}`);
  }
}
