// A refresh that ends with a conflict leaves a Warning Event on its Job, written as the bundle's
// ServiceAccount with only the bundle's RBAC (a Role: events in its own namespace). The Job is
// the bundle's real first-run Job; kube-controller-manager creates its pod, whose labels are what
// the downward API hands the script.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import {
  bundleObject,
  cluster,
  e2eAvailable,
  loadBundle,
  runBusyboxScript,
  scriptEnv,
  startMoto,
  synthBundle,
  writeScriptFiles,
  type Moto,
} from './harness/index.js';

const NAMESPACE = 'ecr-events';
const SERVICE_ACCOUNT = 'ecr-events-updater';
const SECRET = 'ecr-registry-credentials';

interface EventList {
  items: {
    type: string;
    reason: string;
    message: string;
    involvedObject: { kind: string; name: string; namespace: string; uid?: string };
  }[];
}

describe.skipIf(!e2eAvailable.ok)('Event on a failing run', () => {
  let moto: Moto;
  let script: string;
  let job: { name: string; uid: string };
  const kubectl = (args: string[], input?: string) => cluster().kubectl(args, { input });

  async function refresh(targets: string): Promise<{ code: number; stdout: string; stderr: string }> {
    return runBusyboxScript(
      script,
      scriptEnv({
        AWS_ACCESS_KEY_ID: 'AKIAIOSFODNN7EXAMPLE',
        AWS_SECRET_ACCESS_KEY: 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY',
        AWS_REGION: 'eu-west-1',
        AWS_ACCOUNT_ID: '123456789012',
        AWS_ENDPOINT_URL: moto.endpoint,
        ECR_TARGET_NAMESPACES: targets,
        // What the pod's downward-API variables resolve to (checked against the pod below).
        ECR_POD_NAMESPACE: NAMESPACE,
        ECR_JOB_NAME: job.name,
        ECR_JOB_UID: job.uid,
        KUBECONFIG: await cluster().serviceAccountKubeconfig(NAMESPACE, SERVICE_ACCOUNT),
      }),
    );
  }

  async function events(): Promise<EventList['items']> {
    const { stdout } = await kubectl([
      ...['get', 'events', '-n', NAMESPACE, '-o', 'json'],
      `--field-selector=involvedObject.uid=${job.uid},reason=RefreshIncomplete`,
    ]);
    return (JSON.parse(stdout) as EventList).items;
  }

  beforeAll(async () => {
    const dir = await synthBundle(['--namespace', NAMESPACE, '--service-account', SERVICE_ACCOUNT]);
    const objects = loadBundle(dir);
    await kubectl(['apply', '--server-side', '--validate=strict', '-f', dir]);
    const name = bundleObject(objects, 'Job').metadata.name;
    const uid = (await kubectl(['get', 'job', name, '-n', NAMESPACE, '-o', 'jsonpath={.metadata.uid}'])).stdout;
    job = { name, uid };
    script = writeScriptFiles(objects, mkdtempSync(join(tmpdir(), 'event-script-')));
    moto = await startMoto();
    await kubectl(['create', 'namespace', 'events-ok']);
    await kubectl(['create', 'namespace', 'events-taken']);
    // Someone else's Secret of the same name: a conflict, and the run exits 5.
    await kubectl(['create', 'secret', 'generic', SECRET, '-n', 'events-taken', '--from-literal=owner=someone-else']);
  });

  afterAll(async () => {
    await moto.stop();
  });

  test("the Job's pod carries the labels the downward-API variables read", async () => {
    await kubectl([
      ...['wait', '--for=create', 'pod', '-n', NAMESPACE, '--timeout=60s'],
      `--selector=batch.kubernetes.io/job-name=${job.name}`,
    ]);
    const { stdout } = await kubectl([
      ...['get', 'pods', '-n', NAMESPACE, '-l', `batch.kubernetes.io/job-name=${job.name}`],
      ...['-o', 'jsonpath={.items[0].metadata.labels}'],
    ]);
    expect(JSON.parse(stdout)).toMatchObject({
      'batch.kubernetes.io/job-name': job.name,
      'batch.kubernetes.io/controller-uid': job.uid,
    });
  });

  test('a clean run leaves no Event', async () => {
    const result = await refresh('events-ok');
    expect({ code: result.code, stderr: result.stderr }).toEqual({ code: 0, stderr: '' });
    expect(result.stdout).not.toContain('event=run_event');
    expect(await events()).toEqual([]);
  });

  test('a run with a conflict leaves one Warning Event on its Job, naming the counts', async () => {
    const result = await refresh('events-ok events-taken');
    expect(result.code).toBe(5);
    expect(result.stdout).toContain('event=namespace namespace=events-taken result=conflict');
    expect(result.stdout).toMatch(/level=info event=run_event result=created job=\S+ event=event\/\S+ /);
    const found = await events();
    expect(found).toHaveLength(1);
    expect(found[0]).toMatchObject({
      type: 'Warning',
      reason: 'RefreshIncomplete',
      involvedObject: { kind: 'Job', name: job.name, namespace: NAMESPACE, uid: job.uid },
    });
    expect(found[0]?.message).toContain('1 of 2 selected namespace(s) not refreshed: 0 failed, 1 conflicted');
    expect(found[0]?.message).toContain('1 updated, 0 skipped');
    // `kubectl describe job` lists it: it matches events by the Job's uid.
    const described = await kubectl(['describe', 'job', job.name, '-n', NAMESPACE]);
    expect(described.stdout).toContain('RefreshIncomplete');
  });

  test('the ServiceAccount may create events in its own namespace only', async () => {
    const as = `--as=system:serviceaccount:${NAMESPACE}:${SERVICE_ACCOUNT}`;
    const canI = async (namespace: string) =>
      (
        await cluster().kubectl(['auth', 'can-i', 'create', 'events', '-n', namespace, as], { allowFail: true })
      ).stdout.trim();
    expect(await canI(NAMESPACE)).toBe('yes');
    expect(await canI('events-ok')).toBe('no');
    expect(await canI('default')).toBe('no');
  });
});
