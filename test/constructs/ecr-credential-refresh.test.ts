import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { ApiObject, App, Chart, Testing } from 'cdk8s';
import { describe, expect, test } from 'vitest';
import { ConfigError, DEFAULTS } from '../../src/config.js';
import { EcrCredentialRefresh, type EcrCredentialRefreshProps } from '../../src/constructs/ecr-credential-refresh.js';
import { PROP_NAMES } from '../../src/options.js';
import { appliedObjects, byIdentity, find, type KubeObject, TEST_SCRIPTS } from '../helpers.js';

const OPTIONS = {
  schedule: '15 */4 * * *',
  namespace: 'platform-ecr',
  excludeNamespaces: ['kube-*'],
  registry: ['210987654321.dkr.ecr.eu-west-1.amazonaws.com'],
  watchNamespaces: true,
  gitops: 'argocd',
  prometheusRule: true,
} satisfies EcrCredentialRefreshProps;

function synth(props: EcrCredentialRefreshProps, chartNamespace?: string): KubeObject[] {
  const chart = new Chart(Testing.app(), 'apps', chartNamespace === undefined ? {} : { namespace: chartNamespace });
  new EcrCredentialRefresh(chart, 'ecr', props);
  return Testing.synth(chart) as KubeObject[];
}

function problemsOf(props: unknown): readonly string[] {
  try {
    new EcrCredentialRefresh(new Chart(new App(), 'c'), 'ecr', props as EcrCredentialRefreshProps);
  } catch (error) {
    if (error instanceof ConfigError) return error.problems;
    throw error;
  }
  throw new Error('expected a ConfigError');
}

describe('EcrCredentialRefresh in a chart of its caller', () => {
  test('renders exactly the objects the command does, whatever the chart hashes or namespace', () => {
    const expected = byIdentity(appliedObjects(OPTIONS));
    expect(find(expected, 'PrometheusRule').metadata.namespace).toBe('platform-ecr');
    expect(find(expected, 'Job').metadata.annotations).toHaveProperty(['argocd.argoproj.io/hook'], 'PostSync');
    expect(byIdentity(synth({ ...OPTIONS, scripts: TEST_SCRIPTS }))).toEqual(expected);
    expect(byIdentity(synth({ ...OPTIONS, scripts: TEST_SCRIPTS }, 'apps'))).toEqual(expected);
  });

  test('a chart namespace is not stamped on the Namespace, ClusterRole and ClusterRoleBinding', () => {
    const objects = synth({ scripts: TEST_SCRIPTS }, 'apps');
    for (const kind of ['Namespace', 'ClusterRole', 'ClusterRoleBinding']) {
      expect(find(objects, kind).metadata).not.toHaveProperty('namespace');
    }
    expect(find(objects, 'CronJob').metadata.namespace).toBe('ecr-updater');
  });

  test('without scripts it ships the refresh scripts of src/scripts, one ConfigMap key each', () => {
    const refresh = new EcrCredentialRefresh(new Chart(new App(), 'c'), 'ecr');
    const files = readdirSync(join(import.meta.dirname, '..', '..', 'src', 'scripts')).filter((name) =>
      name.endsWith('.sh'),
    );
    expect(Object.keys(refresh.scripts).sort()).toEqual(files.sort());
    const configMap = find(Testing.synth(Chart.of(refresh)) as KubeObject[], 'ConfigMap');
    expect(configMap.data).toEqual(refresh.scripts);
  });

  test('settings: the props with every default applied', () => {
    const refresh = new EcrCredentialRefresh(new Chart(new App(), 'c'), 'ecr', { schedule: '0 */4 * * *' });
    const defaults = Object.fromEntries(PROP_NAMES.map((name) => [name, DEFAULTS[name]]));
    expect(refresh.settings).toEqual({ ...defaults, schedule: '0 */4 * * *' });
  });
});

describe('two installs', () => {
  test('in one chart with the same namespace fail, naming the prop, before any object of the second exists', () => {
    const chart = new Chart(new App(), 'c');
    new EcrCredentialRefresh(chart, 'first', { scripts: TEST_SCRIPTS });
    let error: unknown;
    try {
      new EcrCredentialRefresh(chart, 'second', { scripts: TEST_SCRIPTS, registry: [] });
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as ConfigError).problems).toEqual([
      'namespace "ecr-updater" is already the namespace of the EcrCredentialRefresh at "c/first" in this chart. ' +
        'Every object of an install is named after its namespace (the ClusterRole and ClusterRoleBinding are ' +
        '"ecr-k8s-credentials-ecr-updater"), so the second would overwrite the first. Give each install a namespace ' +
        'of its own, e.g. "ecr-updater-2".',
    ]);
    expect(
      chart.node
        .findChild('second')
        .node.findAll()
        .filter((c) => ApiObject.isApiObject(c)),
    ).toEqual([]);
  });

  test('in one chart with two namespaces render no object name twice', () => {
    const chart = new Chart(new App(), 'c');
    new EcrCredentialRefresh(chart, 'a', { namespace: 'ecr-a', watchNamespaces: true, scripts: TEST_SCRIPTS });
    new EcrCredentialRefresh(chart, 'b', { namespace: 'ecr-b', watchNamespaces: true, scripts: TEST_SCRIPTS });
    const identities = (Testing.synth(chart) as KubeObject[]).map(
      (object) => `${object.kind}/${object.metadata.namespace ?? ''}/${object.metadata.name}`,
    );
    expect(new Set(identities).size).toBe(identities.length);
    expect(identities.filter((identity) => identity.startsWith('ClusterRole'))).toEqual([
      'ClusterRole//ecr-k8s-credentials-ecr-a',
      'ClusterRoleBinding//ecr-k8s-credentials-ecr-a',
      'ClusterRole//ecr-k8s-credentials-ecr-b',
      'ClusterRoleBinding//ecr-k8s-credentials-ecr-b',
    ]);
  });
});

describe('EcrCredentialRefresh rejects props a JavaScript caller got wrong', () => {
  test('a misspelt prop, with the one meant', () => {
    expect(problemsOf({ schedul: '0 */6 * * *' })).toEqual([
      'schedul is not a prop of EcrCredentialRefresh. Did you mean schedule?',
    ]);
  });

  test('the command-only outDir', () => {
    expect(problemsOf({ outDir: 'dist' })).toEqual(['outDir is not a prop of EcrCredentialRefresh.']);
  });

  test('a value of the wrong type', () => {
    expect(problemsOf({ networkPolicy: 'no', apiServerPort: '443' })).toEqual([
      'networkPolicy is "no"; it must be true or false.',
      'apiServerPort is "443"; it must be a number.',
    ]);
  });

  test('a single string for a list prop is a one-item list', () => {
    const refresh = new EcrCredentialRefresh(new Chart(new App(), 'c'), 'ecr', {
      excludeNamespaces: 'kube-*' as unknown as string[],
      scripts: TEST_SCRIPTS,
    });
    expect(refresh.settings.excludeNamespaces).toEqual(['kube-*']);
  });

  test('every broken rule in one error, before any object exists', () => {
    const chart = new Chart(new App(), 'c');
    expect(
      () => new EcrCredentialRefresh(chart, 'ecr', { schedule: '0 */13 * * *', namespace: 'kube-system' }),
    ).toThrow(ConfigError);
    expect(problemsOf({ schedule: '0 */13 * * *', namespace: 'kube-system' })).toHaveLength(2);
    expect(chart.node.findAll().filter((construct) => ApiObject.isApiObject(construct))).toEqual([]);
  });
});
