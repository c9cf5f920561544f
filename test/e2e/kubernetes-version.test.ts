// The minimum Kubernetes version README states, proven on the API server of this run: every
// variant of the bundle (the default, and every optional object) applies with strict field
// validation, and the Pods its Job controller and Deployment controller create are admitted under
// Pod Security "restricted". The bundle relies on CronJob timeZone, Job podFailurePolicy and the
// batch.kubernetes.io/* Pod labels.
import { afterAll, describe, expect, test } from 'vitest';
import { bundleObject, cluster, e2eAvailable, installCrds, loadBundle, synthBundle } from './harness/index.js';

/**
 * The minor README names as the minimum. Every run proves the suite's own version (1.34); with
 * E2E_KUBERNETES_BIN_DIR=$(scripts/build-minimum-control-plane.sh) this file runs on this one.
 */
const MINIMUM_MINOR = 33;

function kubectl(...args: Parameters<ReturnType<typeof cluster>['kubectl']>) {
  return cluster().kubectl(...args);
}

/** Polls `check` every 250 ms until it holds; fails naming `what` after `timeoutMs`. */
async function waitUntil(check: () => Promise<boolean>, what: string, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs / 1000}s waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
}

/** Names of the Pods matching `selector` in `namespace`, once there is at least one. */
async function podsOf(namespace: string, selector: string, what: string): Promise<string[]> {
  let names: string[] = [];
  await waitUntil(async () => {
    const { stdout } = await kubectl(['get', 'pods', '-n', namespace, '-l', selector, '-o', 'name']);
    names = stdout.trim().split('\n').filter(Boolean);
    return names.length > 0;
  }, what);
  return names;
}

/** Messages of the events saying a controller could not create a Pod (Pod Security, quota...). */
async function failedCreates(namespace: string): Promise<string> {
  const { stdout } = await kubectl([
    ...['get', 'events', '-n', namespace, '--field-selector', 'reason=FailedCreate'],
    ...['-o', 'jsonpath={.items[*].message}'],
  ]);
  return stdout;
}

const VARIANTS: { name: string; namespace: string; args: string[] }[] = [
  { name: 'the default bundle', namespace: 'version-default', args: [] },
  {
    name: 'every optional object, keys',
    namespace: 'version-all-keys',
    args: [
      ...['--watch-namespaces', '--prometheus-rule', '--prometheus-rule-labels', 'release=kube-prometheus-stack'],
      ...['--prometheus-rule-runbook-url', 'https://wiki.example.com/ecr', '--patch-service-accounts', 'default'],
      ...['--https-proxy', 'http://proxy.internal:3128', '--egress-cidr', '10.1.2.3/32'],
      ...['--api-server-cidr', '10.0.0.10/32', '--gitops', 'flux', '--argocd-repo-creds', 'version-argocd'],
    ],
  },
  {
    name: 'every optional object, web identity',
    namespace: 'version-all-web-identity',
    args: [
      ...['--auth', 'web-identity', '--role-arn', 'arn:aws:iam::123456789012:role/ecr-puller'],
      ...['--watch-namespaces', '--prometheus-rule', '--gitops', 'argocd'],
    ],
  },
];

describe.skipIf(!e2eAvailable.ok)(`Kubernetes 1.${MINIMUM_MINOR}, the minimum README states, or newer`, () => {
  const created: string[] = [];
  afterAll(async () => {
    // The watchers' Deployments would keep making Pods for the rest of the run.
    for (const namespace of created) {
      await kubectl(['delete', 'deployment', '--all', '-n', namespace, '--wait=false'], { allowFail: true });
    }
  });

  test(`the API server of this run is v1.${MINIMUM_MINOR} or newer`, async () => {
    const { stdout } = await kubectl(['version', '-o', 'json']);
    const server = (JSON.parse(stdout) as { serverVersion: { major: string; minor: string; gitVersion: string } })
      .serverVersion;
    console.log(`[kubernetes-version] API server ${server.gitVersion}`);
    expect(server.major).toBe('1');
    expect(Number(server.minor)).toBeGreaterThanOrEqual(MINIMUM_MINOR);
  });

  test.each(VARIANTS)(
    '$name: applies with strict field validation; the Job and watcher Pods are admitted under restricted',
    async ({ namespace, args }) => {
      await installCrds();
      const dir = await synthBundle(['--namespace', namespace, ...args]);
      // --argocd-repo-creds writes into Argo CD's namespace, which the bundle does not create.
      const argocd = args[args.indexOf('--argocd-repo-creds') + 1];
      if (args.includes('--argocd-repo-creds') && argocd) await kubectl(['create', 'namespace', argocd]);
      const objects = loadBundle(dir);
      const applied = await kubectl(['apply', '--server-side', '--validate=strict', '-f', dir], { allowFail: true });
      created.push(namespace);
      expect({ code: applied.code, stderr: applied.stderr }).toEqual({ code: 0, stderr: '' });
      for (const object of objects) {
        expect(applied.stdout).toMatch(new RegExp(`^\\S+/${object.metadata.name} serverside-applied$`, 'm'));
      }
      // With the Namespace in place, the whole bundle passes a server-side dry run as well.
      const again = await kubectl(['apply', '--server-side', '--dry-run=server', '--validate=strict', '-f', dir], {
        allowFail: true,
      });
      expect({ code: again.code, stderr: again.stderr }).toEqual({ code: 0, stderr: '' });

      const job = bundleObject(objects, 'Job').metadata.name;
      await podsOf(namespace, `batch.kubernetes.io/job-name=${job}`, `a Pod of Job ${job}`);
      if (args.includes('--watch-namespaces')) {
        await podsOf(namespace, 'app.kubernetes.io/name=ecr-namespace-watcher', 'a watcher Pod');
      }
      expect(await failedCreates(namespace)).toBe('');
    },
  );
});
