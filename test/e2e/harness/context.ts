// What globalSetup (main vitest process) hands to the test files (workers) via provide/inject.
// Only plain data crosses that boundary: paths, URLs and the availability verdict.

export interface E2eAvailability {
  readonly ok: boolean;
  /** Why the suite cannot run; empty when ok. */
  readonly why: string;
}

export interface ClusterInfo {
  /** https://127.0.0.1:PORT */
  readonly server: string;
  readonly adminKubeconfig: string;
  /** CA that signed the API server's serving cert; ServiceAccount kubeconfigs trust it. */
  readonly caFile: string;
  /** The run's temp dir; removed at teardown. */
  readonly workDir: string;
}

export interface ToolPaths {
  /** kubectl built at the API server's version; cluster().kubectl runs it. */
  readonly kubectl: string;
  /** kubectl the scripts get on PATH (the machine's, closest to alpine/k8s' 1.30). */
  readonly scriptKubectl: string;
  readonly busybox: string;
  /** Directory of busybox applet symlinks. */
  readonly busyboxDir: string;
  /** Directory holding kubectl, aws and jq for scripts. */
  readonly scriptToolsDir: string;
  /** Python of the venv that has moto and the aws CLI. */
  readonly python: string;
  /** promtool, for the alert rules. */
  readonly promtool: string;
  /** CRD files of Argo CD, Flux and prometheus-operator (scripts/fetch-crds.sh). */
  readonly crds: readonly string[];
}

export interface E2eContext {
  readonly available: E2eAvailability;
  readonly cluster: ClusterInfo | null;
  readonly tools: ToolPaths | null;
}

declare module 'vitest' {
  export interface ProvidedContext {
    ecrE2e: E2eContext;
  }
}

export const PROVIDE_KEY = 'ecrE2e';
