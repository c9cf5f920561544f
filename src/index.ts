// The package's API for cdk8s apps. The command (src/main.ts) renders the same construct.
export { ConfigError } from './config.js';
export {
  AwsCredentialsSecretTemplate,
  type AwsCredentialsSecretTemplateProps,
} from './constructs/aws-credentials-secret-template.js';
export {
  EcrCredentialRefresh,
  type EcrCredentialRefreshProps,
  type RefreshSettings,
} from './constructs/ecr-credential-refresh.js';
export type { GitOpsTool } from './constructs/initial-refresh-job.js';
export type { RefreshScripts } from './constructs/refresh-script-config-map.js';
export type { AuthMode, RefreshOptions } from './options.js';
export { readRefreshScripts } from './refresh-scripts.js';
