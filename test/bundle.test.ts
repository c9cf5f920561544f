import { execFileSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { extname, join } from 'node:path';
import * as core from 'kubernetes-models/v1';
import * as batch from 'kubernetes-models/batch/v1';
import * as networking from 'kubernetes-models/networking.k8s.io/v1';
import * as rbac from 'kubernetes-models/rbac.authorization.k8s.io/v1';
import { describe, expect, test } from 'vitest';
import { AWS_CREDENTIALS_TEMPLATE_FILE, GENERATED_MARKER, renderBundle } from '../src/bundle.js';
import { resolveConfig } from '../src/config.js';
import { writeBundle } from '../src/write-bundle.js';
import { type KubeObject, objectsIn, render, TEST_SCRIPTS } from './helpers.js';

const MODELS: Record<string, new (data: never) => { validate(): void }> = {
  'v1/Namespace': core.Namespace,
  'v1/ServiceAccount': core.ServiceAccount,
  'v1/ConfigMap': core.ConfigMap,
  'v1/Secret': core.Secret,
  'rbac.authorization.k8s.io/v1/ClusterRole': rbac.ClusterRole,
  'rbac.authorization.k8s.io/v1/ClusterRoleBinding': rbac.ClusterRoleBinding,
  'rbac.authorization.k8s.io/v1/Role': rbac.Role,
  'rbac.authorization.k8s.io/v1/RoleBinding': rbac.RoleBinding,
  'networking.k8s.io/v1/NetworkPolicy': networking.NetworkPolicy,
  'batch/v1/CronJob': batch.CronJob,
  'batch/v1/Job': batch.Job,
};

const identity = (object: KubeObject) => `${object.kind}/${object.metadata.namespace ?? ''}/${object.metadata.name}`;

function synthToTemp(options: Parameters<typeof resolveConfig>[0] = {}): string {
  const dir = join(mkdtempSync(join(tmpdir(), 'ecr-bundle-')), 'dist');
  writeBundle(renderBundle(resolveConfig(options), TEST_SCRIPTS), dir);
  return dir;
}

/** What `kubectl apply -f DIR` reads: .yaml/.yml/.json files directly in DIR, in name order. */
function appliedByDashF(dir: string): string[] {
  return readdirSync(dir)
    .filter((name) => ['.yaml', '.yml', '.json'].includes(extname(name)) && statSync(join(dir, name)).isFile())
    .sort()
    .flatMap((name) => objectsIn(readFileSync(join(dir, name), 'utf8')).map(identity));
}

/** What `kubectl apply -k DIR` applies, rendered by kubectl's own kustomize. */
function appliedByDashK(dir: string): string[] {
  return objectsIn(execFileSync('kubectl', ['kustomize', dir], { encoding: 'utf8' })).map(identity);
}

describe('kubectl apply -f and -k', () => {
  test.each([
    ['defaults', {}],
    ['without NetworkPolicy and Job', { networkPolicy: false, initialJob: false }],
  ])('apply exactly the same objects (%s), and neither applies the credentials template', (_name, options) => {
    const dir = synthToTemp(options);
    const byF = appliedByDashF(dir);
    expect(byF.length).toBeGreaterThan(4);
    expect([...appliedByDashK(dir)].sort()).toEqual([...byF].sort());
    expect(byF.filter((id) => id.startsWith('Secret/'))).toEqual([]);
    // Not even a recursive apply reads it: kubectl only reads .yaml/.yml/.json.
    expect(extname(AWS_CREDENTIALS_TEMPLATE_FILE)).toBe('.template');
  });

  test('-f meets the Namespace before anything that lives in it', () => {
    const byF = appliedByDashF(synthToTemp());
    expect(byF[0]).toBe('Namespace//ecr-updater');
  });
});

describe('every object is valid against the Kubernetes schema', () => {
  const files = render({
    registry: ['210987654321.dkr.ecr.eu-west-1.amazonaws.com'],
    apiServerCidr: ['10.0.0.10/32'],
    namespaceSelector: 'a=b',
  });
  const objects = files.filter((file) => file.path !== 'Kustomization').flatMap((file) => objectsIn(file.content));

  test.each(objects.map((object) => [identity(object), object] as const))('%s', (_id, object) => {
    const Model = MODELS[`${object.apiVersion}/${object.kind}`];
    expect(Model, `no model for ${object.apiVersion}/${object.kind}`).toBeTypeOf('function');
    expect(() => new Model!(object as never).validate()).not.toThrow();
  });

  test('the validator does catch a broken object', () => {
    const cronJob = objects.find((object) => object.kind === 'CronJob')!;
    const broken = { ...cronJob, spec: { ...(cronJob.spec as object), concurrencyPolicy: 42 } };
    expect(() => new batch.CronJob(broken as never).validate()).toThrow();
  });
});

describe('output', () => {
  test('is deterministic: same input, byte-identical files', () => {
    expect(render({ registry: ['210987654321.dkr.ecr.eu-west-1.amazonaws.com'] })).toEqual(
      render({ registry: ['210987654321.dkr.ecr.eu-west-1.amazonaws.com'] }),
    );
  });

  test('every file starts with the generated marker, so a later synth knows it may replace it', () => {
    for (const file of render()) expect(file.content.startsWith(GENERATED_MARKER)).toBe(true);
  });

  test('credentials template holds placeholders only', () => {
    const template = render().find((file) => file.path === AWS_CREDENTIALS_TEMPLATE_FILE)!;
    expect(objectsIn(template.content)).toEqual([
      expect.objectContaining({
        kind: 'Secret',
        metadata: expect.objectContaining({ name: 'aws-ecr-credentials', namespace: 'ecr-updater' }) as unknown,
        stringData: {
          AWS_ACCESS_KEY_ID: 'REPLACE_ME',
          AWS_SECRET_ACCESS_KEY: 'REPLACE_ME',
          AWS_REGION: 'us-east-1',
          AWS_ACCOUNT_ID: 'REPLACE_ME',
        },
      }),
    ]);
  });
});
