// The e2e harness: one real control plane per run (started in global-setup.ts), moto on demand,
// and an Alpine-like busybox environment for the shell scripts. Test files import only this.
export type { KubectlResult, KubectlOptions, Cluster } from './cluster.js';
export { cluster } from './cluster.js';
export type { Moto, MotoOptions, MotoStats } from './moto.js';
export { startMoto } from './moto.js';
export { busyboxPath, scriptEnv, runBusyboxScript } from './busybox.js';
export { e2eAvailable } from './available.js';
export type { BundleObject } from './bundle.js';
export {
  DIST_DIR,
  SCRIPT_KEY,
  synthBundle,
  loadBundle,
  bundleObject,
  writeScriptFiles,
  renderedContainer,
  renderedSettings,
} from './bundle.js';
export type { AuditedRun, AuditOptions } from './argv-audit.js';
export { runWithArgvAudit } from './argv-audit.js';
export { SERVICE_ACCOUNT_ISSUER } from './control-plane.js';
export { startForwarder, startProxy, type Forwarder, type Proxy } from './proxy.js';
export { createServingCert } from './pki.js';
export { installCrds, promtoolPath } from './crds.js';
export { startApiFront, type ApiFront, type FrontAnswer } from './api-front.js';
export { writeKubeconfig } from './kubeconfig.js';
export { run, type RunResult } from './process.js';
export { requireContext } from './available.js';
export { accountingErrors, parseLogfmt, type LogRecord } from './results.js';
