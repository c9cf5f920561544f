import { Chart, Testing } from 'cdk8s';
import { describe, expect, test } from 'vitest';
import { EcrCredentialRefresh } from '../../src/constructs/ecr-credential-refresh.js';
import {
  PullSecretInjectionPolicy,
  type PullSecretInjectionPolicyProps,
  registryImagePattern,
} from '../../src/constructs/pull-secret-injection-policy.js';
import type { RawOptions } from '../../src/options.js';
import { appliedObjects, find, type KubeObject, render, TEST_SCRIPTS } from '../helpers.js';

interface PolicySpec {
  failurePolicy: string;
  reinvocationPolicy: string;
  matchConstraints: {
    namespaceSelector: { matchExpressions: { key: string; operator: string; values?: string[] }[] };
    resourceRules: unknown[];
  };
  matchConditions: { name: string; expression: string }[];
  mutations: { patchType: string; jsonPatch: { expression: string } }[];
}

function policyOf(options: RawOptions): PolicySpec {
  return find(appliedObjects({ injectPullSecret: true, ...options }), 'MutatingAdmissionPolicy').spec as PolicySpec;
}

function condition(spec: PolicySpec, name: string): string | undefined {
  return spec.matchConditions.find((entry) => entry.name === name)?.expression;
}

/** The pattern as JavaScript reads it: the RE2 subset used here means the same in both. */
function matcher(props: Omit<PullSecretInjectionPolicyProps, 'name' | 'secretName' | 'updaterNamespace'>) {
  const pattern = new RegExp(
    registryImagePattern({ name: 'p', secretName: 's', updaterNamespace: 'ecr-updater', ...props }),
  );
  return (image: string): boolean => pattern.test(image);
}

describe('--inject-pull-secret', () => {
  test('off by default: the default bundle has no policy', () => {
    expect(render().map((file) => file.path)).not.toContain('75-pull-secret-injection.yaml');
  });

  test('renders 75-pull-secret-injection.yaml (snapshot), listed in the Kustomization', () => {
    const files = render({ injectPullSecret: true });
    const file = files.find((entry) => entry.path === '75-pull-secret-injection.yaml');
    expect(file?.content).toMatchSnapshot();
    expect(files.find((entry) => entry.path === 'Kustomization')?.content).toContain('- 75-pull-secret-injection.yaml');
  });

  test('a v1 policy and its binding, both named after the install (its namespace), as they are cluster-wide', () => {
    const objects = appliedObjects({ injectPullSecret: true, namespace: 'pull' });
    const policy = find(objects, 'MutatingAdmissionPolicy');
    const binding = find(objects, 'MutatingAdmissionPolicyBinding');
    expect([policy.apiVersion, binding.apiVersion]).toEqual([
      'admissionregistration.k8s.io/v1',
      'admissionregistration.k8s.io/v1',
    ]);
    expect(policy.metadata.name).toBe('ecr-k8s-credentials-pull-pull-secret');
    expect(binding.metadata.name).toBe('ecr-k8s-credentials-pull-pull-secret');
    expect(binding.spec).toEqual({ policyName: 'ecr-k8s-credentials-pull-pull-secret' });
  });

  test('failurePolicy Ignore, Pod CREATE only, one JSONPatch mutation that appends or adds the list', () => {
    const spec = policyOf({ secretName: 'ecr-pull' });
    expect(spec.failurePolicy).toBe('Ignore');
    expect(spec.matchConstraints.resourceRules).toEqual([
      { apiGroups: [''], apiVersions: ['v1'], operations: ['CREATE'], resources: ['pods'] },
    ]);
    expect(spec.mutations).toHaveLength(1);
    expect(spec.mutations[0]?.patchType).toBe('JSONPatch');
    const expression = spec.mutations[0]?.jsonPatch.expression ?? '';
    expect(expression).toContain(
      'path: "/spec/imagePullSecrets/-", value: Object.spec.imagePullSecrets{name: "ecr-pull"}',
    );
    expect(expression).toContain(
      'path: "/spec/imagePullSecrets", value: [Object.spec.imagePullSecrets{name: "ecr-pull"}]',
    );
    expect(condition(spec, 'lacks-the-secret')).toContain('s.name == "ecr-pull"');
  });

  test('the updater gets no RBAC for it: the API server applies the policy', () => {
    const rbac = (options: RawOptions) =>
      appliedObjects(options).filter((object) => ['ClusterRole', 'Role'].includes(object.kind));
    expect(rbac({ injectPullSecret: true })).toEqual(rbac({}));
  });

  test('every container list counts: containers, initContainers, ephemeralContainers', () => {
    const expression = condition(policyOf({}), 'pulls-from-the-registries') ?? '';
    for (const list of ['containers', 'initContainers', 'ephemeralContainers']) {
      expect(expression).toContain(`object.spec.${list}.exists(c, `);
    }
  });

  test("never the updater's namespace or kube-system; the label selector as matchExpressions", () => {
    const spec = policyOf({
      namespace: 'platform-ecr',
      namespaceSelector: 'ecr-pull=enabled,env in (prod, staging),!no-ecr',
    });
    expect(spec.matchConstraints.namespaceSelector.matchExpressions).toEqual([
      { key: 'kubernetes.io/metadata.name', operator: 'NotIn', values: ['platform-ecr', 'kube-system'] },
      { key: 'ecr-pull', operator: 'In', values: ['enabled'] },
      { key: 'env', operator: 'In', values: ['prod', 'staging'] },
      { key: 'no-ecr', operator: 'DoesNotExist' },
    ]);
  });

  test('target and exclude globs as anchored patterns on the namespace name', () => {
    const spec = policyOf({ targetNamespaces: ['team-*', 'prod'], excludeNamespaces: ['team-?-old'] });
    expect(condition(spec, 'target-namespace')).toBe('request.namespace.matches("^(?:team-.*|prod)$")');
    expect(condition(spec, 'not-excluded-namespace')).toBe('!request.namespace.matches("^(?:team-.-old)$")');
    expect(condition(policyOf({}), 'target-namespace')).toBeUndefined();
    expect(condition(policyOf({}), 'not-excluded-namespace')).toBeUndefined();
  });
});

describe('registryImagePattern: the hosts the pull secret holds', () => {
  test('keys: any account in --region (the account is known only at run time), and each --registry host', () => {
    const matches = matcher({
      region: 'eu-west-1',
      registries: ['210987654321.dkr.ecr.us-east-2.amazonaws.com=arn:aws:iam::210987654321:role/ecr-pull'],
    });
    expect(matches('123456789012.dkr.ecr.eu-west-1.amazonaws.com/shop/api:1')).toBe(true);
    expect(matches('999999999999.dkr.ecr.eu-west-1.amazonaws.com/shop/api@sha256:' + 'a'.repeat(64))).toBe(true);
    expect(matches('210987654321.dkr.ecr.us-east-2.amazonaws.com/tools:1')).toBe(true);
    expect(matches('123456789012.dkr.ecr.us-west-2.amazonaws.com/shop/api:1')).toBe(false);
    expect(matches('210987654321.dkr.ecr.us-east-2.amazonaws.com.example.org/tools:1')).toBe(false);
    expect(matches('123456789012xdkrxecrxeu-west-1xamazonawsxcom/shop/api:1')).toBe(false);
    expect(matches('docker.io/library/busybox:1.37')).toBe(false);
    expect(matches('busybox')).toBe(false);
  });

  test('--ecr-public: public.ecr.aws images too; without it they are left alone', () => {
    expect(matcher({ region: 'eu-west-1', ecrPublic: true })('public.ecr.aws/docker/library/nginx:1.27')).toBe(true);
    expect(matcher({ region: 'eu-west-1' })('public.ecr.aws/docker/library/nginx:1.27')).toBe(false);
    expect(matcher({ region: 'eu-west-1', ecrPublic: true })('public.ecr.aws.example.org/nginx:1')).toBe(false);
  });

  test('the bundle passes --ecr-public on to the policy', () => {
    expect(condition(policyOf({ region: 'eu-west-1', ecrPublic: true }), 'pulls-from-the-registries')).toContain(
      'public\\\\.ecr\\\\.aws',
    );
  });

  test("web identity: the role's account only", () => {
    const matches = matcher({ region: 'eu-west-1', ownAccount: '123456789012' });
    expect(matches('123456789012.dkr.ecr.eu-west-1.amazonaws.com/app:1')).toBe(true);
    expect(matches('999999999999.dkr.ecr.eu-west-1.amazonaws.com/app:1')).toBe(false);
  });

  test('the own host as the script builds it: China and FIPS', () => {
    expect(matcher({ region: 'cn-north-1' })('123456789012.dkr.ecr.cn-north-1.amazonaws.com.cn/app:1')).toBe(true);
    expect(matcher({ region: 'cn-north-1' })('123456789012.dkr.ecr.cn-north-1.amazonaws.com/app:1')).toBe(false);
    const fips = matcher({ region: 'us-gov-west-1', fips: true });
    expect(fips('123456789012.dkr.ecr-fips.us-gov-west-1.amazonaws.com/app:1')).toBe(true);
    expect(fips('123456789012.dkr.ecr.us-gov-west-1.amazonaws.com/app:1')).toBe(false);
  });

  test('the bundle passes the role account with web identity, none with keys', () => {
    const web = policyOf({ auth: 'web-identity', roleArn: 'arn:aws:iam::210987654321:role/ecr', region: 'eu-west-1' });
    expect(condition(web, 'pulls-from-the-registries')).toContain('^(?:210987654321\\\\.dkr\\\\.ecr\\\\.eu-west-1');
    expect(condition(policyOf({ region: 'eu-west-1' }), 'pulls-from-the-registries')).toContain(
      '^(?:[0-9]{12}\\\\.dkr\\\\.ecr\\\\.eu-west-1',
    );
  });
});

describe('PullSecretInjectionPolicy in a chart of its caller', () => {
  test('the policy and binding are cluster-scoped: a chart namespace is not stamped on them', () => {
    const chart = new Chart(Testing.app(), 'apps', { namespace: 'apps' });
    new EcrCredentialRefresh(chart, 'ecr', { injectPullSecret: true, scripts: TEST_SCRIPTS });
    const objects = Testing.synth(chart) as KubeObject[];
    for (const kind of ['MutatingAdmissionPolicy', 'MutatingAdmissionPolicyBinding']) {
      expect(find(objects, kind).metadata).not.toHaveProperty('namespace');
    }
  });

  test('on its own: exactly a policy and a binding', () => {
    const chart = new Chart(Testing.app(), 'c');
    new PullSecretInjectionPolicy(chart, 'p', {
      name: 'p',
      secretName: 's',
      updaterNamespace: 'ecr-updater',
      region: 'eu-west-1',
    });
    expect((Testing.synth(chart) as KubeObject[]).map((object) => object.kind)).toEqual([
      'MutatingAdmissionPolicy',
      'MutatingAdmissionPolicyBinding',
    ]);
  });
});
