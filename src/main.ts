#!/usr/bin/env node
import { parseCli } from './cli.js';
import { ConfigError, resolveConfig } from './config.js';
import { loadConfigFile } from './config-file.js';
import { INJECTION_MINIMUM_KUBERNETES } from './constructs/pull-secret-injection-policy.js';
import { synthesize } from './synthesize.js';

/** CLI entry: parse -> resolve -> synthesize. Returns the exit code. */
export async function main(argv: readonly string[]): Promise<number> {
  const request = await parseCli(argv);
  if (request.kind === 'help') {
    console.log(request.text);
    return 0;
  }
  // `cdk8s synth` passes its output directory this way.
  const flags = { ...request.flags, outDir: request.flags.outDir ?? process.env.CDK8S_OUTDIR };
  const file = request.configPath === undefined ? undefined : loadConfigFile(request.configPath);
  const config = resolveConfig(flags, file);
  const written = synthesize(config);
  console.log(`Wrote ${written.length} files to ${config.outDir}/`);
  if (config.injectPullSecret) {
    // The API server refuses the file on older clusters; say so before anyone applies it.
    console.log(
      `note: 75-pull-secret-injection.yaml needs Kubernetes ${INJECTION_MINIMUM_KUBERNETES} or newer ` +
        `(MutatingAdmissionPolicy, admissionregistration.k8s.io/v1); on older clusters use --patch-service-accounts instead.`,
    );
  }
  return 0;
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    // Input problems are the user's to fix: print the message alone, no stack.
    if (error instanceof ConfigError) {
      console.error(error.problems.map((problem) => `error: ${problem}`).join('\n'));
      process.exitCode = 1;
    } else {
      console.error(error);
      process.exitCode = 70;
    }
  },
);
