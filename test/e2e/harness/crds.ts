import { requireContext } from './available.js';
import { cluster } from './cluster.js';

/** promtool (from the Prometheus Go module), for the alert rules. */
export function promtoolPath(): string {
  return requireContext().tools.promtool;
}

/**
 * Installs the cached CRDs (Argo CD Application, Flux Kustomization and GitRepository,
 * prometheus-operator PrometheusRule) and waits until the API server serves them. Idempotent:
 * every test file that needs them calls it.
 */
export async function installCrds(): Promise<void> {
  const { kubectl } = cluster();
  const files = requireContext().tools.crds;
  // Server-side: the largest CRDs are over the 256 KiB limit of the last-applied annotation.
  await kubectl(['apply', '--server-side', ...files.flatMap((file) => ['-f', file])]);
  const names = await kubectl(['get', ...files.flatMap((file) => ['-f', file]), '-o', 'name']);
  await kubectl(['wait', '--for=condition=Established', '--timeout=60s', ...names.stdout.trim().split('\n')]);
}
