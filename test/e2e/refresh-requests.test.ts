// The requests one refresh run sends to the API server, as a TLS front in front of the real
// kube-apiserver logs them: what README "The refresh script" promises about them (one LIST, one
// PATCH per target namespace, no reads, nothing sent where the answer is known to be a refusal).
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { cluster, e2eAvailable, startMoto, type Moto } from './harness/index.js';
import { EXIT, exitOf, MOTO_ACCOUNT, prepareRefreshSuite, type RefreshSuite } from './harness/refresh-runs.js';

describe.skipIf(!e2eAvailable.ok)('the API requests of a refresh run', () => {
  let suite: RefreshSuite;
  let moto: Moto;

  beforeAll(async () => {
    suite = await prepareRefreshSuite('refresh-requests-e2e');
    moto = await startMoto();
  });

  afterAll(async () => {
    await moto.stop();
  });

  test('one namespace LIST and one PATCH per target namespace, no other request', async () => {
    const names = ['reqs-1', 'reqs-2', 'reqs-3'];
    await suite.createNamespaces(names);
    const { run, front } = await suite.runThroughFront(
      suite.env(moto.endpoint, { ECR_TARGET_NAMESPACES: 'reqs-*', AWS_ACCOUNT_ID: MOTO_ACCOUNT }),
      () => undefined,
    );
    expect(exitOf(run, EXIT.ok)).toBe(EXIT.ok);
    // This machine's kubectl is a version dispatcher that asks GET /version whenever it reads a
    // kubeconfig (the script reads its kubeconfig with kubectl config view); alpine/k8s's does not.
    const requests = front.log.filter((line) => !line.startsWith('GET /version'));
    expect(requests.map((line) => line.replace(/\?.*/, ''))).toEqual([
      'GET /api/v1/namespaces',
      ...names.map((name) => `PATCH /api/v1/namespaces/${name}/secrets/ecr-registry-credentials`),
    ]);
  });

  test('a Terminating namespace is skipped from the listing: no PATCH is sent to it', async () => {
    await suite.createNamespaces(['reqterm-active', 'reqterm-doomed']);
    // An object with a finalizer nobody clears keeps the namespace Terminating.
    await cluster().kubectl(['create', '-f', '-'], {
      input: JSON.stringify({
        apiVersion: 'v1',
        kind: 'ConfigMap',
        metadata: {
          name: 'keeps-it-terminating',
          namespace: 'reqterm-doomed',
          finalizers: ['e2e.ecr-k8s-credentials/hold'],
        },
      }),
    });
    await cluster().kubectl(['delete', 'namespace', 'reqterm-doomed', '--wait=false']);
    const phase = await cluster().kubectl(['get', 'namespace', 'reqterm-doomed', '-o', 'jsonpath={.status.phase}']);
    expect(phase.stdout).toBe('Terminating');

    const { run, front } = await suite.runThroughFront(
      suite.env(moto.endpoint, { ECR_TARGET_NAMESPACES: 'reqterm-*', AWS_ACCOUNT_ID: MOTO_ACCOUNT }),
      () => undefined,
    );
    expect(exitOf(run, EXIT.ok)).toBe(EXIT.ok);
    expect(run.namespaces.get('reqterm-doomed')).toEqual({ result: 'skipped', reason: 'namespace is terminating' });
    expect(run.namespaces.get('reqterm-active')?.result).toBe('updated');
    expect(front.log.filter((line) => line.startsWith('PATCH '))).toEqual([
      'PATCH /api/v1/namespaces/reqterm-active/secrets/ecr-registry-credentials?fieldManager=ecr-k8s-credentials&force=false',
    ]);
  });
});
