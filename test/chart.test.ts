import { describe, expect, test } from 'vitest';
import type { RefreshScripts } from '../src/constructs/refresh-script-config-map.js';
import { readFileSync } from 'node:fs';
import { appliedObjects, find, type KubeObject, objectsIn, render, TEST_SCRIPTS } from './helpers.js';

const PACKAGE_VERSION = (
  JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string }
).version;

interface PodSpec {
  serviceAccountName: string;
  automountServiceAccountToken: boolean;
  restartPolicy: string;
  securityContext: Record<string, unknown>;
  containers: {
    image: string;
    command: string[];
    env: { name: string; value?: string; valueFrom?: unknown }[];
    resources: unknown;
    securityContext: Record<string, unknown>;
    volumeMounts: { name: string; mountPath: string; readOnly?: boolean }[];
  }[];
  volumes: { name: string; configMap?: { name: string }; emptyDir?: unknown }[];
}

function cronJobPod(objects: KubeObject[]): PodSpec {
  const cronJob = find(objects, 'CronJob') as unknown as {
    spec: { jobTemplate: { spec: { template: { spec: PodSpec } } } };
  };
  return cronJob.spec.jobTemplate.spec.template.spec;
}

function fromSecret(variable: { valueFrom?: unknown }): boolean {
  return (variable.valueFrom as { secretKeyRef?: unknown } | undefined)?.secretKeyRef !== undefined;
}

function envOf(pod: PodSpec): Record<string, string | undefined> {
  return Object.fromEntries(pod.containers[0]!.env.map((variable) => [variable.name, variable.value]));
}

describe('default bundle', () => {
  const objects = appliedObjects();

  test('matches the snapshot', () => {
    expect(render()).toMatchSnapshot();
  });

  test("holds exactly the expected objects: the module's names, the cluster-scoped RBAC named after the namespace", () => {
    expect(
      objects.map((object) => `${object.kind}/${object.metadata.namespace ?? ''}/${object.metadata.name}`),
    ).toEqual([
      'Namespace//ecr-updater',
      'ServiceAccount/ecr-updater/ecr-credential-updater',
      'ClusterRole//ecr-k8s-credentials-ecr-updater',
      'ClusterRoleBinding//ecr-k8s-credentials-ecr-updater',
      'Role/ecr-updater/ecr-credential-updater-events',
      'RoleBinding/ecr-updater/ecr-credential-updater-events',
      'NetworkPolicy/ecr-updater/ecr-credential-refresh',
      'ConfigMap/ecr-updater/ecr-credential-refresh-script',
      'CronJob/ecr-updater/ecr-credential-refresh',
      expect.stringMatching(/^Job\/ecr-updater\/ecr-credential-refresh-initial-[0-9a-f]{10}$/),
    ]);
  });

  test('namespace enforces Pod Security restricted', () => {
    expect(find(objects, 'Namespace').metadata.labels).toMatchObject({
      'pod-security.kubernetes.io/enforce': 'restricted',
    });
  });

  test('ClusterRole: list namespaces; create/patch only the managed secret; nothing else', () => {
    expect(find(objects, 'ClusterRole').rules).toEqual([
      { apiGroups: [''], resources: ['namespaces'], verbs: ['list'] },
      {
        apiGroups: [''],
        resources: ['secrets'],
        resourceNames: ['ecr-registry-credentials'],
        verbs: ['create', 'patch'],
      },
    ]);
  });

  test('binding grants the role to the updater ServiceAccount only', () => {
    expect(find(objects, 'ClusterRoleBinding')).toMatchObject({
      roleRef: { kind: 'ClusterRole', name: 'ecr-k8s-credentials-ecr-updater' },
      subjects: [{ kind: 'ServiceAccount', name: 'ecr-credential-updater', namespace: 'ecr-updater' }],
    });
  });

  test('Events: a Role to create them in the updater namespace only, bound to the updater', () => {
    expect(find(objects, 'Role')).toMatchObject({
      metadata: { namespace: 'ecr-updater' },
      rules: [{ apiGroups: [''], resources: ['events'], verbs: ['create'] }],
    });
    expect(find(objects, 'RoleBinding')).toMatchObject({
      metadata: { namespace: 'ecr-updater' },
      roleRef: { kind: 'Role', name: 'ecr-credential-updater-events' },
      subjects: [{ kind: 'ServiceAccount', name: 'ecr-credential-updater', namespace: 'ecr-updater' }],
    });
  });

  test('the pod knows its Job (name, uid) and namespace through the downward API, for the Event', () => {
    const env = cronJobPod(objects).containers[0]!.env.filter((variable) => variable.valueFrom !== undefined);
    expect(env.filter((variable) => variable.name.startsWith('ECR_'))).toEqual([
      { name: 'ECR_POD_NAMESPACE', valueFrom: { fieldRef: { fieldPath: 'metadata.namespace' } } },
      {
        name: 'ECR_JOB_NAME',
        valueFrom: { fieldRef: { fieldPath: "metadata.labels['batch.kubernetes.io/job-name']" } },
      },
      {
        name: 'ECR_JOB_UID',
        valueFrom: { fieldRef: { fieldPath: "metadata.labels['batch.kubernetes.io/controller-uid']" } },
      },
    ]);
  });

  test('ServiceAccount does not automount its token; only the refresh pod opts in', () => {
    expect(find(objects, 'ServiceAccount').automountServiceAccountToken).toBe(false);
    expect(cronJobPod(objects).automountServiceAccountToken).toBe(true);
  });

  test('NetworkPolicy: no ingress, egress only DNS, 443 and the API server port', () => {
    const policy = find(objects, 'NetworkPolicy') as unknown as {
      spec: { policyTypes: string[]; ingress?: unknown[]; egress: { ports: { port: number; protocol: string }[] }[] };
    };
    expect(policy.spec.policyTypes).toEqual(['Ingress', 'Egress']);
    // Ingress listed with no rules: all ingress denied.
    expect(policy.spec.ingress).toBeUndefined();
    expect(policy.spec.egress.flatMap((rule) => rule.ports.map((port) => `${port.protocol}/${port.port}`))).toEqual([
      'UDP/53',
      'TCP/53',
      'TCP/443',
      'TCP/6443',
    ]);
  });

  test('CronJob: 6-hourly in UTC, no overlap, bounded history, deadlines', () => {
    expect(find(objects, 'CronJob').spec).toMatchObject({
      schedule: '0 */6 * * *',
      timeZone: 'Etc/UTC',
      concurrencyPolicy: 'Forbid',
      successfulJobsHistoryLimit: 3,
      failedJobsHistoryLimit: 3,
      startingDeadlineSeconds: 3600,
      jobTemplate: { spec: { backoffLimit: 2, activeDeadlineSeconds: 900 } },
    });
  });

  test('refresh pod is hardened for Pod Security restricted and runs the ConfigMap script with /bin/sh', () => {
    const pod = cronJobPod(objects);
    expect(pod.securityContext).toEqual({
      runAsNonRoot: true,
      runAsUser: 65534,
      runAsGroup: 65534,
      seccompProfile: { type: 'RuntimeDefault' },
    });
    const container = pod.containers[0]!;
    expect(container.securityContext).toEqual({
      allowPrivilegeEscalation: false,
      readOnlyRootFilesystem: true,
      runAsNonRoot: true,
      capabilities: { drop: ['ALL'] },
    });
    expect(container.image).toBe('alpine/k8s:1.30.7');
    expect(container.command).toEqual(['/bin/sh', '/opt/ecr-credential-refresh/refresh-ecr-credentials.sh']);
    expect(container.resources).toEqual({
      requests: { cpu: '50m', memory: '32Mi' },
      limits: { cpu: '100m', memory: '128Mi' },
    });
    expect(pod.volumes.find((volume) => volume.name === 'script')?.configMap?.name).toBe(
      'ecr-credential-refresh-script',
    );
    // Writable places on a read-only root: HOME and /tmp only.
    expect(container.volumeMounts.filter((mount) => mount.readOnly !== true).map((mount) => mount.mountPath)).toEqual([
      '/home/refresh',
      '/tmp',
    ]);
    // The Secret body and the API's responses (holding the pull token) stay off the node's disk.
    expect(pod.volumes.find((volume) => volume.name === 'tmp')?.emptyDir).toEqual({
      medium: 'Memory',
      sizeLimit: '64Mi',
    });
    expect(pod.volumes.find((volume) => volume.name === 'home')?.emptyDir).toEqual({ sizeLimit: '64Mi' });
  });

  test('empty settings are written without a value, so re-applying is a no-op', () => {
    const env = cronJobPod(objects).containers[0]!.env;
    expect(env.filter((variable) => variable.value === '')).toEqual([]);
    expect(env.find((variable) => variable.name === 'ECR_REGISTRIES')).toEqual({ name: 'ECR_REGISTRIES' });
  });

  test('AWS keys come from the credentials Secret, never as literal values', () => {
    const env = cronJobPod(objects).containers[0]!.env;
    for (const name of ['AWS_ACCESS_KEY_ID', 'AWS_SECRET_ACCESS_KEY', 'AWS_REGION']) {
      expect(env.find((variable) => variable.name === name)).toEqual({
        name,
        valueFrom: { secretKeyRef: { name: 'aws-ecr-credentials', key: name } },
      });
    }
  });

  test('ConfigMap carries every script file unchanged, one key each', () => {
    expect(find(objects, 'ConfigMap').data).toEqual(TEST_SCRIPTS);
  });

  test('first-run Job runs the same pod as the CronJob and has no TTL (a deleted Job would be re-created)', () => {
    const job = find(objects, 'Job') as KubeObject & { spec: Record<string, unknown> & { template: unknown } };
    expect(job.spec).not.toHaveProperty('ttlSecondsAfterFinished');
    expect(job.metadata.annotations).toBeUndefined();
    const cronJob = find(objects, 'CronJob') as unknown as { spec: { jobTemplate: { spec: { template: unknown } } } };
    expect(job.spec.template).toEqual(cronJob.spec.jobTemplate.spec.template);
  });
});

describe('flags reach the objects', () => {
  test('--namespace, --service-account, --secret-name, --aws-secret-name', () => {
    const objects = appliedObjects({
      namespace: 'pull',
      serviceAccount: 'refresher',
      secretName: 'ecr-pull',
      awsSecretName: 'aws-keys',
    });
    expect(find(objects, 'Namespace').metadata.name).toBe('pull');
    expect(
      objects.filter((object) => object.metadata.namespace !== undefined).map((o) => o.metadata.namespace),
    ).toEqual(Array(7).fill('pull'));
    expect(find(objects, 'ServiceAccount').metadata.name).toBe('refresher');
    // Cluster-scoped names follow the namespace, so two installs never share one.
    expect(find(objects, 'ClusterRole').metadata.name).toBe('ecr-k8s-credentials-pull');
    expect(find(objects, 'ClusterRoleBinding').metadata.name).toBe('ecr-k8s-credentials-pull');
    expect(find(objects, 'Role').metadata.name).toBe('refresher-events');
    expect(find(objects, 'ClusterRoleBinding').subjects).toEqual([
      { kind: 'ServiceAccount', name: 'refresher', namespace: 'pull' },
    ]);
    expect(JSON.stringify(find(objects, 'ClusterRole').rules)).toContain('"resourceNames":["ecr-pull"]');
    const pod = cronJobPod(objects);
    expect(pod.serviceAccountName).toBe('refresher');
    expect(envOf(pod).ECR_SECRET_NAME).toBe('ecr-pull');
    expect(JSON.stringify(pod.containers[0]!.env)).toContain('"name":"aws-keys"');
  });

  test('--schedule and --image', () => {
    const objects = appliedObjects({ schedule: '15 */4 * * *', image: 'alpine/k8s:1.31.2' });
    expect(find(objects, 'CronJob').spec).toMatchObject({ schedule: '15 */4 * * *' });
    expect(cronJobPod(objects).containers[0]!.image).toBe('alpine/k8s:1.31.2');
  });

  test('namespace targeting, registries and adoption reach the script as environment variables', () => {
    const env = envOf(
      cronJobPod(
        appliedObjects({
          targetNamespaces: ['team-*', 'prod'],
          excludeNamespaces: ['kube-*'],
          namespaceSelector: 'ecr-pull=enabled',
          registry: ['210987654321.dkr.ecr.eu-west-1.amazonaws.com', '123456789012.dkr.ecr.us-east-2.amazonaws.com'],
          adoptExistingSecrets: true,
        }),
      ),
    );
    expect(env).toMatchObject({
      ECR_TARGET_NAMESPACES: 'team-* prod',
      ECR_EXCLUDE_NAMESPACES: 'kube-*',
      ECR_NAMESPACE_SELECTOR: 'ecr-pull=enabled',
      ECR_REGISTRIES: '210987654321.dkr.ecr.eu-west-1.amazonaws.com 123456789012.dkr.ecr.us-east-2.amazonaws.com',
      ECR_ADOPT_EXISTING: 'true',
    });
  });

  test('--api-server-cidr and --api-server-port narrow only the API server rule', () => {
    const policy = find(
      appliedObjects({ apiServerCidr: ['10.0.0.10/32'], apiServerPort: 443 }),
      'NetworkPolicy',
    ) as unknown as {
      spec: { egress: { to?: { ipBlock: { cidr: string } }[]; ports: { port: number }[] }[] };
    };
    const [, aws, apiServer] = policy.spec.egress;
    expect(aws!.to!.map((peer) => peer.ipBlock.cidr)).toEqual(['0.0.0.0/0', '::/0']);
    expect(apiServer).toEqual({ to: [{ ipBlock: { cidr: '10.0.0.10/32' } }], ports: [{ protocol: 'TCP', port: 443 }] });
  });

  test('--no-network-policy and --no-initial-job leave those objects out, files and Kustomization entries too', () => {
    const files = render({ networkPolicy: false, initialJob: false });
    const kinds = files.filter((file) => file.path.endsWith('.yaml')).map((file) => file.path);
    expect(kinds).toEqual([
      '00-namespace.yaml',
      '10-service-account.yaml',
      '20-rbac.yaml',
      '40-refresh-script.yaml',
      '50-cron-job.yaml',
    ]);
    expect(files.find((file) => file.path === 'Kustomization')?.content).not.toMatch(/network-policy|initial-job/);
  });

  test('--argocd-repo-creds: a Role and RoleBinding in that namespace for the repo-creds names only, in their own file', () => {
    const options = { argocdRepoCreds: 'argocd', registry: ['210987654321.dkr.ecr.eu-west-1.amazonaws.com'] };
    expect(render(options).map((file) => file.path)).toContain('25-argocd-repo-creds-rbac.yaml');
    const objects = appliedObjects(options);
    const role = objects.find((object) => object.kind === 'Role' && object.metadata.namespace === 'argocd');
    expect(role).toMatchObject({
      metadata: { name: 'ecr-k8s-credentials-ecr-updater-argocd-repo-creds' },
      rules: [
        {
          apiGroups: [''],
          resources: ['secrets'],
          resourceNames: [
            'ecr-registry-credentials-argocd-helm-0',
            'ecr-registry-credentials-argocd-oci-0',
            'ecr-registry-credentials-argocd-helm-1',
            'ecr-registry-credentials-argocd-oci-1',
          ],
          verbs: ['create', 'patch'],
        },
      ],
    });
    const binding = objects.find((object) => object.kind === 'RoleBinding' && object.metadata.namespace === 'argocd');
    expect(binding).toMatchObject({
      roleRef: { kind: 'Role', name: 'ecr-k8s-credentials-ecr-updater-argocd-repo-creds' },
      subjects: [{ kind: 'ServiceAccount', name: 'ecr-credential-updater', namespace: 'ecr-updater' }],
    });
    expect(envOf(cronJobPod(objects)).ECR_ARGOCD_NAMESPACE).toBe('argocd');
    // Nothing of it without the flag, and no cluster-wide right to any Secret but the pull secret.
    expect(JSON.stringify(appliedObjects({}))).not.toContain('argocd');
    expect(envOf(cronJobPod(appliedObjects({}))).ECR_ARGOCD_NAMESPACE).toBeUndefined();
  });

  test('tenants reach the CronJob and the watcher as ECR_TENANTS, one per line (a selector holds commas and spaces), and ECR_TENANTS_ONLY', () => {
    const tenants = [
      'team-a-*=arn:aws:iam::111111111111:role/ecr-pull-team-a',
      'env in (prod,staging),team=b=arn:aws:iam::222222222222:role/ecr-pull-team-b',
    ];
    const objects = appliedObjects({ tenant: tenants, tenantsOnly: true, watchNamespaces: true });
    const expected = { ECR_TENANTS: tenants.join('\n'), ECR_TENANTS_ONLY: 'true' };
    expect(envOf(cronJobPod(objects))).toMatchObject(expected);
    const watcher = find(objects, 'Deployment') as unknown as { spec: { template: { spec: PodSpec } } };
    expect(envOf(watcher.spec.template.spec)).toMatchObject(expected);
    // Without tenants, neither variable.
    const plain = envOf(cronJobPod(appliedObjects({})));
    expect(Object.keys(plain).filter((name) => name.startsWith('ECR_TENANTS'))).toEqual([]);
  });

  test('CPU and memory flags', () => {
    const pod = cronJobPod(
      appliedObjects({ cpuRequest: '100m', cpuLimit: '1', memoryRequest: '128Mi', memoryLimit: '256Mi' }),
    );
    expect(pod.containers[0]!.resources).toEqual({
      requests: { cpu: '100m', memory: '128Mi' },
      limits: { cpu: '1', memory: '256Mi' },
    });
  });

  test('--region goes into the credentials template only', () => {
    const template = render({ region: 'eu-west-1' }).find((file) => file.path.startsWith('templates/'));
    expect(template?.content).toContain('AWS_REGION: eu-west-1');
    expect(JSON.stringify(appliedObjects({ region: 'eu-west-1' }))).not.toContain('eu-west-1');
  });
});

describe('--auth web-identity', () => {
  const options = {
    auth: 'web-identity',
    roleArn: 'arn:aws-cn:iam::123456789012:role/ecr-credential-updater',
    region: 'cn-north-1',
    tokenAudience: 'sts.amazonaws.com.cn',
  };
  const pod = (objects: KubeObject[]) =>
    (
      find(objects, 'CronJob') as unknown as {
        spec: { jobTemplate: { spec: { template: { spec: Record<string, unknown> } } } };
      }
    ).spec.jobTemplate.spec.template.spec as {
      containers: { env: { name: string; value?: string; valueFrom?: unknown }[]; volumeMounts: unknown[] }[];
      volumes: { name: string }[];
    };

  test('the pod gets a projected token for the audience and the role, and no key', () => {
    const spec = pod(appliedObjects(options));
    const container = spec.containers[0]!;
    expect(container.env.filter(fromSecret)).toEqual([]);
    expect(container.env.filter((variable) => variable.name.startsWith('AWS_'))).toEqual([
      { name: 'AWS_ROLE_ARN', value: options.roleArn },
      { name: 'AWS_WEB_IDENTITY_TOKEN_FILE', value: '/var/run/secrets/ecr-k8s-credentials/aws/token' },
      { name: 'AWS_ROLE_SESSION_NAME', value: 'ecr-k8s-credentials' },
      { name: 'AWS_REGION', value: 'cn-north-1' },
      { name: 'AWS_ACCOUNT_ID', value: '123456789012' },
      { name: 'AWS_RETRY_MODE', value: 'standard' },
      { name: 'AWS_MAX_ATTEMPTS', value: '5' },
      { name: 'AWS_EC2_METADATA_DISABLED', value: 'true' },
    ]);
    expect(container.volumeMounts).toContainEqual({
      name: 'aws-token',
      mountPath: '/var/run/secrets/ecr-k8s-credentials/aws',
      readOnly: true,
    });
    expect(spec.volumes).toContainEqual({
      name: 'aws-token',
      projected: {
        sources: [
          { serviceAccountToken: { audience: 'sts.amazonaws.com.cn', expirationSeconds: 3600, path: 'token' } },
        ],
      },
    });
  });

  test('no Secret template is rendered: there is no key to put in one', () => {
    expect(render(options).map((file) => file.path)).not.toContain('templates/aws-credentials-secret.yaml.template');
  });

  test('keys mode keeps the key Secret references and the template', () => {
    const env = pod(appliedObjects({})).containers[0]!.env;
    expect(env.filter(fromSecret).map((variable) => variable.name)).toEqual([
      'AWS_ACCESS_KEY_ID',
      'AWS_SECRET_ACCESS_KEY',
      'AWS_REGION',
      'AWS_ACCOUNT_ID',
    ]);
    expect(render({}).map((file) => file.path)).toContain('templates/aws-credentials-secret.yaml.template');
  });
});

describe('proxies, endpoints and FIPS', () => {
  const containerEnv = (objects: KubeObject[]) =>
    Object.fromEntries(
      (
        find(objects, 'CronJob') as unknown as {
          spec: {
            jobTemplate: {
              spec: { template: { spec: { containers: { env: { name: string; value?: string }[] }[] } } };
            };
          };
        }
      ).spec.jobTemplate.spec.template.spec.containers[0]!.env.map((e) => [e.name, e.value]),
    );

  test('--https-proxy sets both spellings; NO_PROXY defaults to the in-cluster names plus --api-server-cidr', () => {
    const env = containerEnv(
      appliedObjects({ httpsProxy: 'http://proxy.internal:3128', apiServerCidr: ['10.0.0.10/32'] }),
    );
    for (const name of ['HTTPS_PROXY', 'https_proxy', 'HTTP_PROXY', 'http_proxy']) {
      expect(env[name]).toBe('http://proxy.internal:3128');
    }
    expect(env.NO_PROXY).toBe('.svc,.cluster.local,localhost,127.0.0.1,169.254.169.254,10.0.0.10/32');
    expect(env.no_proxy).toBe(env.NO_PROXY);
  });

  test('no proxy variables at all without --https-proxy', () => {
    expect(Object.keys(containerEnv(appliedObjects({}))).filter((name) => /proxy/i.test(name))).toEqual([]);
  });

  test('endpoint URLs and FIPS reach the aws CLI', () => {
    const env = containerEnv(
      appliedObjects({
        awsEndpointUrlEcr: 'https://vpce-1.api.ecr.eu-west-1.vpce.amazonaws.com',
        awsEndpointUrlSts: 'https://vpce-2.sts.eu-west-1.vpce.amazonaws.com',
        fips: true,
      }),
    );
    expect(env).toMatchObject({
      AWS_ENDPOINT_URL_ECR: 'https://vpce-1.api.ecr.eu-west-1.vpce.amazonaws.com',
      AWS_ENDPOINT_URL_STS: 'https://vpce-2.sts.eu-west-1.vpce.amazonaws.com',
      AWS_USE_FIPS_ENDPOINT: 'true',
    });
  });

  test('--ecr-public sets ECR_PUBLIC=true in the CronJob, the first-run Job and the watcher; without it none has it', () => {
    const objects = appliedObjects({ ecrPublic: true, watchNamespaces: true });
    for (const kind of ['CronJob', 'Job', 'Deployment']) {
      expect(JSON.stringify(find(objects, kind))).toContain('{"name":"ECR_PUBLIC","value":"true"}');
    }
    expect(JSON.stringify(appliedObjects({ watchNamespaces: true }))).not.toContain('ECR_PUBLIC');
  });

  test('--egress-cidr narrows 443 (API server CIDRs kept) and opens the proxy port to it', () => {
    const policy = find(
      appliedObjects({
        httpsProxy: 'http://proxy.internal:3128',
        egressCidr: ['10.1.2.3/32'],
        apiServerCidr: ['10.0.0.10/32'],
      }),
      'NetworkPolicy',
    ) as unknown as { spec: { egress: { to?: unknown[]; ports: { port: number }[] }[] } };
    expect(policy.spec.egress.find((rule) => rule.ports[0]?.port === 443)?.to).toEqual([
      { ipBlock: { cidr: '10.1.2.3/32' } },
      { ipBlock: { cidr: '10.0.0.10/32' } },
    ]);
    expect(policy.spec.egress.find((rule) => rule.ports[0]?.port === 3128)?.to).toEqual([
      { ipBlock: { cidr: '10.1.2.3/32' } },
    ]);
  });
});

describe('Job failure policy', () => {
  test('permanent exit codes (2 configuration, 5 conflicts/failures) fail the Job at once; others keep retrying', () => {
    const objects = appliedObjects({});
    for (const kind of ['CronJob', 'Job']) {
      const object = find(objects, kind) as unknown as {
        spec: { podFailurePolicy?: unknown; jobTemplate?: { spec: { podFailurePolicy: unknown } } };
      };
      const policy = kind === 'CronJob' ? object.spec.jobTemplate?.spec.podFailurePolicy : object.spec.podFailurePolicy;
      expect(policy).toEqual({
        rules: [{ action: 'FailJob', onExitCodes: { containerName: 'refresh', operator: 'In', values: [2, 5] } }],
      });
    }
  });
});

describe('--watch-namespaces', () => {
  test('off by default: no Deployment, list-only RBAC', () => {
    const objects = appliedObjects({});
    expect(objects.some((object) => object.kind === 'Deployment')).toBe(false);
    expect((find(objects, 'ClusterRole') as unknown as { rules: { verbs: string[] }[] }).rules[0]?.verbs).toEqual([
      'list',
    ]);
  });

  test('renders the watcher: one replica, Recreate, watch mode with heartbeat probes, the refresh pod hardening', () => {
    const objects = appliedObjects({ watchNamespaces: true });
    const deployment = find(objects, 'Deployment') as unknown as {
      spec: {
        replicas: number;
        strategy: { type: string };
        template: {
          spec: {
            restartPolicy: string;
            securityContext: unknown;
            containers: {
              command: string[];
              livenessProbe: unknown;
              readinessProbe: unknown;
              startupProbe: unknown;
              securityContext: unknown;
            }[];
          };
        };
      };
    };
    const refresh = (
      find(objects, 'CronJob') as unknown as {
        spec: {
          jobTemplate: {
            spec: { template: { spec: { securityContext: unknown; containers: { securityContext: unknown }[] } } };
          };
        };
      }
    ).spec.jobTemplate.spec.template.spec;
    expect(deployment.spec.replicas).toBe(1);
    expect(deployment.spec.strategy).toEqual({ type: 'Recreate' });
    const pod = deployment.spec.template.spec;
    expect(pod.restartPolicy).toBe('Always');
    expect(pod.securityContext).toEqual(refresh.securityContext);
    expect(pod.containers[0]?.securityContext).toEqual(refresh.containers[0]?.securityContext);
    expect(pod.containers[0]?.command).toEqual([
      '/bin/sh',
      '/opt/ecr-credential-refresh/refresh-ecr-credentials.sh',
      'watch',
    ]);
    // The heartbeat is rewritten every second; the windows are in seconds of its age.
    const ageCheck = (seconds: number) => ({
      exec: {
        command: [
          '/bin/sh',
          '-c',
          expect.stringMatching(new RegExp(`stat -c %Y /tmp/ecr-watch-heartbeat.* -lt ${seconds} \\]$`)),
        ],
      },
    });
    expect(pod.containers[0]?.livenessProbe).toEqual({ ...ageCheck(30), periodSeconds: 10, failureThreshold: 3 });
    expect(pod.containers[0]?.readinessProbe).toEqual({ ...ageCheck(15), periodSeconds: 10, failureThreshold: 1 });
    expect(pod.containers[0]?.startupProbe).toEqual({ ...ageCheck(30), periodSeconds: 10, failureThreshold: 30 });
    expect(render({ watchNamespaces: true }).map((file) => file.path)).toContain('70-namespace-watcher.yaml');
  });

  test('RBAC gains exactly watch on namespaces; the NetworkPolicy selects every pod of the bundle', () => {
    const objects = appliedObjects({ watchNamespaces: true });
    expect((find(objects, 'ClusterRole') as unknown as { rules: unknown[] }).rules[0]).toEqual({
      apiGroups: [''],
      resources: ['namespaces'],
      verbs: ['list', 'watch'],
    });
    expect((find(objects, 'NetworkPolicy') as unknown as { spec: { podSelector: unknown } }).spec.podSelector).toEqual({
      matchLabels: { 'app.kubernetes.io/part-of': 'ecr-k8s-credentials' },
    });
  });
});

describe('the watcher Deployment', () => {
  interface WatcherPod {
    metadata: { labels: Record<string, string>; annotations: Record<string, string> };
    spec: { containers: { env: { name: string }[]; resources: unknown }[] };
  }
  const watcherPod = (options: Parameters<typeof appliedObjects>[0] = {}, scripts?: RefreshScripts): WatcherPod =>
    (
      find(appliedObjects({ watchNamespaces: true, ...options }, scripts), 'Deployment') as unknown as {
        spec: { template: WatcherPod };
      }
    ).spec.template;

  test('its pod template carries the SHA-256 of the script files, so a changed script rolls the pod', () => {
    const before = watcherPod().metadata.annotations['ecr-k8s-credentials/script-sha256'];
    expect(before).toMatch(/^[0-9a-f]{64}$/);
    expect(watcherPod().metadata.annotations['ecr-k8s-credentials/script-sha256']).toBe(before);
    const changed = watcherPod({}, { ...TEST_SCRIPTS, 'part.sh': 'echo v2\n' });
    expect(changed.metadata.annotations['ecr-k8s-credentials/script-sha256']).not.toBe(before);
  });

  test('it has no Job, so none of the Job-only variables (ECR_JOB_NAME, ECR_JOB_UID, ECR_POD_NAMESPACE)', () => {
    const names = watcherPod().spec.containers[0]!.env.map((variable) => variable.name);
    expect(names).toContain('ECR_SECRET_NAME');
    expect(names.filter((name) => /^ECR_(JOB|POD)_/.test(name))).toEqual([]);
    expect(envOf(cronJobPod(appliedObjects({ watchNamespaces: true })))).toHaveProperty('ECR_JOB_NAME');
  });

  test('its resources are the --cpu-* and --memory-* flags', () => {
    const resources = watcherPod({ cpuRequest: '20m', cpuLimit: '300m', memoryRequest: '48Mi', memoryLimit: '256Mi' })
      .spec.containers[0]!.resources;
    expect(resources).toEqual({ requests: { cpu: '20m', memory: '48Mi' }, limits: { cpu: '300m', memory: '256Mi' } });
  });

  test('its selector keeps the three labels it always had (a selector is immutable); its pods carry the rest', () => {
    const deployment = find(appliedObjects({ watchNamespaces: true }), 'Deployment') as unknown as {
      spec: { selector: unknown; template: WatcherPod };
    };
    const selector = {
      'app.kubernetes.io/name': 'ecr-namespace-watcher',
      'app.kubernetes.io/component': 'watcher',
      'app.kubernetes.io/part-of': 'ecr-k8s-credentials',
    };
    expect(deployment.spec.selector).toEqual({ matchLabels: selector });
    expect(deployment.spec.template.metadata.labels).toEqual({
      ...selector,
      'app.kubernetes.io/instance': 'ecr-updater',
      'app.kubernetes.io/managed-by': 'ecr-k8s-credentials',
      'app.kubernetes.io/version': PACKAGE_VERSION,
    });
  });
});

describe('recommended labels', () => {
  const everyObject = appliedObjects({ watchNamespaces: true, prometheusRule: true, namespace: 'pull' });

  test.each(everyObject.map((object) => [`${object.kind} ${object.metadata.name}`, object] as const))(
    '%s carries name, instance, component, version, managed-by and part-of',
    (_name, object) => {
      expect(object.metadata.labels).toMatchObject({
        'app.kubernetes.io/name': object.kind === 'Deployment' ? 'ecr-namespace-watcher' : 'ecr-credential-refresh',
        'app.kubernetes.io/instance': 'pull',
        'app.kubernetes.io/component': expect.stringMatching(/^[a-z-]+$/) as unknown,
        'app.kubernetes.io/version': PACKAGE_VERSION,
        'app.kubernetes.io/managed-by': 'ecr-k8s-credentials',
        'app.kubernetes.io/part-of': 'ecr-k8s-credentials',
      });
    },
  );

  test('the version is the package version', () => {
    expect(PACKAGE_VERSION).toMatch(/^\d+\.\d+\.\d+/);
  });

  test('pods of the CronJob and Jobs it makes carry them too', () => {
    const cronJob = find(everyObject, 'CronJob') as unknown as {
      spec: {
        jobTemplate: { metadata: KubeObject['metadata']; spec: { template: { metadata: KubeObject['metadata'] } } };
      };
    };
    for (const metadata of [cronJob.spec.jobTemplate.metadata, cronJob.spec.jobTemplate.spec.template.metadata]) {
      expect(metadata.labels).toMatchObject({
        'app.kubernetes.io/instance': 'pull',
        'app.kubernetes.io/component': 'refresh',
      });
    }
  });

  test('the AWS key Secret template carries them', () => {
    const template = render({ namespace: 'pull' }).find((file) => file.path.startsWith('templates/'));
    expect(objectsIn(template?.content ?? '')[0]?.metadata.labels).toMatchObject({
      'app.kubernetes.io/instance': 'pull',
      'app.kubernetes.io/component': 'credentials',
    });
  });
});

describe('first-run Job name', () => {
  const jobName = (options: Parameters<typeof appliedObjects>[0], scripts?: RefreshScripts) =>
    find(appliedObjects(options, scripts), 'Job').metadata.name;

  test('is stable for the same input', () => {
    expect(jobName({})).toBe(jobName({}));
  });

  test('changes with anything that shapes the run, so re-apply never hits an immutable template', () => {
    const base = jobName({});
    expect(jobName({ image: 'alpine/k8s:1.31.2' })).not.toBe(base);
    expect(jobName({ excludeNamespaces: ['kube-*'] })).not.toBe(base);
    expect(jobName({}, { ...TEST_SCRIPTS, 'part.sh': 'echo v2\n' })).not.toBe(base);
  });

  test('ignores the schedule, which does not shape a single run', () => {
    expect(jobName({ schedule: '0 */4 * * *' })).toBe(jobName({}));
  });
});

describe('--gitops', () => {
  const annotationsOf = (gitops: string) => find(appliedObjects({ gitops }), 'Job').metadata.annotations;

  test.each<[string, Record<string, string> | undefined]>([
    ['none', undefined],
    [
      'argocd',
      {
        'argocd.argoproj.io/hook': 'PostSync',
        'argocd.argoproj.io/hook-delete-policy': 'BeforeHookCreation,HookSucceeded',
      },
    ],
    ['flux', { 'kustomize.toolkit.fluxcd.io/force': 'Enabled' }],
  ])('%s: the first-run Job carries exactly the annotations of that tool', (gitops, annotations) => {
    expect(annotationsOf(gitops)).toEqual(annotations);
  });

  test.each(['none', 'argocd', 'flux'])(
    '%s: no object but the first-run Job changes, and it keeps no TTL',
    (gitops) => {
      const other = appliedObjects({ gitops });
      const job = find(other, 'Job') as unknown as { spec: Record<string, unknown> };
      expect(job.spec).not.toHaveProperty('ttlSecondsAfterFinished');
      const withoutJob = (objects: KubeObject[]) => objects.filter((object) => object.kind !== 'Job');
      expect(withoutJob(other)).toEqual(withoutJob(appliedObjects()));
    },
  );

  test('the Job name does not depend on the tool: switching tools does not rerun the refresh', () => {
    expect(find(appliedObjects({ gitops: 'argocd' }), 'Job').metadata.name).toBe(
      find(appliedObjects(), 'Job').metadata.name,
    );
  });
});

describe('--prometheus-rule', () => {
  interface Rule {
    alert: string;
    expr: string;
    for: string;
    labels: Record<string, string>;
    annotations: Record<string, string>;
  }
  const rulesOf = (options: Parameters<typeof appliedObjects>[0]) =>
    (
      find(appliedObjects({ prometheusRule: true, ...options }), 'PrometheusRule') as unknown as {
        spec: { groups: { rules: Rule[] }[] };
      }
    ).spec.groups[0]!.rules;

  test('off by default', () => {
    expect(appliedObjects().filter((object) => object.kind === 'PrometheusRule')).toEqual([]);
    expect(render().map((file) => file.path)).not.toContain('80-prometheus-rule.yaml');
  });

  test('renders both alerts in the updater namespace, each with for: 5m and the runbook steps in its description', () => {
    const objects = appliedObjects({ prometheusRule: true, namespace: 'pull-secrets' });
    expect(find(objects, 'PrometheusRule')).toMatchObject({
      apiVersion: 'monitoring.coreos.com/v1',
      metadata: { name: 'ecr-credential-refresh', namespace: 'pull-secrets' },
    });
    const rules = rulesOf({ namespace: 'pull-secrets' });
    expect(rules.map((rule) => [rule.alert, rule.labels.severity])).toEqual([
      ['EcrCredentialRefreshOverdue', 'critical'],
      ['EcrCredentialRefreshJobFailed', 'warning'],
    ]);
    for (const rule of rules) {
      expect(rule.expr).toContain('namespace="pull-secrets"');
      expect(rule.for).toBe('5m');
      expect(rule.annotations.description).toContain('kubectl -n pull-secrets logs job/');
      expect(Object.keys(rule.annotations).sort()).toEqual(['description', 'summary']);
    }
  });

  test('--prometheus-rule-runbook-url: runbook_url on both alerts', () => {
    const url = 'https://wiki.example.com/runbooks/ecr-credentials';
    for (const rule of rulesOf({ prometheusRuleRunbookUrl: url })) {
      expect(rule.annotations.runbook_url).toBe(url);
      expect(rule.annotations).not.toHaveProperty('runbook');
    }
  });

  test('--prometheus-rule-labels: labels of the PrometheusRule object, which a ruleSelector matches', () => {
    const rule = find(
      appliedObjects({
        prometheusRule: true,
        prometheusRuleLabels: ['release=kube-prometheus-stack', 'example.com/team=platform'],
      }),
      'PrometheusRule',
    );
    expect(rule.metadata.labels).toMatchObject({ release: 'kube-prometheus-stack', 'example.com/team': 'platform' });
    expect(rule.metadata.labels?.['app.kubernetes.io/component']).toBe('alerting');
  });

  test.each<[string, number]>([
    // longest gap + 15 min run deadline + 15 min slack, less the 5 min of for: that follow
    ['0 */6 * * *', (6 * 60 + 25) * 60],
    ['0 */4 * * *', (4 * 60 + 25) * 60],
    // 22:00 to 06:00 is the longest gap, not the 2h steps
    ['0 6-22/2 * * *', (8 * 60 + 25) * 60],
    // the longest gap --schedule allows: the alert fires 30 min before the last token expires
    ['0 */11 * * *', (11 * 60 + 25) * 60],
  ])('the overdue condition follows the schedule: %s -> %i s, then 5m of for:', (schedule, seconds) => {
    const overdue = rulesOf({ schedule })[0]!;
    expect(overdue.expr).toContain(`> ${seconds}\n`);
    expect(overdue.expr.match(new RegExp(`> ${seconds}\\n`, 'g'))).toHaveLength(2);
    expect(overdue.annotations.description).toContain(`"${schedule}"`);
  });

  test('the file is listed in the Kustomization', () => {
    const kustomization = render({ prometheusRule: true }).find((file) => file.path === 'Kustomization');
    expect(kustomization?.content).toContain('- 80-prometheus-rule.yaml');
  });
});
