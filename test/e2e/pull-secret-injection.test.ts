// --inject-pull-secret against a real kube-apiserver 1.37 (MutatingAdmissionPolicy is
// admissionregistration.k8s.io/v1 from 1.36; the suite's shared control plane runs 1.34, which
// has no such API), with kube-controller-manager 1.37 so Deployments get Pods from the ReplicaSet
// controller. A control plane of this file's own. The bundle is applied as users apply it; the
// Pods are real creations (they stay Pending: no scheduler, no kubelet), read back as stored.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { type ControlPlane, CONTROLLERS_1_37, startControlPlane } from './harness/control-plane.js';
import { cluster, e2eAvailable, loadBundle, synthBundle, type BundleObject } from './harness/index.js';
import { checkPrerequisites } from './harness/prerequisites.js';
import { REPO_ROOT } from './harness/bundle.js';
import { run } from './harness/process.js';

const SECRET = 'ecr-registry-credentials';
const UPDATER_NAMESPACE = 'ecr-updater';
const POLICY = 'ecr-k8s-credentials-ecr-updater-pull-secret';
/** The own registry: with --auth keys, any account's registry in --region. */
const OWN_IMAGE = '123456789012.dkr.ecr.eu-west-1.amazonaws.com/shop/api:1.4.2';
const EXTRA_REGISTRY = '210987654321.dkr.ecr.us-east-2.amazonaws.com';
const DOCKER_HUB_IMAGE = 'docker.io/library/busybox:1.37';
const SYNTH_ARGS = [
  '--inject-pull-secret',
  '--no-initial-job',
  '--region',
  'eu-west-1',
  '--registry',
  EXTRA_REGISTRY,
  '--exclude-namespaces',
  'excluded-*',
  '--namespace-selector',
  'ecr-pull!=disabled',
  '--ecr-public',
];

interface Pod {
  metadata: { name: string; namespace: string };
  spec: { imagePullSecrets?: { name: string }[] };
}

interface PodImages {
  readonly containers: readonly string[];
  readonly initContainers?: readonly string[];
  readonly imagePullSecrets?: readonly string[];
  readonly serviceAccountName?: string;
}

/** A Pod Pod Security "restricted" admits (the updater's namespace enforces it). */
function podSpec(images: PodImages): Record<string, unknown> {
  const container = (prefix: string) => (image: string, index: number) => ({
    name: `${prefix}${index}`,
    image,
    securityContext: { allowPrivilegeEscalation: false, capabilities: { drop: ['ALL'] } },
  });
  return {
    automountServiceAccountToken: false,
    securityContext: { runAsNonRoot: true, runAsUser: 65534, seccompProfile: { type: 'RuntimeDefault' } },
    containers: images.containers.map(container('c')),
    ...(images.initContainers ? { initContainers: images.initContainers.map(container('init')) } : {}),
    ...(images.imagePullSecrets ? { imagePullSecrets: images.imagePullSecrets.map((name) => ({ name })) } : {}),
    ...(images.serviceAccountName ? { serviceAccountName: images.serviceAccountName } : {}),
  };
}

function pod(namespace: string, name: string, images: PodImages): Record<string, unknown> {
  return { apiVersion: 'v1', kind: 'Pod', metadata: { name, namespace }, spec: podSpec(images) };
}

const pullSecrets = (created: Pod): string[] | undefined =>
  created.spec.imagePullSecrets?.map((reference) => reference.name);

describe.skipIf(!e2eAvailable.ok)('--inject-pull-secret on kube-apiserver 1.34 (the shared control plane)', () => {
  test('the policy file is refused (no v1 MutatingAdmissionPolicy there), the rest of the bundle is applied', async () => {
    const dir = await synthBundle([...SYNTH_ARGS, '--namespace', 'ecr-inject-134', '--service-account', 'inject-134']);
    const applied = await cluster().kubectl(['apply', '--server-side', '-f', dir], { allowFail: true });
    expect(applied.code).not.toBe(0);
    expect(applied.stderr).toContain(
      'no matches for kind "MutatingAdmissionPolicy" in version "admissionregistration.k8s.io/v1"',
    );
    const cronJob = await cluster().kubectl([
      'get',
      'cronjob',
      'ecr-credential-refresh',
      '-n',
      'ecr-inject-134',
      '-o',
      'name',
    ]);
    expect(cronJob.stdout.trim()).toBe('cronjob.batch/ecr-credential-refresh');
  });
});

describe.skipIf(!e2eAvailable.ok)('--inject-pull-secret on kube-apiserver 1.37', () => {
  let controlPlane: ControlPlane;
  let kubectlBin: string;
  let bundle: BundleObject[];
  let bundleDir: string;

  async function kubectl(args: string[], input?: string): Promise<string> {
    const out = await run(kubectlBin, ['--kubeconfig', controlPlane.info.adminKubeconfig, ...args], { input });
    if (out.code !== 0) throw new Error(`kubectl ${args.join(' ')} exited ${out.code}: ${out.stderr}`);
    return out.stdout;
  }

  /** Creates the Pod and returns it as the API server stored it, after admission. */
  async function createPod(namespace: string, name: string, images: PodImages): Promise<Pod> {
    return JSON.parse(
      await kubectl(['create', '-o', 'json', '-f', '-'], JSON.stringify(pod(namespace, name, images))),
    ) as Pod;
  }

  async function createNamespace(name: string, labels: Record<string, string> = {}): Promise<void> {
    const namespace = { apiVersion: 'v1', kind: 'Namespace', metadata: { name, labels } };
    await kubectl(['create', '-f', '-'], JSON.stringify(namespace));
    // The ServiceAccount admission plugin refuses Pods until the namespace's `default` exists.
    await kubectl(['wait', '--for=create', 'serviceaccount/default', '-n', name, '--timeout=60s']);
  }

  /** Whether a server-side dry run of an ECR Pod comes back with the secret: the policy acts. */
  async function injecting(): Promise<boolean> {
    const probe = pod('probe', `probe-${Date.now()}`, { containers: [OWN_IMAGE] });
    const out = await run(
      kubectlBin,
      ['--kubeconfig', controlPlane.info.adminKubeconfig, 'create', '--dry-run=server', '-o', 'json', '-f', '-'],
      { input: JSON.stringify(probe) },
    );
    return out.code === 0 && (pullSecrets(JSON.parse(out.stdout) as Pod) ?? []).includes(SECRET);
  }

  /** Policies take effect when the API server's informers see them, not when the write returns. */
  async function until(want: boolean, label: string): Promise<void> {
    const deadline = Date.now() + 60_000;
    while ((await injecting()) !== want) {
      if (Date.now() > deadline) throw new Error(`timed out waiting until ${label}`);
      await new Promise((resolve) => setTimeout(resolve, 250));
    }
  }

  /** A copy of the shipped policy and binding under another name, changed by `change`. */
  async function createCopy(name: string, change: (spec: Record<string, unknown>) => void): Promise<void> {
    const [policy, binding] = ['MutatingAdmissionPolicy', 'MutatingAdmissionPolicyBinding'].map(
      (kind) => structuredClone(bundle.find((object) => object.kind === kind)) as BundleObject,
    );
    if (!policy || !binding) throw new Error('the bundle has no MutatingAdmissionPolicy and binding');
    policy.metadata.name = name;
    change(policy.spec as Record<string, unknown>);
    binding.metadata.name = name;
    (binding.spec as { policyName: string }).policyName = name;
    await kubectl(['create', '-f', '-'], [policy, binding].map((object) => JSON.stringify(object)).join('\n---\n'));
  }

  async function deletePolicy(name: string): Promise<void> {
    await kubectl(['delete', 'mutatingadmissionpolicybinding', name]);
    await kubectl(['delete', 'mutatingadmissionpolicy', name]);
    await until(false, `${name} is gone`);
  }

  beforeAll(async () => {
    const found = await checkPrerequisites(REPO_ROOT);
    if (!found.ok) throw new Error(found.why);
    const k8s = found.binaries.kubernetes137;
    kubectlBin = k8s.kubectl;
    controlPlane = await startControlPlane(
      {
        etcd: found.binaries.etcd,
        kubeApiserver: k8s.kubeApiserver,
        controllers: {
          kubeControllerManager: k8s.kubeControllerManager,
          kubectl: k8s.kubectl,
          enabled: CONTROLLERS_1_37,
        },
      },
      mkdtempSync(join(tmpdir(), 'pull-secret-injection-')),
    );
    bundleDir = await synthBundle(SYNTH_ARGS);
    bundle = loadBundle(bundleDir);
    await createNamespace('probe');
  });

  afterAll(async () => {
    await controlPlane.stop();
  });

  test('the control plane is kube-apiserver v1.37.2 and serves MutatingAdmissionPolicy v1', async () => {
    const version = JSON.parse(await kubectl(['version', '-o', 'json'])) as {
      serverVersion: { gitVersion: string };
    };
    expect(version.serverVersion.gitVersion).toBe('v1.37.2');
    const resources = await kubectl(['api-resources', '--api-group=admissionregistration.k8s.io', '-o', 'wide']);
    expect(resources).toMatch(/^mutatingadmissionpolicies\s.*admissionregistration\.k8s\.io\/v1\s/m);
  });

  /** The same cases for the shipped policy and for a copy with failurePolicy Fail. */
  function admissionCases(prefix: string): void {
    const apps = `${prefix}-apps`;

    beforeAll(async () => {
      await createNamespace(apps);
    });

    test('an ECR Pod with imagePullSecrets [other] gets [other, the secret]', async () => {
      const created = await createPod(apps, 'ecr-with-other', { containers: [OWN_IMAGE], imagePullSecrets: ['other'] });
      expect(pullSecrets(created)).toEqual(['other', SECRET]);
      const stored = JSON.parse(await kubectl(['get', 'pod', 'ecr-with-other', '-n', apps, '-o', 'json'])) as Pod;
      expect(pullSecrets(stored)).toEqual(['other', SECRET]);
    });

    test('an ECR Pod without imagePullSecrets gets [the secret]', async () => {
      const created = await createPod(apps, 'ecr-plain', { containers: [DOCKER_HUB_IMAGE, OWN_IMAGE] });
      expect(pullSecrets(created)).toEqual([SECRET]);
    });

    test('a Pod whose ServiceAccount lists the secret (--patch-service-accounts) has it once', async () => {
      const account = {
        apiVersion: 'v1',
        kind: 'ServiceAccount',
        metadata: { name: 'patched', namespace: apps },
        imagePullSecrets: [{ name: SECRET }],
      };
      await kubectl(['create', '-f', '-'], JSON.stringify(account));
      const created = await createPod(apps, 'via-account', { containers: [OWN_IMAGE], serviceAccountName: 'patched' });
      expect(pullSecrets(created)).toEqual([SECRET]);
    });

    test('a public.ecr.aws Pod gets [the secret] (--ecr-public: the secret holds that registry too)', async () => {
      const created = await createPod(apps, 'ecr-public', { containers: ['public.ecr.aws/docker/library/nginx:1.27'] });
      expect(pullSecrets(created)).toEqual([SECRET]);
    });

    test('a docker.io Pod is untouched', async () => {
      const created = await createPod(apps, 'docker-hub', { containers: [DOCKER_HUB_IMAGE] });
      expect(created.spec.imagePullSecrets).toBeUndefined();
    });

    test('a Pod that already lists the secret is unchanged (no duplicate, same order)', async () => {
      const created = await createPod(apps, 'already', {
        containers: [OWN_IMAGE],
        imagePullSecrets: [SECRET, 'other'],
      });
      expect(pullSecrets(created)).toEqual([SECRET, 'other']);
    });

    test('an initContainer-only ECR image counts', async () => {
      const created = await createPod(apps, 'init-only', {
        containers: [DOCKER_HUB_IMAGE],
        initContainers: [`${EXTRA_REGISTRY}/migrations:7`],
      });
      expect(pullSecrets(created)).toEqual([SECRET]);
    });

    test('a registry the secret does not hold (another region, a look-alike host) is untouched', async () => {
      const otherRegion = await createPod(apps, 'other-region', {
        containers: ['123456789012.dkr.ecr.us-west-2.amazonaws.com/shop/api:1'],
      });
      const lookalike = await createPod(apps, 'lookalike', {
        containers: [`${EXTRA_REGISTRY}.example.org/shop/api:1`],
      });
      expect([otherRegion.spec.imagePullSecrets, lookalike.spec.imagePullSecrets]).toEqual([undefined, undefined]);
    });

    test('an excluded namespace, one the selector leaves out, kube-system and the updater namespace are untouched', async () => {
      await createNamespace(`excluded-${prefix}`);
      await createNamespace(`${prefix}-unselected`, { 'ecr-pull': 'disabled' });
      const untouched = [];
      for (const namespace of [`excluded-${prefix}`, `${prefix}-unselected`, 'kube-system', UPDATER_NAMESPACE]) {
        const created = await createPod(namespace, `${prefix}-ecr`, { containers: [OWN_IMAGE] });
        untouched.push([namespace, created.spec.imagePullSecrets]);
      }
      expect(untouched).toEqual([
        [`excluded-${prefix}`, undefined],
        [`${prefix}-unselected`, undefined],
        ['kube-system', undefined],
        [UPDATER_NAMESPACE, undefined],
      ]);
    });

    test('a Pod applied in the same kubectl apply as its namespace has the secret, before the Secret exists', async () => {
      const namespace = `${prefix}-fresh`;
      const objects = [
        { apiVersion: 'v1', kind: 'Namespace', metadata: { name: namespace } },
        { apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name: 'app', namespace } },
        pod(namespace, 'app', { containers: [OWN_IMAGE], serviceAccountName: 'app' }),
      ];
      await kubectl(['apply', '-f', '-'], objects.map((object) => JSON.stringify(object)).join('\n---\n'));
      const stored = JSON.parse(await kubectl(['get', 'pod', 'app', '-n', namespace, '-o', 'json'])) as Pod;
      expect(pullSecrets(stored)).toEqual([SECRET]);
      const secret = await kubectl(['get', 'secret', SECRET, '-n', namespace, '--ignore-not-found', '-o', 'name']);
      expect(secret).toBe('');
    });

    test("a Deployment applied with its namespace: the ReplicaSet controller's Pods have the secret", async () => {
      const namespace = `${prefix}-deploy`;
      const labels = { app: 'shop' };
      const deployment = {
        apiVersion: 'apps/v1',
        kind: 'Deployment',
        metadata: { name: 'shop', namespace },
        spec: {
          replicas: 2,
          selector: { matchLabels: labels },
          template: { metadata: { labels }, spec: podSpec({ containers: [OWN_IMAGE] }) },
        },
      };
      const objects = [{ apiVersion: 'v1', kind: 'Namespace', metadata: { name: namespace } }, deployment];
      await kubectl(['apply', '-f', '-'], objects.map((object) => JSON.stringify(object)).join('\n---\n'));
      let pods: Pod[] = [];
      const deadline = Date.now() + 90_000;
      while (pods.length < 2) {
        if (Date.now() > deadline) throw new Error(`the ReplicaSet controller made ${pods.length} of 2 Pods`);
        await new Promise((resolve) => setTimeout(resolve, 500));
        pods = (
          JSON.parse(await kubectl(['get', 'pods', '-n', namespace, '-l', 'app=shop', '-o', 'json'])) as {
            items: Pod[];
          }
        ).items;
      }
      expect(pods.map(pullSecrets)).toEqual([[SECRET], [SECRET]]);
    });
  }

  describe('the shipped policy (failurePolicy Ignore)', () => {
    beforeAll(async () => {
      await kubectl(['apply', '--server-side', '-f', bundleDir]);
      await until(true, 'the shipped policy acts');
    });

    test('is the bundle as rendered: failurePolicy Ignore, a JSONPatch mutation', async () => {
      const policy = JSON.parse(await kubectl(['get', 'mutatingadmissionpolicy', POLICY, '-o', 'json'])) as {
        spec: { failurePolicy: string; mutations: { patchType: string }[] };
      };
      expect(policy.spec.failurePolicy).toBe('Ignore');
      expect(policy.spec.mutations.map((mutation) => mutation.patchType)).toEqual(['JSONPatch']);
    });

    admissionCases('ignore');
  });

  describe('the same policy with failurePolicy Fail: the expressions compile and act', () => {
    beforeAll(async () => {
      await deletePolicy(POLICY);
      await createCopy(`${POLICY}-fail`, (spec) => (spec.failurePolicy = 'Fail'));
      await until(true, 'the Fail copy acts');
    });

    admissionCases('fail');
  });

  describe('a broken copy of the policy', () => {
    const broken = `${POLICY}-broken`;

    beforeAll(async () => {
      await deletePolicy(`${POLICY}-fail`);
      // A mutation that compiles but fails at run time: a Pod has no such field.
      await createCopy(broken, (spec) => {
        spec.failurePolicy = 'Fail';
        spec.mutations = [
          {
            patchType: 'JSONPatch',
            jsonPatch: {
              expression: '[JSONPatch{op: "add", path: "/spec/imagePullSecrets/-", value: object.spec.noSuchField}]',
            },
          },
        ];
      });
    });

    test('refuses ECR Pods under failurePolicy Fail (it is active and it is broken)', async () => {
      await createNamespace('broken-apps');
      const deadline = Date.now() + 60_000;
      let refused = '';
      while (refused === '') {
        if (Date.now() > deadline) throw new Error('the broken copy never refused a Pod');
        const out = await run(
          kubectlBin,
          ['--kubeconfig', controlPlane.info.adminKubeconfig, 'create', '--dry-run=server', '-f', '-'],
          { input: JSON.stringify(pod('broken-apps', 'refused', { containers: [OWN_IMAGE] })) },
        );
        if (out.code !== 0) refused = out.stderr;
        else await new Promise((resolve) => setTimeout(resolve, 250));
      }
      expect(refused).toContain(`policy '${broken}' with binding '${broken}' denied request`);
      expect(refused).toContain('no such key: noSuchField');
    });

    test('does not block Pod creation under the shipped failurePolicy Ignore', async () => {
      await kubectl([
        'patch',
        'mutatingadmissionpolicy',
        broken,
        '--type=merge',
        '-p',
        '{"spec":{"failurePolicy":"Ignore"}}',
      ]);
      const deadline = Date.now() + 60_000;
      let created: Pod | undefined;
      while (created === undefined) {
        if (Date.now() > deadline) throw new Error('Pods were still refused 60 s after the switch to Ignore');
        const out = await run(
          kubectlBin,
          ['--kubeconfig', controlPlane.info.adminKubeconfig, 'create', '-o', 'json', '-f', '-'],
          { input: JSON.stringify(pod('broken-apps', 'admitted', { containers: [OWN_IMAGE] })) },
        );
        if (out.code === 0) created = JSON.parse(out.stdout) as Pod;
        else await new Promise((resolve) => setTimeout(resolve, 250));
      }
      expect(created.spec.imagePullSecrets).toBeUndefined();
    });
  });
});
